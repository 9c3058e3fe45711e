package middleware

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
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

// New refuses a client it cannot use with an error, rather than a panic on the first request.
func TestNewRefusesAZeroClient(t *testing.T) {
	for _, tt := range []struct {
		name   string
		client *personalize.Client
	}{
		{name: "nil", client: nil},
		{name: "zero", client: &personalize.Client{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mw  *Middleware
				err error
			)
			require.NotPanics(t, func() { mw, err = New(tt.client, Options{SessionKeys: testKeys}) })
			require.Error(t, err)
			assert.Nil(t, mw)
			assert.ErrorContains(t, err, "middleware: a nil or zero personalize client")
			assert.ErrorContains(t, err, "personalize.New", "it says what to do")
		})
	}
}

// Valid options are accepted, and they are the ones the middleware then uses.
func TestNewAcceptsValidOptions(t *testing.T) {
	key32 := bytes.Repeat([]byte("k"), 32)
	hash64 := bytes.Repeat([]byte("h"), 64)
	store := sessions.NewCookieStore(key32)
	// reads reports whether the middleware's store reads a session cookie made by codec.
	reads := func(t *testing.T, mw *Middleware, codec *securecookie.SecureCookie) bool {
		t.Helper()
		v, err := codec.SetSerializer(stringCodec{}).Encode(DefaultSessionName, map[any]any{"utm": "utm_campaign=x"})
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(&http.Cookie{Name: DefaultSessionName, Value: v})
		sess, err := mw.cfg.store.Get(req, DefaultSessionName)
		return err == nil && sess.Values["utm"] == "utm_campaign=x"
	}
	tests := []struct {
		name  string
		opts  Options
		check func(t *testing.T, mw *Middleware)
	}{
		{name: "zero", check: func(t *testing.T, mw *Middleware) {
			assert.True(t, mw.cfg.generatedKey, "random keys")
			assert.IsType(t, &sessions.CookieStore{}, mw.cfg.store)
			assert.False(t, reads(t, mw, securecookie.New(testKeys[0], testKeys[1])))
		}},
		{name: "keys", opts: Options{SessionKeys: [][]byte{hash64, key32}}, check: func(t *testing.T, mw *Middleware) {
			assert.False(t, mw.cfg.generatedKey)
			assert.True(t, reads(t, mw, securecookie.New(hash64, key32)))
			assert.False(t, reads(t, mw, securecookie.New(hash64, nil)), "the cookies must be encrypted")
		}},
		{name: "hash key only", opts: Options{SessionKeys: [][]byte{key32}}, check: func(t *testing.T, mw *Middleware) {
			assert.True(t, reads(t, mw, securecookie.New(key32, nil)), "signed, not encrypted")
		}},
		{name: "rotation", opts: Options{SessionKeys: [][]byte{key32, key32, hash64, nil}}, check: func(t *testing.T, mw *Middleware) {
			assert.True(t, reads(t, mw, securecookie.New(key32, key32)))
			assert.True(t, reads(t, mw, securecookie.New(hash64, nil)), "the second pair, without encryption")
		}},
		{name: "store", opts: Options{SessionStore: store}, check: func(t *testing.T, mw *Middleware) {
			assert.Same(t, store, mw.cfg.store)
			assert.False(t, mw.cfg.generatedKey)
		}},
		{name: "samesite none", opts: Options{SameSite: http.SameSiteNoneMode, Secure: SecureAlways}, check: func(t *testing.T, mw *Middleware) {
			assert.Equal(t, http.SameSiteNoneMode, mw.cfg.sameSite)
			assert.Equal(t, SecureAlways, mw.cfg.secure)
		}},
		{name: "dot domain", opts: Options{CookieDomain: ".example.com"}, check: func(t *testing.T, mw *Middleware) {
			assert.Equal(t, ".example.com", mw.cfg.domain)
		}},
		{name: "legacy same as name ignored", opts: Options{LegacyCookieNames: []string{"bid_key123", "BID_key123"}}, check: func(t *testing.T, mw *Middleware) {
			assert.Equal(t, []string{"BID_key123"}, mw.cfg.legacy)
		}},
		{name: "durations in whole seconds", opts: Options{CookieMaxAge: 90*time.Second + time.Millisecond, VisitTimeout: time.Minute}, check: func(t *testing.T, mw *Middleware) {
			assert.Equal(t, 90, mw.cfg.maxAge)
			assert.Equal(t, 60, mw.cfg.visitTimeout)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := New(offlineClient(t), tt.opts)
			require.NoError(t, err)
			require.NotNil(t, mw)
			tt.check(t, mw)
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
	assert.Zero(t, mw.cfg.sameSite, "chosen per response: None when Secure, else Lax (TestSecureAttribute)")
	assert.Equal(t, 1800, mw.cfg.visitTimeout)
	assert.Equal(t, DefaultSessionName, mw.cfg.sessionName)
	assert.Equal(t, DefaultCacheControl, mw.cfg.cacheControl)
}

func TestCookiePresets(t *testing.T) {
	edge := func(t *testing.T) *personalize.Client {
		pc, err := personalize.New("", personalize.WithBaseURL("http://127.0.0.1:1"), personalize.WithEdge("ctx-1", "site"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = pc.Close(context.Background()) })
		return pc
	}
	for _, tt := range []struct {
		name                string
		client              func(t *testing.T) *personalize.Client
		opts                Options
		browser, guest      string
		legacy, guestLegacy []string
	}{
		{"direct, auto", func(t *testing.T) *personalize.Client { return offlineClient(t) }, Options{}, "bid_key123", "", nil, nil},
		{"direct, Cloud SDK", func(t *testing.T) *personalize.Client { return offlineClient(t) }, Options{Cookies: CloudSDKCookies}, "sc_cid", "", nil, nil},
		{"Edge, auto", edge, Options{}, "sc_cid", "sc_cid_personalize", []string{"sc_ctx-1"}, []string{"sc_ctx-1_personalize"}},
		{"Edge, Cloud SDK, a name of its own", edge, Options{Cookies: CloudSDKCookies, CookieName: "visitor"}, "visitor", "sc_cid_personalize", []string{"sc_ctx-1"}, []string{"sc_ctx-1_personalize"}},
		{"Edge, Engage with a name", edge, Options{Cookies: EngageCookies, CookieName: "bid_x"}, "bid_x", "", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := New(tt.client(t), tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.browser, mw.cfg.cookieName)
			assert.Equal(t, tt.guest, mw.cfg.guestCookie)
			assert.Equal(t, tt.legacy, mw.cfg.legacy)
			assert.Equal(t, tt.guestLegacy, mw.cfg.guestLegacy)
		})
	}
	_, err := New(edge(t), Options{Cookies: EngageCookies})
	require.Error(t, err, "Engage's cookie is named after a client key, which an Edge client has not")
	assert.Contains(t, err.Error(), "CloudSDKCookies")
	_, err = New(offlineClient(t), Options{Cookies: 9})
	assert.ErrorContains(t, err, "cookie preset")
	_, err = New(edge(t), Options{SessionName: CloudSDKGuestCookie})
	assert.ErrorContains(t, err, "guest ref cookie")
}
