package components

import (
	"bytes"
	"testing"

	"github.com/a-h/templ"
)

// FuzzText: markup.text writes what templ writes for { s } and for an attribute's value: s
// escaped with templ.EscapeString; markup.url what templ writes for a URL attribute's value:
// templ.URL(s), escaped.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "plain", `<script>alert("x")</script>`, "a & b", "it's", `"quoted"`, "<<>>&&''\"\"",
		"café", "\xff\xfe", "tab\tnew\nline", "\x00", "&amp;", "javascript:alert('x')", "https://x.example.com/?a=1&b=<2>", "/path?q=\"x\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		m := markup{w: &b}
		m.text(s)
		if want := templ.EscapeString(s); m.err != nil || b.String() != want {
			t.Fatalf("text(%q) wrote %q (%v), want %q", s, b.String(), m.err, want)
		}
		b.Reset()
		m.url(s)
		if want := templ.EscapeString(templ.URL(s)); m.err != nil || b.String() != want {
			t.Fatalf("url(%q) wrote %q (%v), want %q", s, b.String(), m.err, want)
		}
	})
}
