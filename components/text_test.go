package components

import (
	"bytes"
	"context"
	"testing"

	"github.com/a-h/templ"
)

// FuzzText: @text(s) writes what templ writes for { s }: s escaped with templ.EscapeString.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "plain", `<script>alert("x")</script>`, "a & b", "it's", `"quoted"`, "<<>>&&''\"\"",
		"café", "\xff\xfe", "tab\tnew\nline", "\x00", "&amp;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		if err := text(s).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if want := templ.EscapeString(s); b.String() != want {
			t.Fatalf("text(%q) wrote %q, want %q", s, b.String(), want)
		}
	})
}
