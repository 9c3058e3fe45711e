package personalize

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzEncodeEvent feeds the event encoder (what SendEvent and Track send) names and values as a visitor's URL or a caller may
// supply them: the result is an invalid-request error or one JSON object whose top-level keys
// are unique and whose base fields no extra field replaced.
func FuzzEncodeEvent(f *testing.F) {
	f.Add("ADD_TO_CART", "productSku", "BAG", "campaign", "summer", "value", "35")
	f.Add("VIEW", "pageVariantId", "v2", "Campaign", "x", "browser_id", "x")
	f.Add("X", "a", "\x00\"}", "utm_source", "\xff", "utm_x", "{")
	f.Add("X", "ok", "v", "CAMPAIGN", "a", "", "")
	f.Add("X", "a", "\xfc", "", "", "0", "")
	const seedClientKey, seedBrowserID = "abBah8aelipaPeebae7roox2tiexoSee", "a38b230c-11eb-4cf9-8d5d-274e9f344925"
	c, err := New(seedClientKey, WithPointOfSale("site/ie"))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, typ, extKey, extVal, utmKey, utmVal, dataKey, dataVal string) {
		ev := Event{
			Type:      typ,
			BrowserID: seedBrowserID,
			Page:      "/p",
			Ext:       map[string]any{extKey: extVal},
			UTM:       map[string]string{utmKey: utmVal, "campaign": "fixed"},
			Data:      map[string]any{dataKey: dataVal},
		}
		raw, err := c.encodeEvent(&ev, time.Now())
		if err != nil {
			assert.ErrorIs(t, err, ErrInvalidRequest)
			return
		}
		require.LessOrEqual(t, len(raw), maxEventSize)
		keys := topLevelKeys(t, raw)
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		assert.Len(t, m, len(keys), "no top-level key is repeated: %s", raw)
		assert.Equal(t, typ, m["type"])
		assert.Equal(t, seedBrowserID, m["browser_id"])
		assert.Equal(t, seedClientKey, m["client_key"])
		assert.Equal(t, "site/ie", m["pos"])
		if utf8.ValidString(extVal) { // encoding/json replaces invalid bytes with U+FFFD
			assert.Equal(t, map[string]any{extKey: extVal}, m["ext"])
		}
	})
}

// topLevelKeys lists the keys of a JSON object, repeats included.
func topLevelKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, tok.(string))
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
	}
	return keys
}
