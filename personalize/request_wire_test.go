package personalize

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzFlowBodyJSON: a flow call's body is appended as json.Marshal encodes it, whichever of
// its optional fields are set and whatever their strings hold.
func FuzzFlowBodyJSON(f *testing.F) {
	for _, s := range jsonStringSeeds {
		f.Add(s, s, uint8(0xff))
	}
	f.Add("", "", uint8(0))
	f.Add("EN", "home_hero", uint8(0b0101))
	f.Fuzz(func(t *testing.T, s, friendlyID string, set uint8) {
		opt := func(bit uint, v string) string {
			if set&(1<<bit) != 0 {
				return v
			}
			return ""
		}
		b := callFlowsBody{ClientKey: s, Channel: "WEB", Language: opt(0, s), CurrencyCode: opt(1, "EUR"),
			PointOfSale: opt(2, s), BrowserID: opt(3, "a38b230c-11eb-4cf9-8d5d-274e9f344925"), Email: opt(4, s),
			FriendlyID: friendlyID, GuestRef: opt(5, s)}
		if set&(1<<6) != 0 {
			b.Identifiers = &identifiers{ID: s, Provider: friendlyID}
			b.Variants = []string{s, friendlyID}
		}
		if set&(1<<7) != 0 {
			b.Params = map[string]any{s: friendlyID, "utm": map[string]any{"campaign": s}, "n": 1.5}
		}
		want, err := json.Marshal(&b)
		require.NoError(t, err)
		got, err := b.appendJSON([]byte("x"))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got[1:]))
	})
}

// TestFlowBodyParamsJSONCannotHold: params JSON cannot hold are refused before any network
// traffic, as json.Marshal refuses them.
func TestFlowBodyParamsJSONCannotHold(t *testing.T) {
	c, err := New("key", WithPointOfSale("site/ie"))
	require.NoError(t, err)
	req := FlowRequest{FriendlyID: "home_hero", Identity: ByBrowserID("a38b230c-11eb-4cf9-8d5d-274e9f344925"),
		Params: map[string]any{"ratio": math.NaN()}}
	_, err = c.payload(&req)
	require.ErrorIs(t, err, ErrInvalidRequest)
	require.ErrorContains(t, err, "params cannot be encoded as JSON")
}

// TestFlowBodyCapacity: a body whose strings need no escaping is appended into one buffer
// of its length or a little more: no growth, and no waste to speak of.
func TestFlowBodyCapacity(t *testing.T) {
	full := callFlowsBody{ClientKey: "key", Channel: "WEB", Language: "EN", CurrencyCode: "EUR", PointOfSale: "site/ie",
		Email: "a@example.com", Identifiers: &identifiers{ID: "1", Provider: "crm"}, FriendlyID: "home_hero",
		GuestRef: "g", Variants: []string{"a", "b"}, Params: map[string]any{"utm": map[string]any{"campaign": "x"}}}
	least := callFlowsBody{ClientKey: "key", Channel: "WEB", PointOfSale: "site/ie", FriendlyID: "home_hero"}
	for _, b := range []callFlowsBody{full, least} {
		got, err := b.appendJSON(nil)
		require.NoError(t, err)
		require.GreaterOrEqual(t, cap(got), len(got))
		require.LessOrEqual(t, cap(got)-len(got), 64, "%s", got)
	}
}
