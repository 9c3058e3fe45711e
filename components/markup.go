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

// url writes s as templ writes a URL attribute's value: sanitised (templ.URL), then escaped.
func (m *markup) url(s string) { m.text(string(templ.URL(s))) }

// attr writes ` name="value"`, the value escaped; open is ` name="`.
func (m *markup) attr(open, value string) {
	m.raw(open)
	m.text(value)
	m.raw(`"`)
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
