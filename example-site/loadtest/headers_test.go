package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in       string
		key, val string
		ok       bool
	}{
		{"Cookie: bid_k=5d2c1f0e-8a9b-4c3d-9e1f-0a1b2c3d4e5f", "Cookie", "bid_k=5d2c1f0e-8a9b-4c3d-9e1f-0a1b2c3d4e5f", true},
		{"x-forwarded-proto:https", "X-Forwarded-Proto", "https", true},
		{"Accept:  text/html ", "Accept", "text/html", true},
		{"X-Empty:", "X-Empty", "", true},
		{"A: b: c", "A", "b: c", true},
		{"no colon", "", "", false},
		{": value", "", "", false},
		{"Bad Name: v", "", "", false},
		{"X: a\r\nInjected: 1", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			k, v, err := parseHeader(tt.in)
			if !tt.ok {
				assert.Error(t, err)
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tt.key, k)
			assert.Equal(t, tt.val, v)
		})
	}
}

func TestBuildHeader(t *testing.T) {
	var l headerList
	for _, s := range []string{"Cookie: a=1", "X-A: 1", "x-a: 2"} {
		assert.NoError(t, l.Set(s))
	}
	assert.Error(t, l.Set("bad"))
	assert.Equal(t, http.Header{"Cookie": {"a=1"}, "X-A": {"1", "2"}}, buildHeader(l))
}

// FuzzParseHeader checks that any -header value either fails or gives a header a request
// can carry.
func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{"Cookie: a=1", "a:b", ":", "X: \r\n", "k: v\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, v, err := parseHeader(s)
		if err != nil {
			return
		}
		assert.NotEmpty(t, k)
		assert.False(t, strings.ContainsAny(k, " \t\r\n:"), k)
		assert.False(t, strings.ContainsAny(v, "\r\n\x00"), v)
		assert.Equal(t, strings.TrimSpace(v), v)
	})
}
