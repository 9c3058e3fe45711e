package middleware

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/personalize"
)

// offlineClient makes a client of key123 for an API that cannot be reached, closed when the
// test ends.
func offlineClient(t *testing.T, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	pc, err := personalize.New("key123", append([]personalize.Option{personalize.WithBaseURL("http://127.0.0.1:1")}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pc.Close(context.Background()) })
	return pc
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	key32 := bytes.Repeat([]byte("k"), 32)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{name: "cookie name", opts: Options{CookieName: "bad name"}, want: "cookie name"},
		{name: "legacy cookie name", opts: Options{LegacyCookieNames: []string{"a;b"}}, want: "legacy cookie name"},
		{name: "domain", opts: Options{CookieDomain: "exa mple.com"}, want: "cookie domain"},
		{name: "max age", opts: Options{CookieMaxAge: time.Millisecond}, want: "cookie max age"},
		{name: "negative max age", opts: Options{CookieMaxAge: -time.Hour}, want: "cookie max age"},
		{name: "samesite none without secure", opts: Options{SameSite: http.SameSiteNoneMode}, want: "SameSite=None"},
		{name: "unknown samesite", opts: Options{SameSite: 9}, want: "SameSite"},
		{name: "unknown secure mode", opts: Options{Secure: 7}, want: "secure mode"},
		{name: "unknown strategy", opts: Options{BrowserIDs: 7}, want: "strategy"},
		{name: "session name", opts: Options{SessionName: "a=b"}, want: "session name"},
		{name: "session name equals cookie name", opts: Options{SessionName: "bid_key123"}, want: "both"},
		{name: "visit timeout", opts: Options{VisitTimeout: -time.Minute}, want: "visit timeout"},
		{name: "cache control", opts: Options{CacheControl: "private\r\nX-Evil: 1"}, want: "cache control"},
		{name: "short key", opts: Options{SessionKeys: [][]byte{[]byte("short")}}, want: "at least 32"},
		{name: "short rotated key", opts: Options{SessionKeys: [][]byte{key32, nil, []byte("short")}}, want: "session key 2"},
		{name: "bad encryption key", opts: Options{SessionKeys: [][]byte{key32, bytes.Repeat([]byte("e"), 20)}}, want: "encryption keys"},
		{name: "keys and store", opts: Options{SessionKeys: [][]byte{key32}, SessionStore: sessions.NewCookieStore(key32)}, want: "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := New(offlineClient(t), tt.opts)
			require.Error(t, err)
			assert.Nil(t, mw)
			assert.True(t, strings.HasPrefix(err.Error(), "middleware: "), err.Error())
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := New(nil, Options{})
	assert.ErrorContains(t, err, "middleware: a nil or zero personalize client")
}

func TestNewAcceptsValidOptions(t *testing.T) {
	key32 := bytes.Repeat([]byte("k"), 32)
	tests := []struct {
		name string
		opts Options
	}{
		{name: "zero"},
		{name: "keys", opts: Options{SessionKeys: [][]byte{bytes.Repeat([]byte("h"), 64), key32}}},
		{name: "hash key only", opts: Options{SessionKeys: [][]byte{key32}}},
		{name: "rotation", opts: Options{SessionKeys: [][]byte{key32, key32, key32, nil}}},
		{name: "store", opts: Options{SessionStore: sessions.NewCookieStore(key32)}},
		{name: "samesite none", opts: Options{SameSite: http.SameSiteNoneMode, Secure: SecureAlways}},
		{name: "dot domain", opts: Options{CookieDomain: ".example.com"}},
		{name: "legacy same as name ignored", opts: Options{LegacyCookieNames: []string{"bid_key123", "BID_key123"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := New(offlineClient(t), tt.opts)
			require.NoError(t, err)
			assert.NotNil(t, mw)
		})
	}
}

func TestZeroOptionsWarnAboutRandomKeys(t *testing.T) {
	var buf lockedBuffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	_, err := New(offlineClient(t), Options{Logger: logger})
	require.NoError(t, err)
	assert.Contains(t, buf.String(), "level=WARN")
	assert.Contains(t, buf.String(), "random session keys")

	var quiet lockedBuffer
	_, err = New(offlineClient(t), Options{Logger: slog.New(slog.NewTextHandler(&quiet, nil)), SessionKeys: testKeys})
	require.NoError(t, err)
	assert.Empty(t, quiet.String())
}

func TestDefaults(t *testing.T) {
	mw, err := New(offlineClient(t), Options{SessionKeys: testKeys})
	require.NoError(t, err)
	assert.Equal(t, "bid_key123", mw.cfg.cookieName)
	assert.Equal(t, 63072000, mw.cfg.maxAge)
	assert.Equal(t, http.SameSiteLaxMode, mw.cfg.sameSite)
	assert.Equal(t, 1800, mw.cfg.visitTimeout)
	assert.Equal(t, DefaultSessionName, mw.cfg.sessionName)
	assert.Equal(t, DefaultCacheControl, mw.cfg.cacheControl)
}
