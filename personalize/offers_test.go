package personalize_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/go-personalize/sdk/personalize"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// offersOf reads the offers of an answer as a flow's result does.
func offersOf(raw string) []personalize.Offer {
	return (&personalize.Result{Raw: json.RawMessage(raw)}).Offers()
}

func TestOffersShapes(t *testing.T) {
	seed, err := os.ReadFile(filepath.Join("testdata", "seed", "response_offers.json"))
	require.NoError(t, err)
	tests := []struct {
		name  string
		raw   string
		names []string
	}{
		{"top-level array (the seed)", string(seed), []string{"Ancillary bundle", "Ancillary seat", "Ancillary bag", "Ancillary insurance"}},
		{"object holding offers", `{"title":"t","offers":[{"name":"a"},{"name":"b"}]}`, []string{"a", "b"}},
		{"object holding decisions, key case ignored", `{"Decisions":[{"NAME":"a"}]}`, []string{"a"}},
		{"object holding an array under another key", `{"meta":{"x":1},"zzz":[{"name":"z"}]}`, []string{"z"}},
		{"single offer object", `{"name":"Solo","trackingUrl":"https://t/1"}`, []string{"Solo"}},
		{"array skipping non-objects", `[1,"x",{"name":"ok"},null,{}]`, []string{"ok"}},
		{"title instead of name", `[{"title":"T"}]`, []string{"T"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offers := offersOf(tt.raw)
			var names []string
			for _, o := range offers {
				names = append(names, o.Name())
			}
			assert.Equal(t, tt.names, names)
		})
	}
}

// The well-known keys of an object holding offers (offers, decisions, items, results, data)
// win over any other array, whatever their case; among them, in that order.
func TestOffersUnderWellKnownKeysInAnyCase(t *testing.T) {
	for _, key := range []string{"offers", "Offers", "OFFERS", "decisions", "Decisions", "DECISIONS", "items", "Items", "iTeMs",
		"results", "Results", "RESULTS", "data", "Data", "DATA"} {
		t.Run(key, func(t *testing.T) {
			// "AAA" and "0" sort before any of them: without the well-known key, they would be chosen.
			raw := `{"0":[{"name":"zero"}],"AAA":[{"name":"decoy"}],"` + key + `":[{"name":"right"},{"name":"too"}]}`
			var names []string
			for _, o := range offersOf(raw) {
				names = append(names, o.Name())
			}
			assert.Equal(t, []string{"right", "too"}, names)
		})
	}
	for raw, want := range map[string]string{
		`{"DATA":[{"name":"data"}],"Results":[{"name":"results"}],"ITEMS":[{"name":"items"}],"decisions":[{"name":"decisions"}],"Offers":[{"name":"offers"}]}`: "offers",
		`{"DATA":[{"name":"data"}],"Results":[{"name":"results"}],"ITEMS":[{"name":"items"}],"Decisions":[{"name":"decisions"}]}`:                              "decisions",
		`{"DATA":[{"name":"data"}],"Results":[{"name":"results"}],"Items":[{"name":"items"}]}`:                                                                 "items",
		`{"DATA":[{"name":"data"}],"RESULTS":[{"name":"results"}]}`:                                                                                            "results",
		`{"Offers":[1,2],"Data":[{"name":"data"}]}`:                                                                                                            "data",
	} {
		offers := offersOf(raw)
		if assert.Len(t, offers, 1, raw) {
			assert.Equal(t, want, offers[0].Name(), raw)
		}
	}
}

func TestOffersOfJunk(t *testing.T) {
	for _, raw := range []string{
		``, `   `, `null`, `true`, `42`, `"offer"`, `[]`, `{}`, `[1,2,3]`, `[[{"name":"nested too deep"}]]`,
		`{"status":500,"code":"E","message":"boom"}`, `not json`, `[{"name":"a"}] trailing`, `{"name":`,
	} {
		t.Run(raw, func(t *testing.T) {
			assert.Empty(t, offersOf(raw))
		})
	}
}

func TestOfferWellKnownFields(t *testing.T) {
	offers := offersOf(`[{
		"TrackingURL": "https://api/v3/trackers/abc",
		"Name": "Seat",
		"imageURLForTesting": "https://img/seat.png",
		"Description": "Extra legroom",
		"price": 12.50,
		"nonDependent": "false",
		"available": true,
		"tags": ["a"]
	}]`)
	require.Len(t, offers, 1)
	o := offers[0]
	assert.Equal(t, "https://api/v3/trackers/abc", o.TrackingURL())
	assert.Equal(t, "Seat", o.Name())
	assert.Equal(t, "https://img/seat.png", o.ImageURL())
	assert.Equal(t, "Extra legroom", o.Description())
	assert.Equal(t, "12.50", o.Text("price"), "numbers keep their JSON text")
	price, _ := o.Get("price")
	assert.Equal(t, json.Number("12.50"), price)
	assert.Equal(t, "false", o.Text("nondependent"))
	assert.Equal(t, "true", o.Text("available"))
	assert.Equal(t, "", o.Text("tags"), "non-scalars have no string form")
	assert.Equal(t, "", o.Text("missing"))
	assert.Equal(t, []string{"Description", "Name", "TrackingURL", "available", "imageURLForTesting", "nonDependent", "price", "tags"}, slices.Sorted(maps.Keys(o.Fields())))

	fields := o.Fields()
	fields["Name"] = "changed"
	assert.Equal(t, "Seat", o.Name(), "Fields returns a copy")
}

// Text and Get find the offer's own member: not a value equal to the key, nor a member of an
// object inside it; keys with escapes are matched decoded; of a key sent twice the last
// counts; without the exact key, the smallest key equal in another case wins.
func TestOfferTextFindsTheOffersOwnMember(t *testing.T) {
	for _, tt := range []struct {
		raw, key, want string
		found          bool
	}{
		{`{"a":"price","b":{"price":"nested"},"c":["price",{"price":1}],"price":"real"}`, "price", "real", true},
		{`{"a":"price","b":{"price":"nested"}}`, "price", "", false},
		{`{"b":{"Price":"nested"},"z":"x"}`, "price", "", false},
		{`{"na\u006de":"escaped","x":1}`, "name", "escaped", true},
		{`{"na\u006de":"escaped","x":1}`, "NAME", "escaped", true},
		{`{"\"price\"":"quoted","price":"plain"}`, `"price"`, "quoted", true},
		{`{"price":"1","x":2,"price":"2"}`, "price", "2", true},
		{`{"Price":"b","PRICE":"a"}`, "price", "a", true},
		{`{"Price":"b","price":"x","PRICE":"a"}`, "price", "x", true},
		{`{"price":"x","PRICE":"a"}`, "PRICE", "a", true},
		{`{"PRICE":"a","Price":"b","PRICE":"c"}`, "price", "c", true},
		{`{"price":"a\"b \u00e9"}`, "price", "a\"b é", true},
		{`{"price":-1.50e2}`, "PRICE", "-1.50e2", true},
		{`{"price":null}`, "price", "", true},
		{`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11}`, "k", "11", true},
		{`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11}`, "A", "1", true},
		{`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11}`, "ba", "", false},
	} {
		offers := offersOf(`[` + tt.raw + `]`)
		require.Len(t, offers, 1, tt.raw)
		o := offers[0]
		assert.Equal(t, tt.want, o.Text(tt.key), "Text(%q) of %s", tt.key, tt.raw)
		v, ok := o.Get(tt.key)
		assert.Equal(t, tt.found, ok, "Get(%q) of %s", tt.key, tt.raw)
		// The same as an offer made in code of its fields.
		ref := personalize.NewOffer(o.Fields())
		refV, refOK := ref.Get(tt.key)
		assert.Equal(t, refOK, ok, "Get(%q) of %s", tt.key, tt.raw)
		assert.Equal(t, refV, v, "Get(%q) of %s", tt.key, tt.raw)
		assert.Equal(t, ref.Text(tt.key), o.Text(tt.key), "Text(%q) of %s", tt.key, tt.raw)
	}
}

func TestOfferPrefersImageURLOverTestingImage(t *testing.T) {
	o := personalize.NewOffer(map[string]any{"imageURLForTesting": "test.png", "imageUrl": "real.png"})
	assert.Equal(t, "real.png", o.ImageURL())
}

func TestResultDecoding(t *testing.T) {
	res := &personalize.Result{Raw: json.RawMessage(`{"variantId":"v1","score":3}`)}
	type decision struct {
		VariantID string `json:"variantId"`
		Score     int    `json:"score"`
	}
	var d decision
	require.NoError(t, res.Decode(&d))
	assert.Equal(t, decision{"v1", 3}, d)

	var wrong []string
	assert.ErrorIs(t, res.Decode(&wrong), personalize.ErrMalformedResponse)

	var nilRes *personalize.Result
	assert.ErrorIs(t, nilRes.Decode(&d), personalize.ErrMalformedResponse)
	assert.True(t, nilRes.Empty())
	assert.Nil(t, nilRes.Offers())
}

func TestResultEmpty(t *testing.T) {
	for raw, want := range map[string]bool{
		`null`: true, `{}`: true, ` [] `: true, `""`: true, "{ }": true, "[\n  ]": true, "{\r\n}": true, "\t[ ]\n": true,
		`[{}]`: false, `{"a":1}`: false, `" "`: false, `0`: false, `false`: false, `junk`: false,
	} {
		assert.Equal(t, want, (&personalize.Result{Raw: json.RawMessage(raw)}).Empty(), raw)
	}
}

// FuzzParseOffers: no input makes offer parsing or reading panic.
func FuzzParseOffers(f *testing.F) {
	seed, _ := os.ReadFile(filepath.Join("testdata", "seed", "response_offers.json"))
	for _, s := range []string{string(seed), `{"offers":[{"name":1}]}`, `{"status":"500","message":1}`, `[{"trackingUrl":null}]`, `{`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		res := &personalize.Result{Raw: raw}
		for _, o := range res.Offers() {
			_ = o.TrackingURL() + o.Name() + o.ImageURL() + o.Description() + o.URL()
			for k := range o.Fields() {
				_ = o.Text(k)
				_, _ = o.Get(k)
			}
		}
		_ = res.Empty()
		var v any
		_ = res.Decode(&v)
	})
}

// An offer made in code with an empty key has no other key for it: a key it lacks is not
// found, and its text is "".
func TestNewOfferWithAnEmptyKeyLacksOtherKeys(t *testing.T) {
	o := personalize.NewOffer(map[string]any{"": "empty key", "name": "Seat"})
	v, ok := o.Get("price")
	assert.False(t, ok)
	assert.Nil(t, v)
	assert.Empty(t, o.Text("price"))
	v, ok = o.Get("")
	assert.True(t, ok)
	assert.Equal(t, "empty key", v)
	assert.Equal(t, "Seat", o.Text("NAME"))
}
