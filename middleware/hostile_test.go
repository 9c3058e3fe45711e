package middleware

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/browserid"
)

// TestHostileInput sends bad cookies, sessions and UTM parameters: none is a 500, none
// reaches the API, and the page renders.
func TestHostileInput(t *testing.T) {
	bid := bidName(t)
	otherKeys := securecookie.New([]byte(strings.Repeat("o", 64)), nil)
	foreignSession, err := otherKeys.Encode(DefaultSessionName, map[any]any{"utm": "utm_campaign=evil"})
	require.NoError(t, err)
	ours := securecookie.New(testKeys[0], testKeys[1]).SetSerializer(stringCodec{})
	hostileUTM, err := ours.Encode(DefaultSessionName, map[any]any{"utm": "utm_campaign=%ff&utm_<b>=1&utm_source=" + strings.Repeat("x", 900)})
	require.NoError(t, err)
	notOurFormat, err := securecookie.New(testKeys[0], testKeys[1]).Encode(DefaultSessionName, map[any]any{"utm": "utm_campaign=gob"})
	require.NoError(t, err)
	// A store of the site's own (gob, like most gorilla stores) holding values of other types.
	gobStore := sessions.NewCookieStore(testKeys...)
	wrongType, err := securecookie.New(testKeys[0], testKeys[1]).Encode(DefaultSessionName, map[any]any{"utm": 42, "landing_referrer": []int{1}})
	require.NoError(t, err)

	tests := []struct {
		name    string
		cookie  string
		query   string
		opts    Options
		keepID  bool // the cookie's ID is used
		wantUTM map[string]string
	}{
		{name: "tampered ID", cookie: bid + "=0f8fad5b-d9cb-469f-a165-70867728950z"},
		{name: "overlong ID", cookie: bid + "=" + validID + validID},
		{name: "huge ID", cookie: bid + "=" + strings.Repeat("9", 3000)},
		{name: "empty ID", cookie: bid + "="},
		{name: "foreign ID", cookie: bid + "=GA1.2.1234567890.1234567890"},
		{name: "ID with injection", cookie: bid + `="` + validID + `\"; Path=/x`},
		{name: "valid ID", cookie: bid + "=" + validID, keepID: true},
		{name: "undecodable session", cookie: DefaultSessionName + "=garbage!!"},
		{name: "base64 session", cookie: DefaultSessionName + "=" + base64.URLEncoding.EncodeToString([]byte("hello|1|x"))},
		{name: "huge session", cookie: DefaultSessionName + "=" + strings.Repeat("A", 8000)},
		{name: "session with other keys", cookie: DefaultSessionName + "=" + foreignSession},
		{name: "session in another format", cookie: DefaultSessionName + "=" + notOurFormat},
		{name: "session with wrong value types", cookie: DefaultSessionName + "=" + wrongType, opts: Options{SessionStore: gobStore}},
		{name: "session with hostile utm", cookie: DefaultSessionName + "=" + hostileUTM,
			wantUTM: map[string]string{"source": strings.Repeat("x", MaxUTMValueBytes)}},
		{name: "malformed escape", query: "utm_campaign=%zz&utm_source=%"},
		{name: "invalid utf-8", query: "utm_campaign=%C0%AF"},
		{name: "double encoded", query: "utm_campaign=a%2526b", wantUTM: map[string]string{"campaign": "a%26b"}},
		{name: "huge value", query: "utm_campaign=" + strings.Repeat("z", 5000), wantUTM: map[string]string{"campaign": strings.Repeat("z", 256)}},
		{name: "hundreds of keys", query: strings.Repeat("utm_k=1&", 500) + "utm_source=last", wantUTM: map[string]string{"k": "1", "source": "last"}},
		{name: "script", query: "utm_content=%3Cscript%3E", wantUTM: map[string]string{"content": "<script>"}},
		{name: "header injection", query: "utm_campaign=a%0D%0ASet-Cookie:%20x=1"},
		{name: "semicolons", query: "utm_campaign=a;utm_source=b", wantUTM: map[string]string{"campaign": "a;utm_source=b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSite(t, tt.opts)
				for _, path := range []string{"/static", "/flow"} {
					req := httptest.NewRequest(http.MethodGet, "/x", nil)
					req.URL.RawQuery = tt.query
					req.URL.Path = path
					req.Header.Set("User-Agent", browserUA)
					if tt.cookie != "" {
						req.Header.Set("Cookie", tt.cookie)
					}
					rec := httptest.NewRecorder()
					require.NotPanics(t, func() { s.mw.Handler(testRoutes()).ServeHTTP(rec, req) })
					require.Equal(t, http.StatusOK, rec.Code, path)
				}
				cs := calls(s)
				require.Len(t, cs, 1)
				got := cs[0].Request.BrowserID
				assert.True(t, browserid.Valid(got))
				if tt.keepID {
					assert.Equal(t, validID, got)
					assert.Empty(t, s.sb.Browsers())
				} else {
					assert.Equal(t, s.sb.Browsers(), []string{got}, "a new ID replaces a bad one")
				}
				utm := utmOf(t, cs[0])
				assert.Len(t, utm, len(tt.wantUTM))
				for k, v := range tt.wantUTM {
					assert.Equal(t, v, utm[k], k)
				}
				assert.NotContains(t, string(cs[0].Body), "evil")
			})
		})
	}
}
