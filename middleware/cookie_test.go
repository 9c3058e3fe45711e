package middleware

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-personalize/sdk/internal/browserid"
)

const validID = "0f8fad5b-d9cb-469f-a165-70867728950e"

func TestCookieBrowserID(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    string
	}{
		{name: "none", headers: nil, want: ""},
		{name: "valid", headers: []string{"bid=" + validID}, want: validID},
		{name: "among others", headers: []string{"a=1; bid=" + validID + "; c=3"}, want: validID},
		{name: "second header line", headers: []string{"a=1", "bid=" + validID}, want: validID},
		{name: "quoted", headers: []string{`bid="` + validID + `"`}, want: validID},
		{name: "upper case hex, in lower case", headers: []string{"bid=" + strings.ToUpper(validID)}, want: validID},
		{name: "after a carriage return", headers: []string{"\rbid=" + validID}, want: validID},
		{name: "after a line feed", headers: []string{"a=1;\n bid=" + validID}, want: validID},
		{name: "spaces", headers: []string{"  bid = " + validID + " ;"}, want: validID},
		{name: "empty", headers: []string{"bid="}, want: ""},
		{name: "no equals", headers: []string{"bid"}, want: ""},
		{name: "tampered", headers: []string{"bid=0f8fad5b-d9cb-469f-a165-70867728950g"}, want: ""},
		{name: "overlong", headers: []string{"bid=" + validID + "0"}, want: ""},
		{name: "huge", headers: []string{"bid=" + strings.Repeat("a", 1<<16)}, want: ""},
		{name: "without dashes", headers: []string{"bid=0f8fad5bd9cb469fa16570867728950e"}, want: ""},
		{name: "script", headers: []string{"bid=<script>alert(1)</script>"}, want: ""},
		{name: "foreign json", headers: []string{`bid={"id":"` + validID + `"}`}, want: ""},
		{name: "other name", headers: []string{"bidx=" + validID + "; xbid=" + validID}, want: ""},
		{name: "bad first, good second", headers: []string{"bid=bad; bid=" + validID}, want: validID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, line := range tt.headers {
				h.Add("Cookie", line)
			}
			assert.Equal(t, tt.want, cookieBrowserID(h, "bid"))
		})
	}
}

func TestCookieBrowserIDAllocatesNothing(t *testing.T) {
	h := http.Header{"Cookie": {"_ga=GA1.2.3; theme=dark; bid_k=" + validID + "; consent=yes"}}
	allocs := testing.AllocsPerRun(100, func() { _ = cookieBrowserID(h, "bid_k") })
	assert.Zero(t, allocs)
}

func FuzzCookieBrowserID(f *testing.F) {
	for _, seed := range []string{
		"bid=" + validID, `bid="` + validID + `"`, "bid=", "a=1; bid=x; bid=" + validID, ";;;=;bid", "bid=" + validID + "0",
		"\rbid=" + validID, "a=1;\n bid=" + validID, "bid=" + strings.ToUpper(validID),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		id := cookieBrowserID(http.Header{"Cookie": {line}}, "bid")
		if id != "" && !browserid.Valid(id) {
			t.Fatalf("accepted %q", id)
		}
		if id != "" && !strings.Contains(strings.ToLower(line), id) {
			t.Fatalf("%q not in %q", id, line)
		}
		if id != strings.ToLower(id) {
			t.Fatalf("%q is not in lower case", id)
		}
		// Whatever net/http finds valid under that name, we find too.
		r := &http.Request{Header: http.Header{"Cookie": {line}}}
		for _, c := range r.CookiesNamed("bid") {
			if browserid.Valid(c.Value) && id == "" {
				t.Fatalf("missed %q in %q", c.Value, line)
			}
		}
	})
}
