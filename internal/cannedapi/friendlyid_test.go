package cannedapi

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFriendlyID(t *testing.T) {
	for _, tc := range []struct {
		body string
		id   string
		ok   bool
	}{
		{`{"clientKey":"k","channel":"WEB","browserId":"b","friendlyId":"home_page_banner","params":{"a":1}}`, "home_page_banner", true},
		{` { "friendlyId" : "x" } `, "x", true},
		{`{"friendlyId":"a","friendlyId":"b"}`, "b", true},
		{`{"friendly\u0049d":"esc"}`, "esc", true},
		{`{"friendlyId":"caf\u00e9"}`, "café", true},
		{`{"params":{"friendlyId":"nested"}}`, "", false},
		{`{"params":["friendlyId","x"],"friendlyId":"top"}`, "top", true},
		{`{"note":"\"friendlyId\":\"fake\"","friendlyId":"real"}`, "real", true},
		{`{"friendlyId":null}`, "", false},
		{`{"friendlyId":1}`, "", false},
		{`{"friendlyId":"a","friendlyId":2}`, "", false},
		{`{}`, "", false},
		{`[]`, "", false},
		{``, "", false},
		{`{"friendlyId":"x"`, "", false},
		{`{"friendlyId":"x"} {}`, "", false},
		{`{"friendlyId":"unterminated}`, "", false},
	} {
		id, ok := FriendlyID([]byte(tc.body))
		assert.Equal(t, tc.ok, ok, tc.body)
		assert.Equal(t, tc.id, id, tc.body)
	}
}

// FuzzFriendlyID checks FriendlyID against encoding/json on every valid JSON object, and
// that it never panics on anything else.
func FuzzFriendlyID(f *testing.F) {
	for _, s := range []string{
		`{"clientKey":"k","channel":"WEB","language":"EN","currencyCode":"EUR","pointOfSale":"p","browserId":"a38b230c-11eb-4cf9-8d5d-274e9f344925","friendlyId":"home_page_banner","params":{"utm":{"campaign":"x"}}}`,
		`{"friendlyId":"a","friendlyId":"b"}`, `{"friendly\u0049d":"\ud83d\ude00"}`, `{"x":[1,{"y":"}"}],"friendlyId":"z"}`,
		`{"friendlyId":"\xff"}`, `{"friendlyId":null}`, `{"a":true,"b":-1.5e3,"friendlyId":"q"}`, `{"friendlyId":"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, ok := FriendlyID(body)
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			return // not a JSON object: any answer will do, but no panic
		}
		raw, has := m["friendlyId"]
		var want string
		wantOK := has && len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &want) == nil
		if ok != wantOK || id != want {
			t.Fatalf("FriendlyID(%q) = %q, %v; encoding/json: %q, %v", body, id, ok, want, wantOK)
		}
	})
}
