package components

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strings"

	"github.com/a-h/templ"
	templruntime "github.com/a-h/templ/runtime"
)

// markup writes a component's HTML: literal pieces, text and attribute values escaped as
// templ escapes them (html.EscapeString), URLs through templ's URL sanitisation. The
// components write their markup with it, in Go, rather than from templ templates, and write the
// bytes the templates wrote. A template costs allocations that a slot pays for every element
// of every card: a closure and a context (templ.ClearChildren) per component, a boxed value per
// dynamic attribute (templ resolves attribute values through an any), a []any, a CSS processor
// and a string per class expression, and a pooled buffer per element with such an attribute.
//
// The first error sticks: once a write (or a component, or the context) fails, nothing more is
// written and end returns that error, as a template returns its first error.
type markup struct {
	w   stringWriter
	err error
}

// stringWriter is what markup writes to: templ's buffer, or a buffer in memory.
type stringWriter interface {
	io.Writer
	io.StringWriter
}

// beginComponent starts a component's markup as a templ template starts: it renders nothing
// when ctx has ended (the error), and writes the markup to w (startMarkup) with templ's context,
// without the component's children: the context the components render the site's own
// components with.
func beginComponent(ctx context.Context, w io.Writer) (context.Context, markup, *templruntime.Buffer, error) {
	if err := ctx.Err(); err != nil {
		return ctx, markup{}, nil, err
	}
	m, b := startMarkup(w)
	return withoutChildren(templ.InitializeContext(ctx)), m, b, nil
}

// startMarkup starts writing to w. As templ's generated code does, it buffers a writer that is
// not templ's own buffer (and flushes it in end), except a buffer in memory, which needs none:
// a slot renders its decision into one.
func startMarkup(w io.Writer) (markup, *templruntime.Buffer) {
	switch sw := w.(type) {
	case *templruntime.Buffer:
		return markup{w: sw}, nil
	case *bytes.Buffer:
		return markup{w: sw}, nil
	case *strings.Builder:
		return markup{w: sw}, nil
	}
	b, _ := templruntime.GetBuffer(w)
	return markup{w: b}, b
}

// end flushes the buffer startMarkup made, if any, and returns the first error.
func (m *markup) end(b *templruntime.Buffer) error {
	if b != nil {
		if err := templruntime.ReleaseBuffer(b); m.err == nil {
			m.err = err
		}
	}
	return m.err
}

// check stops the markup when ctx has ended, as each templ component checks its context before
// it renders anything.
func (m *markup) check(ctx context.Context) bool {
	if m.err == nil {
		m.err = ctx.Err()
	}
	return m.err == nil
}

// raw writes s as it is: markup written by the component itself.
func (m *markup) raw(s string) {
	if m.err == nil {
		_, m.err = m.w.WriteString(s)
	}
}

// text writes s escaped, as templ writes a { string } expression or an attribute's value.
func (m *markup) text(s string) {
	for m.err == nil && s != "" {
		i := strings.IndexAny(s, `&'<>"`)
		if i < 0 {
			_, m.err = m.w.WriteString(s)
			return
		}
		if _, m.err = m.w.WriteString(s[:i]); m.err == nil {
			_, m.err = m.w.WriteString(htmlEscapes[s[i]])
		}
		s = s[i+1:]
	}
}

// htmlEscapes are html.EscapeString's replacements.
var htmlEscapes = [256]string{'&': "&amp;", '\'': "&#39;", '<': "&lt;", '>': "&gt;", '"': "&#34;"}

// url writes s as templ writes a URL attribute's value: sanitised (templ.URL), then escaped.
func (m *markup) url(s string) { m.text(string(templ.URL(s))) }

// attr writes ` name="value"`, the value escaped; open is ` name="`.
func (m *markup) attr(open, value string) {
	m.raw(open)
	m.text(value)
	m.raw(`"`)
}

// root is a component's root element: its tag, its own class and its default data-testid,
// written as static strings when the props do not change them.
type root struct{ open, class, classOpen, testID string }

func newRoot(tag, class, testID string) root {
	return root{open: "<" + tag, class: ` class="` + class + `"`, classOpen: ` class="` + class + ` `,
		testID: ` data-testid="` + testID + `"`}
}

var (
	offerCardRoot = newRoot("article", "personalize-offer", TestIDOfferCard)
	offerListRoot = newRoot("section", "personalize-offers", TestIDOfferList)
	bannerRoot    = newRoot("section", "personalize-banner", TestIDBanner)
	linkRoot      = newRoot("a", "personalize-link", TestIDLink)
	slotRoot      = newRoot("div", "personalize-slot", TestIDSlot)
)

// open writes the start of the root element: its tag, the props' ID and its class with the
// props' (trimmed) class.
func (m *markup) open(r *root, id, class string) {
	m.raw(r.open)
	if id != "" {
		m.attr(` id="`, id)
	}
	if class == "" {
		m.raw(r.class)
	} else {
		m.attr(r.classOpen, class)
	}
}

// testID writes the root element's data-testid: the props' own, or "" for the default.
func (m *markup) testID(r *root, id string) {
	if id == "" {
		m.raw(r.testID)
	} else {
		m.attr(` data-testid="`, id)
	}
}

// component renders c where the markup is.
func (m *markup) component(ctx context.Context, c templ.Component) {
	if m.err == nil {
		m.err = c.Render(ctx, m.w)
	}
}

// spread renders attrs, the props' Attributes of an element, as templ renders a spread of
// them ({ attrs... }): the scripts of templ.ComponentScript values go to the writer at once,
// before the element, and the attributes into the buffer returned, which endSpread writes in
// their place in the opening tag. Call it before writing the element.
func (m *markup) spread(ctx context.Context, element string, attrs templ.Attributes) *bytes.Buffer {
	if len(attrs) == 0 || m.err != nil {
		return nil
	}
	b := templ.GetBuffer()
	if m.err = templruntime.RenderAttributes(ctx, b, m.w, element, attrs); m.err != nil {
		templ.ReleaseBuffer(b)
		return nil
	}
	return b
}

// endSpread writes the attributes spread rendered.
func (m *markup) endSpread(b *bytes.Buffer) {
	if b == nil {
		return
	}
	if m.err == nil {
		_, m.err = m.w.Write(b.Bytes())
	}
	templ.ReleaseBuffer(b)
}

// withoutChildren is ctx without the children of the component that renders: the context the
// components render the site's own components with (headers, footers, cards), as templ does
// (templ.ClearChildren), without making a context when ctx carries no children anyway (inside
// a templ page, whose components clear theirs).
func withoutChildren(ctx context.Context) context.Context {
	if isNop(templ.GetChildren(ctx)) {
		return ctx
	}
	return templ.ClearChildren(ctx)
}

// nopComponent is the code of templ.NopComponent, what templ.GetChildren returns for a context
// without children.
var nopComponent = reflect.ValueOf(templ.NopComponent).Pointer()

// isNop reports whether c is templ.NopComponent (no other component has its code).
func isNop(c templ.Component) bool {
	f, ok := c.(templ.ComponentFunc)
	return ok && reflect.ValueOf(f).Pointer() == nopComponent
}
