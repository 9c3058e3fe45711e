package components

import (
	"context"
	"io"
	"strings"
)

// Default texts and test IDs of the components.
const (
	// DefaultCTA is the text of an offer's call to action when its props give none.
	DefaultCTA = "View offer"
	// DefaultMaxItems is the most cards an OfferList renders when its MaxItems is zero.
	DefaultMaxItems = 24
	// TestIDSlot, TestIDOfferList, TestIDOfferCard, TestIDBanner and TestIDLink are the default
	// data-testid values of the components' root elements.
	TestIDSlot      = "personalize-slot"
	TestIDOfferList = "personalize-offers"
	TestIDOfferCard = "personalize-offer"
	TestIDBanner    = "personalize-banner"
	TestIDLink      = "personalize-link"
)

// classes joins the component's own class with the caller's extra classes.
func classes(base, extra string) string {
	extra = strings.TrimSpace(extra)
	if extra == "" {
		return base
	}
	return base + " " + extra
}

// ownTestID is the props' data-testid when it is not the component's default one, else "":
// templates write the default as a static string.
func ownTestID(id, def string) string {
	if id == def {
		return ""
	}
	return id
}

// text is a string rendered as HTML text: @text(v.Name) writes what { v.Name } writes (the
// string escaped with html.EscapeString), without the two allocations templ spends on a
// { string } expression (it formats the value with fmt.Sprint).
type text string

// Render writes the text, escaped.
func (t text) Render(_ context.Context, w io.Writer) error { return writeEscaped(w, string(t)) }

// writeEscaped writes s escaped as html.EscapeString escapes it, in pieces, without
// building the escaped string.
func writeEscaped(w io.Writer, s string) error {
	for s != "" {
		i := strings.IndexAny(s, `&'<>"`)
		if i < 0 {
			_, err := io.WriteString(w, s)
			return err
		}
		if _, err := io.WriteString(w, s[:i]); err != nil {
			return err
		}
		if _, err := io.WriteString(w, htmlEscapes[s[i]]); err != nil {
			return err
		}
		s = s[i+1:]
	}
	return nil
}

// htmlEscapes are html.EscapeString's replacements.
var htmlEscapes = [256]string{'&': "&amp;", '\'': "&#39;", '<': "&lt;", '>': "&gt;", '"': "&#34;"}
