package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// tenantEnv is a complete tenant-mode environment; cases change one thing (an empty value
// removes the variable).
func tenantEnv(changes map[string]string) map[string]string {
	return changed(map[string]string{
		"PERSONALIZE_CLIENT_KEY":    "my-client-key",
		"PERSONALIZE_REGION":        "eu",
		"PERSONALIZE_POINT_OF_SALE": "goairways/nl",
		"SESSION_KEYS":              testSessionKeys,
	}, changes)
}

// edgeEnv is tenantEnv's XM Cloud tenant: a Sitecore Edge context ID and site name.
func edgeEnv(changes map[string]string) map[string]string {
	return changed(map[string]string{
		"PERSONALIZE_EDGE_CONTEXT_ID": "5Gx1jAq3aPCtP9bbT4ZmDq",
		"PERSONALIZE_SITE_NAME":       "go-airways",
		"SESSION_KEYS":                testSessionKeys,
	}, changes)
}

// changed applies changes to env: a value replaces, an empty one removes.
func changed(env, changes map[string]string) map[string]string {
	for k, v := range changes {
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	return env
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{
			name: "no configuration: sandbox on localhost:8080",
			env:  map[string]string{},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, ModeSandbox, c.Mode)
				assert.Equal(t, "localhost:8080", c.Addr)
				assert.Equal(t, sandbox.DefaultClientKey, c.ClientKey)
				assert.Equal(t, sandboxPointOfSale, c.PointOfSale)
				assert.Equal(t, "WEB", c.Channel)
				assert.Equal(t, "en", c.Language)
				assert.Equal(t, "EUR", c.Currency)
				assert.Empty(t, c.BaseURL, "set once listening")
				assert.Nil(t, c.SessionKeys)
				assert.True(t, c.Events, "events are on by default")
				assert.Equal(t, RequestLogAll, c.RequestLog, "every request is logged by default")
				assert.Zero(t, c.MaxConnections, "the default cap, set when listening")
				assert.Zero(t, c.TrustedProxies, "no X-Forwarded-Proto is trusted")
				assert.Equal(t, middleware.SecureAuto, c.CookieSecure)
			},
		},
		{
			name: "behind a TLS proxy, with a connection cap",
			env:  map[string]string{"MAX_CONNECTIONS": "2000", "TRUSTED_PROXIES": "2", "COOKIE_SECURE": "Always"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, 2000, c.MaxConnections)
				assert.Equal(t, 2, c.TrustedProxies)
				assert.Equal(t, middleware.SecureAlways, c.CookieSecure)
			},
		},
		{
			name: "cookies never Secure, explicitly auto",
			env:  map[string]string{"COOKIE_SECURE": "never", "TRUSTED_PROXIES": "0"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, middleware.SecureNever, c.CookieSecure)
				assert.Zero(t, c.TrustedProxies)
			},
		},
		{
			name: "request log of server errors only",
			env:  map[string]string{"REQUEST_LOG": "Errors"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, RequestLogErrors, c.RequestLog)
			},
		},
		{
			name: "no request log",
			env:  map[string]string{"REQUEST_LOG": "off"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, RequestLogOff, c.RequestLog)
			},
		},
		{
			name: "events off",
			env:  map[string]string{"PERSONALIZE_EVENTS": "off", "PERSONALIZE_BREAKER_OPEN_FOR": "250ms"},
			check: func(t *testing.T, c Config) {
				assert.False(t, c.Events)
				assert.Equal(t, 250*time.Millisecond, c.BreakerOpenFor)
			},
		},
		{
			name: "sandbox with its own flows, address and budget",
			env:  map[string]string{"ADDR": "127.0.0.1:0", "PERSONALIZE_SANDBOX_FLOWS": "/tmp/flows.json", "PERSONALIZE_BUDGET": "2s", "PERSONALIZE_LANGUAGE": "fr"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, ModeSandbox, c.Mode)
				assert.Equal(t, "127.0.0.1:0", c.Addr)
				assert.Equal(t, "/tmp/flows.json", c.SandboxFlows)
				assert.Equal(t, 2*time.Second, c.Budget)
				assert.Equal(t, "fr", c.Language)
			},
		},
		{
			name: "tenant by region",
			env:  tenantEnv(map[string]string{"PERSONALIZE_REGION": "US", "PERSONALIZE_TIMEOUT": "750ms", "PERSONALIZE_CURRENCY": "USD", "PERSONALIZE_CHANNEL": "MOBILE_WEB"}),
			check: func(t *testing.T, c Config) {
				assert.Equal(t, ModeTenant, c.Mode)
				assert.Equal(t, "my-client-key", c.ClientKey)
				assert.Equal(t, "https://api-engage-us.sitecorecloud.io", c.BaseURL)
				assert.Equal(t, "goairways/nl", c.PointOfSale)
				assert.Equal(t, 750*time.Millisecond, c.Timeout)
				assert.Equal(t, "USD", c.Currency)
				assert.Equal(t, "MOBILE_WEB", c.Channel)
				require.Len(t, c.SessionKeys, 2)
				assert.Len(t, c.SessionKeys[0], 64, "authentication key")
				assert.Len(t, c.SessionKeys[1], 32, "encryption key")
			},
		},
		{
			name: "tenant by base URL",
			env:  tenantEnv(map[string]string{"PERSONALIZE_REGION": "", "PERSONALIZE_BASE_URL": "https://proxy.example.com/personalize/"}),
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "https://proxy.example.com/personalize", c.BaseURL)
			},
		},
		{
			name: "XM Cloud tenant through the Edge proxy",
			env:  edgeEnv(nil),
			check: func(t *testing.T, c Config) {
				assert.Equal(t, ModeTenant, c.Mode)
				assert.Equal(t, "5Gx1jAq3aPCtP9bbT4ZmDq", c.EdgeContextID)
				assert.Equal(t, "go-airways", c.SiteName)
				assert.Equal(t, personalize.EdgeURL, c.BaseURL)
				assert.Empty(t, c.ClientKey)
				assert.Empty(t, c.PointOfSale)
				assert.Equal(t, "sc_cid", c.browserCookie())
			},
		},
		{
			name: "XM Cloud tenant through a proxy of the Edge",
			env:  edgeEnv(map[string]string{"PERSONALIZE_BASE_URL": "https://edge-proxy.example.com/"}),
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "https://edge-proxy.example.com", c.BaseURL)
			},
		},
		{
			name: "the sandbox through its Edge endpoints",
			env:  map[string]string{"PERSONALIZE_SANDBOX_TRANSPORT": "edge"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, ModeSandbox, c.Mode)
				assert.Equal(t, sandbox.DefaultContextID, c.EdgeContextID)
				assert.Equal(t, sandbox.DefaultSiteName, c.SiteName)
				assert.Empty(t, c.ClientKey)
				assert.Empty(t, c.PointOfSale)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(envOf(tt.env))
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string // all in the error
	}{
		{"tenant without SESSION_KEYS", tenantEnv(map[string]string{"SESSION_KEYS": ""}), []string{"tenant mode needs SESSION_KEYS"}},
		{"short session key", tenantEnv(map[string]string{"SESSION_KEYS": "too-short-secret"}), []string{"SESSION_KEYS", "key 1 is too weak", "16 bytes"}},
		{"second key short", tenantEnv(map[string]string{"SESSION_KEYS": testSessionKeys + ",abc"}), []string{"key 2 is too weak"}},
		{"placeholder key", tenantEnv(map[string]string{"SESSION_KEYS": strings.Repeat("a", 64)}), []string{"key 1 is too weak", "distinct"}},
		{"empty key in the list", tenantEnv(map[string]string{"SESSION_KEYS": testSessionKeys + ",,"}), []string{"key 2 is empty"}},
		{"bad region", tenantEnv(map[string]string{"PERSONALIZE_REGION": "mars"}), []string{"PERSONALIZE_REGION", `"mars"`, "eu, us, ap or jpe"}},
		{"no region or base URL", tenantEnv(map[string]string{"PERSONALIZE_REGION": ""}), []string{"PERSONALIZE_REGION", "PERSONALIZE_BASE_URL"}},
		{"region and base URL", tenantEnv(map[string]string{"PERSONALIZE_BASE_URL": "https://x.example"}), []string{"not both"}},
		{"bad base URL", tenantEnv(map[string]string{"PERSONALIZE_REGION": "", "PERSONALIZE_BASE_URL": "ftp://x.example"}), []string{"base URL", "ftp://x.example"}},
		{"missing point of sale", tenantEnv(map[string]string{"PERSONALIZE_POINT_OF_SALE": ""}), []string{"PERSONALIZE_POINT_OF_SALE"}},
		{"bad timeout", tenantEnv(map[string]string{"PERSONALIZE_TIMEOUT": "fast"}), []string{"PERSONALIZE_TIMEOUT", `"fast"`, "Go duration"}},
		{"negative timeout", tenantEnv(map[string]string{"PERSONALIZE_TIMEOUT": "-1s"}), []string{"PERSONALIZE_TIMEOUT", "out of range"}},
		{"huge budget", map[string]string{"PERSONALIZE_BUDGET": "1h"}, []string{"PERSONALIZE_BUDGET", "out of range"}},
		{"bad breaker open time", map[string]string{"PERSONALIZE_BREAKER_OPEN_FOR": "soon"}, []string{"PERSONALIZE_BREAKER_OPEN_FOR", "Go duration"}},
		{"bad events switch", map[string]string{"PERSONALIZE_EVENTS": "sometimes"}, []string{"PERSONALIZE_EVENTS", "on or off"}},
		{"bad request log", map[string]string{"REQUEST_LOG": "some"}, []string{"REQUEST_LOG", "all, errors or off"}},
		{"bad stale age", map[string]string{"PERSONALIZE_STALE_FOR": "forever"}, []string{"PERSONALIZE_STALE_FOR", `"forever"`, "off or a Go duration"}},
		{"stale age too long", map[string]string{"PERSONALIZE_STALE_FOR": "48h"}, []string{"PERSONALIZE_STALE_FOR", "24h0m0s"}},
		{"bad Redis URL", map[string]string{"PERSONALIZE_REDIS_URL": "localhost:6379"}, []string{"PERSONALIZE_REDIS_URL", "redis://"}},
		{"Redis without a cache", map[string]string{"PERSONALIZE_REDIS_URL": "redis://127.0.0.1:6379", "PERSONALIZE_STALE_FOR": "off"}, []string{"PERSONALIZE_REDIS_URL", "nothing to keep"}},
		{"bad channel", tenantEnv(map[string]string{"PERSONALIZE_CHANNEL": "web site"}), []string{"channel"}},
		{"bad currency", map[string]string{"PERSONALIZE_CURRENCY": "EURO"}, []string{"currency"}},
		{"ADDR without port", map[string]string{"ADDR": "localhost"}, []string{"ADDR", "host:port"}},
		{"ADDR with a bad port", map[string]string{"ADDR": "localhost:http-alt"}, []string{"ADDR", "port"}},
		{"ADDR port out of range", map[string]string{"ADDR": ":70000"}, []string{"ADDR", "port"}},
		{"region without client key", map[string]string{"PERSONALIZE_REGION": "eu"}, []string{"need PERSONALIZE_CLIENT_KEY"}},
		{"sandbox flows in tenant mode", tenantEnv(map[string]string{"PERSONALIZE_SANDBOX_FLOWS": "flows.json"}), []string{"PERSONALIZE_SANDBOX_FLOWS"}},
		{"client key and Edge context", edgeEnv(map[string]string{"PERSONALIZE_CLIENT_KEY": "k"}), []string{"PERSONALIZE_CLIENT_KEY", "PERSONALIZE_EDGE_CONTEXT_ID", "not both"}},
		{"Edge context without a site", edgeEnv(map[string]string{"PERSONALIZE_SITE_NAME": ""}), []string{"PERSONALIZE_SITE_NAME"}},
		{"a site without an Edge context", map[string]string{"PERSONALIZE_SITE_NAME": "go-airways"}, []string{"PERSONALIZE_SITE_NAME needs PERSONALIZE_EDGE_CONTEXT_ID"}},
		{"a region through the Edge", edgeEnv(map[string]string{"PERSONALIZE_REGION": "eu"}), []string{"PERSONALIZE_REGION"}},
		{"a point of sale through the Edge", edgeEnv(map[string]string{"PERSONALIZE_POINT_OF_SALE": "site/ie"}), []string{"PERSONALIZE_POINT_OF_SALE"}},
		{"Edge without SESSION_KEYS", edgeEnv(map[string]string{"SESSION_KEYS": ""}), []string{"SESSION_KEYS"}},
		{"a bad Edge context ID", edgeEnv(map[string]string{"PERSONALIZE_EDGE_CONTEXT_ID": "a b"}), []string{"context ID"}},
		{"unknown sandbox transport", map[string]string{"PERSONALIZE_SANDBOX_TRANSPORT": "carrier-pigeon"}, []string{"PERSONALIZE_SANDBOX_TRANSPORT", `"carrier-pigeon"`}},
		{"sandbox transport in tenant mode", tenantEnv(map[string]string{"PERSONALIZE_SANDBOX_TRANSPORT": "edge"}), []string{"PERSONALIZE_SANDBOX_TRANSPORT is for the sandbox"}},
		{"sandbox Edge with a point of sale", map[string]string{"PERSONALIZE_SANDBOX_TRANSPORT": "edge", "PERSONALIZE_POINT_OF_SALE": "x"}, []string{"PERSONALIZE_POINT_OF_SALE"}},
		{"several problems at once", tenantEnv(map[string]string{"SESSION_KEYS": "", "PERSONALIZE_POINT_OF_SALE": "", "ADDR": "nope"}), []string{"SESSION_KEYS", "PERSONALIZE_POINT_OF_SALE", "ADDR"}},
		{"MAX_CONNECTIONS not a number", map[string]string{"MAX_CONNECTIONS": "lots"}, []string{"MAX_CONNECTIONS", `"lots"`, "whole number from 16 to 1048576"}},
		{"MAX_CONNECTIONS zero", map[string]string{"MAX_CONNECTIONS": "0"}, []string{"MAX_CONNECTIONS", "from 16"}},
		{"MAX_CONNECTIONS too small", map[string]string{"MAX_CONNECTIONS": "8"}, []string{"MAX_CONNECTIONS", "from 16"}},
		{"TRUSTED_PROXIES negative", map[string]string{"TRUSTED_PROXIES": "-1"}, []string{"TRUSTED_PROXIES", `"-1"`, "from 0 to 10", "X-Forwarded-Proto"}},
		{"TRUSTED_PROXIES a word", map[string]string{"TRUSTED_PROXIES": "one"}, []string{"TRUSTED_PROXIES", `"one"`}},
		{"TRUSTED_PROXIES too many", map[string]string{"TRUSTED_PROXIES": "11"}, []string{"TRUSTED_PROXIES", "from 0 to 10"}},
		{"bad COOKIE_SECURE", map[string]string{"COOKIE_SECURE": "yes"}, []string{"COOKIE_SECURE", `"yes"`, "auto, always or never"}},
		{"proxy settings reported with the rest", tenantEnv(map[string]string{"TRUSTED_PROXIES": "x", "COOKIE_SECURE": "x", "MAX_CONNECTIONS": "x", "ADDR": "nope"}), []string{"TRUSTED_PROXIES", "COOKIE_SECURE", "MAX_CONNECTIONS", "ADDR"}},
		{"unknown traces exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, []string{"OTEL_TRACES_EXPORTER", `"zipkin"`, "none, console or otlp"}},
		{"one unknown traces exporter in a list", map[string]string{"OTEL_TRACES_EXPORTER": "console,jaeger"}, []string{"OTEL_TRACES_EXPORTER", `"jaeger"`}},
		{"traces exporter none and another", map[string]string{"OTEL_TRACES_EXPORTER": "none,console"}, []string{"OTEL_TRACES_EXPORTER", "none and an exporter"}},
		{"OTLP over gRPC", map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, []string{"OTEL_EXPORTER_OTLP_PROTOCOL", `"grpc"`, "http/protobuf"}},
		{"OTLP traces as JSON", map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", `"http/json"`}},
		{"traces exporter reported with the rest", tenantEnv(map[string]string{"OTEL_TRACES_EXPORTER": "stdout", "ADDR": "nope"}), []string{"OTEL_TRACES_EXPORTER", "ADDR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(envOf(tt.env))
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "example-site: bad configuration: "), err.Error())
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestParseSessionKeys(t *testing.T) {
	raw := []byte("R7#kq2!Vx9@mLp4$Zt8&Wc3*Hn6^Jb5%Fd1?!") // 37 bytes, typed at random
	tests := []struct {
		name  string
		value string
		pairs int
	}{
		{"hex", testSessionKeys, 1},
		{"base64", base64.StdEncoding.EncodeToString(raw), 1},
		{"base64 URL alphabet without padding", base64.RawURLEncoding.EncodeToString(raw), 1},
		{"raw text", string(raw), 1},
		{"two keys for rotation, spaces around", testSessionKeys + " , " + string(raw), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := parseSessionKeys(tt.value)
			require.NoError(t, err)
			require.Len(t, keys, 2*tt.pairs)
			for i := 0; i < len(keys); i += 2 {
				assert.Len(t, keys[i], 64)
				assert.Len(t, keys[i+1], 32)
				assert.NotEqual(t, keys[i][:32], keys[i+1], "authentication and encryption keys differ")
			}
		})
	}

	t.Run("the same secret in any encoding gives the same keys", func(t *testing.T) {
		a, err := parseSessionKeys(base64.StdEncoding.EncodeToString(raw))
		require.NoError(t, err)
		b, err := parseSessionKeys(string(raw))
		require.NoError(t, err)
		assert.Equal(t, a, b)
	})

	t.Run("32 hex digits are taken as 32 bytes of text", func(t *testing.T) {
		// They decode to only 16 bytes, too short as hex; as text (openssl rand -hex 16)
		// they still carry 128 bits.
		keys, err := parseSessionKeys("931b22414b50d81253d83d0854679717")
		require.NoError(t, err)
		assert.Len(t, keys, 2)
	})
}

// TestParseSessionKeysRejectsWeakKeys: placeholders and patterns are refused, and the error
// says how to make a good key.
func TestParseSessionKeysRejectsWeakKeys(t *testing.T) {
	for _, key := range []string{
		"changeme-changeme-changeme-changeme",
		strings.Repeat("changeme-", 6), // valid base64, whose 40 decoded bytes look random
		strings.Repeat("changeme", 6),  // valid base64 too
		strings.Repeat("abcd", 16),     // valid hex: 32 bytes of ab cd
		strings.Repeat("abcd", 10),
		strings.Repeat("a", 40),
		strings.Repeat("secret-key-12345", 2),
		"0123456789abcdefghijklmnopqrstuvwxyz",
		"abcdefghijklmnopqrstuvwxyz0123456789ABCDEF",
		"zyxwvutsrqponmlkjihgfedcba9876543210",
		"qwertyuiopasdfghjklzxcvbnm1234567890",
		"QWERTYUIOPASDFGHJKLZXCVBNM!@#$%^&*()",
		strings.Repeat("0", 64), // valid hex: 32 zero bytes
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabcdefghijk",
		"XXqXXzXX3XXmXX8XXrXXwXX1XXkXXpXX", // 2 bits per byte
		strings.Repeat("0123456789", 4),
		testSessionKeys + "," + strings.Repeat("passw0rd", 5), // the second of two
	} {
		t.Run(key, func(t *testing.T) {
			_, err := parseSessionKeys(key)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "too weak")
			assert.Contains(t, err.Error(), "openssl rand -hex 32")
			assert.NotContains(t, err.Error(), key[len(key)-8:], "the error never quotes the key")
		})
	}
}

// TestParseSessionKeysAcceptsRandomKeys: keys made as the README says (`openssl rand -hex 32`,
// `openssl rand -base64 32`), 1000 of each, are never refused; nor are 32 hex digits taken as
// text (`openssl rand -hex 16`), from a seeded generator so the test is deterministic.
func TestParseSessionKeysAcceptsRandomKeys(t *testing.T) {
	accept := func(key string) {
		t.Helper()
		_, err := parseSessionKeys(key)
		require.NoError(t, err, "key %q", key)
	}
	for range 1000 {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		accept(hex.EncodeToString(b))
		accept(strings.ToUpper(hex.EncodeToString(b)))
		accept(base64.StdEncoding.EncodeToString(b))
		accept(base64.RawURLEncoding.EncodeToString(b))
		accept(base64.StdEncoding.EncodeToString(append(b, b[:16]...))) // 48 bytes
	}
	seeded := mrand.NewChaCha8([32]byte{'g', 'o', '-', 'a', 'i', 'r', 'w', 'a', 'y', 's'})
	for range 10000 {
		b := make([]byte, 16)
		_, _ = seeded.Read(b)
		accept(hex.EncodeToString(b))
	}
}

func FuzzParseSessionKeys(f *testing.F) {
	f.Add(testSessionKeys)
	f.Add("short")
	f.Add(strings.Repeat("ab", 40) + ",x")
	f.Add(base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k3y!", 9))))
	f.Fuzz(func(t *testing.T, s string) {
		keys, err := parseSessionKeys(s)
		if err != nil {
			require.Nil(t, keys)
			return
		}
		require.Len(t, keys, 2*len(strings.Split(s, ",")))
		for i := 0; i < len(keys); i += 2 {
			require.Len(t, keys[i], 64)
			require.Len(t, keys[i+1], 32)
		}
	})
}

func FuzzLoadConfig(f *testing.F) {
	f.Add("", "", "", "", "")
	f.Add("key", "eu", "pos", testSessionKeys, "1s")
	f.Add("key", "mars", "", "x", "-3s")
	f.Fuzz(func(t *testing.T, key, region, pos, sessionKeys, timeout string) {
		env := map[string]string{
			"PERSONALIZE_CLIENT_KEY": key, "PERSONALIZE_REGION": region, "PERSONALIZE_POINT_OF_SALE": pos,
			"SESSION_KEYS": sessionKeys, "PERSONALIZE_TIMEOUT": timeout,
		}
		c, err := loadConfig(envOf(env))
		if err != nil {
			require.Equal(t, Config{}, c)
			return
		}
		require.Contains(t, []Mode{ModeSandbox, ModeTenant}, c.Mode)
		if c.Mode == ModeTenant {
			require.NotEmpty(t, c.BaseURL)
			require.NotEmpty(t, c.PointOfSale)
			require.NotEmpty(t, c.SessionKeys)
		}
	})
}
