package middleware

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsPrefetch(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   bool
	}{
		{name: "navigation", header: http.Header{}, want: false},
		{name: "sec-purpose prefetch", header: http.Header{"Sec-Purpose": {"prefetch"}}, want: true},
		{name: "sec-purpose case", header: http.Header{"Sec-Purpose": {" Prefetch "}}, want: true},
		{name: "sec-purpose anonymous", header: http.Header{"Sec-Purpose": {"prefetch;anonymous-client-ip"}}, want: true},
		{name: "sec-purpose prerender", header: http.Header{"Sec-Purpose": {"prefetch;prerender"}}, want: false},
		{name: "sec-purpose prerender with spaces", header: http.Header{"Sec-Purpose": {"prefetch; prerender"}}, want: false},
		{name: "sec-purpose other", header: http.Header{"Sec-Purpose": {"something"}}, want: false},
		{name: "sec-purpose list", header: http.Header{"Sec-Purpose": {"other, prefetch"}}, want: true},
		{name: "sec-purpose wins over purpose", header: http.Header{"Sec-Purpose": {"prefetch;prerender"}, "Purpose": {"prefetch"}}, want: false},
		{name: "purpose", header: http.Header{"Purpose": {"prefetch"}}, want: true},
		{name: "purpose on mobile", header: http.Header{"Purpose": {"prefetch"}, "Sec-Ch-Ua-Mobile": {"?1"}}, want: false},
		{name: "purpose on desktop", header: http.Header{"Purpose": {"prefetch"}, "Sec-Ch-Ua-Mobile": {"?0"}}, want: true},
		{name: "sec-purpose on mobile", header: http.Header{"Sec-Purpose": {"prefetch"}, "Sec-Ch-Ua-Mobile": {"?1"}}, want: true},
		{name: "x-moz", header: http.Header{"X-Moz": {"prefetch"}}, want: true},
		{name: "x-purpose preview", header: http.Header{"X-Purpose": {"preview"}}, want: true},
		{name: "x-purpose prefetch", header: http.Header{"X-Purpose": {"prefetch"}}, want: true},
		{name: "x-purpose other", header: http.Header{"X-Purpose": {"instant"}}, want: false},
		{name: "empty sec-purpose", header: http.Header{"Sec-Purpose": {""}}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, isPrefetch(tt.header))
		})
	}
}

func TestBlockReasonString(t *testing.T) {
	for reason, want := range map[BlockReason]string{
		NotBlocked:       "",
		BlockedNoConsent: "no consent",
		BlockedBot:       "bot",
		BlockedPrefetch:  "prefetch",
		BlockReason(9):   "BlockReason(9)",
	} {
		assert.Equal(t, want, reason.String())
	}
	assert.Equal(t, "bot", fmt.Sprint(BlockedBot), "it prints as its words")
}
