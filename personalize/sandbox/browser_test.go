package sandbox

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBrowserCreate(t *testing.T) {
	srv := start(t)
	tests := []struct {
		name   string
		method string
		query  string
		status int
		code   string
	}{
		{"created", http.MethodGet, "?client_key=" + DefaultClientKey + "&message=%7B%7D", 200, ""},
		{"without message", http.MethodGet, "?client_key=" + DefaultClientKey, 200, ""},
		{"missing key", http.MethodGet, "?message=%7B%7D", 401, CodeInvalidClientKey},
		{"unknown key", http.MethodGet, "?client_key=nope", 401, CodeInvalidClientKey},
		{"post", http.MethodPost, "?client_key=" + DefaultClientKey, 405, CodeMethodNotAllowed},
	}
	created := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, srv, tc.method, PathBrowserCreate+tc.query, "", "")
			require.Equal(t, tc.status, resp.StatusCode, "%s", b)
			if tc.status != 200 {
				e := errorBody(t, b)
				assert.Equal(t, tc.code, e.Code)
				assert.Equal(t, tc.status, e.Status)
				return
			}
			created++
			got := decode[map[string]string](t, b)
			assert.Equal(t, "OK", got["status"])
			assert.Equal(t, "1.2", got["version"])
			assert.Equal(t, DefaultClientKey, got["client_key"])
			ref, err := uuid.Parse(got["ref"])
			require.NoError(t, err)
			assert.Equal(t, uuid.Version(4), ref.Version())
			_, err = uuid.Parse(got["customer_ref"])
			require.NoError(t, err)
			assert.NotEqual(t, got["ref"], got["customer_ref"])
			assert.True(t, srv.Sandbox.KnowsBrowser(got["ref"]))
			browsers := srv.Sandbox.Browsers()
			assert.Equal(t, got["ref"], browsers[len(browsers)-1])
		})
	}
	assert.Len(t, srv.Sandbox.Browsers(), created)
	assert.False(t, srv.Sandbox.KnowsBrowser(testBrowserID))
}

func TestAddBrowser(t *testing.T) {
	sb := New()
	sb.AddBrowser(testBrowserID)
	assert.True(t, sb.KnowsBrowser(testBrowserID))
	assert.Empty(t, sb.Browsers())
}
