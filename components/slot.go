package components

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/a-h/templ"

	"github.com/go-personalize/sdk/internal/seam"
	"github.com/go-personalize/sdk/personalize"
)

// Slot states, the values of a slot's data-personalize-state attribute.
const (
	// StateDecision: the slot rendered the flow's decision.
	StateDecision = "decision"
	// StateFallback: the slot rendered its fallback (no decision, a failure, or nothing to show).
	StateFallback = "fallback"
)

// SlotProps are the props of Slot.
type SlotProps struct {
	// FriendlyID is the flow to ask for.
	FriendlyID string
	// Decision makes the component that shows the flow's result; it may return nil when the
	// result holds nothing it can show, and the slot renders the fallback. It is called only
	// with a non-empty result. When nil, the result's offers are rendered with OfferList
	// (OfferListDecision); BannerDecision shows the first one with Banner.
	Decision func(res *personalize.Result) templ.Component
	// Fallback is the default content, rendered when there is no decision. When nil, the
	// slot's children are the fallback: @components.Slot(p) { <p>Default</p> }.
	Fallback templ.Component
	// Options change the flow call (identity, params, language...).
	Options []personalize.FlowOption
	// ID, Class and Attributes go on the root <div>; Class adds to "personalize-slot".
	ID         string
	Class      string
	Attributes templ.Attributes
	// TestID is the root's data-testid (TestIDSlot when empty).
	TestID string
}

// errNothingToShow: the flow answered, but with nothing the decision can show.
var errNothingToShow = errors.New("components: nothing to show")

// Slot renders a personalized slot: it gets the flow's result from the page in the context
// (awaiting a prefetched call or starting one; one call per friendly ID per page) and renders
// the decision, or the fallback on any failure or when the result holds nothing to show.
//
// It never panics and never shows an error: a Decision that panics or fails to render yields
// the fallback (logged with the page's client logger). The decision is rendered into a buffer
// before anything is written, so a decision failing half-way leaves no partial markup. The
// root <div> carries data-personalize-slot (the friendly ID) and data-personalize-state
// (StateDecision or StateFallback), and data-personalize-cache ("hit", "stale",
// "revalidated": personalize.CacheUse) when the decision came from the decision cache
// (personalize.WithCaching). Slot returns an error only when writing to w fails.
func Slot(p SlotProps) templ.Component {
	return templ.ComponentFunc(p.render)
}

func (p SlotProps) render(ctx context.Context, w io.Writer) error {
	// templ's context, once for the decision, the fallback and the root (a page rendered by
	// templ has it already; without it each of them would make its own).
	ctx = templ.InitializeContext(ctx)
	fallback := p.Fallback
	if fallback == nil {
		fallback = templ.GetChildren(ctx)
	}
	// The children belong to the slot: the decision and fallback must not see them as theirs.
	ctx = withoutChildren(ctx)

	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)

	state, cached := StateFallback, ""
	c, use, err := p.decision(ctx)
	siteFault := false
	if err != nil {
		var pe *panicErr
		siteFault = errors.As(err, &pe)
	} else if err = renderSafely(ctx, c, buf); err == nil {
		state = StateDecision
		if use.Served() {
			cached = use.String()
		}
	} else {
		siteFault = true
		buf.Reset()
	}
	if err != nil {
		p.log(ctx, err, siteFault)
		if ferr := renderSafely(ctx, fallback, buf); ferr != nil {
			buf.Reset()
			p.log(ctx, fmt.Errorf("components: fallback: %w", ferr), true)
		}
	}
	return p.root(ctx, w, state, cached, buf.Bytes())
}

// root writes the slot's root element around body, its rendered decision or fallback.
func (p *SlotProps) root(ctx context.Context, w io.Writer, state, cached string, body []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m, b := startMarkup(w)
	attrs := m.spread(ctx, "div", p.Attributes)
	m.open(&slotRoot, p.ID, strings.TrimSpace(p.Class))
	m.attr(` data-personalize-slot="`, p.FriendlyID)
	if state == StateDecision {
		m.raw(` data-personalize-state="decision"`)
	} else {
		m.raw(` data-personalize-state="fallback"`)
	}
	if cached != "" {
		m.attr(` data-personalize-cache="`, cached)
	}
	m.testID(&slotRoot, ownTestID(p.TestID, TestIDSlot))
	m.endSpread(attrs)
	m.raw(">")
	if m.err == nil {
		_, m.err = m.w.Write(body)
	}
	m.raw("</div>")
	return m.end(b)
}

// decision returns the component for the flow's decision, or an error that says why there is
// none.
func (p SlotProps) decision(ctx context.Context) (c templ.Component, use personalize.CacheUse, err error) {
	res, err := personalize.Flow(ctx, p.FriendlyID, p.Options...)
	if err != nil {
		return nil, 0, err
	}
	if res.Empty() {
		return nil, 0, errNothingToShow
	}
	use = res.Cache
	decide := p.Decision
	if decide == nil {
		decide = defaultDecision
	}
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, panicError(r)
		}
	}()
	if c = decide(res); c == nil {
		return nil, 0, errNothingToShow
	}
	return c, use, nil
}

// defaultDecision is the Decision of a slot whose props have none.
var defaultDecision = OfferListDecision(OfferListProps{})

// log reports why the slot fell back: at debug level when the flow simply had no decision
// (the client reports its calls itself) or the visitor went away (the request's context
// ended: whatever failed then is no fault of the site), as an error when the site's own code
// failed (a Decision or fallback that panicked or failed to render). A slot rendered without a page (no
// middleware, no personalize.StartPage) says so once per process, at warn, through
// slog.Default: it is a setup mistake, and every such slot shows its fallback.
func (p SlotProps) log(ctx context.Context, err error, siteFault bool) {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		siteFault = false
	}
	client := seam.PageClient(ctx)
	if client == nil {
		if errors.Is(err, personalize.ErrNoPage) {
			noPageWarning.Do(func() {
				slog.Warn("components: a personalized slot was rendered without a page in its context, so it shows its fallback; serve it behind the middleware (or personalize.StartPage)",
					slog.String("friendly_id", p.FriendlyID))
			})
		}
		if siteFault {
			slog.Error("personalize slot rendered its fallback", slog.String("friendly_id", p.FriendlyID), slog.Any("error", err))
		}
		return
	}
	level := slog.LevelDebug
	if siteFault {
		level = slog.LevelError
	}
	client.Logger().Log(ctx, level, "personalize slot rendered its fallback",
		slog.String("friendly_id", p.FriendlyID), slog.Any("error", err))
}

// noPageWarning makes the warning about slots without a page a one-time one, however many
// slots and requests repeat the mistake.
var noPageWarning sync.Once

// renderSafely renders c into buf, turning a panic into an error.
func renderSafely(ctx context.Context, c templ.Component, buf *bytes.Buffer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	return c.Render(ctx, buf)
}

type panicErr struct{ value any }

func (e *panicErr) Error() string { return fmt.Sprintf("components: panic: %v", e.value) }

func panicError(r any) error { return &panicErr{value: r} }
