package personalize

import (
	"context"
	"fmt"
)

// Track queues a custom event of eventType (upper-case letters, digits and underscores, e.g.
// ADD_TO_CART; not VIEW or IDENTITY) for the visitor of the page in ctx, on the Sender attached
// to the page's client. ext is the event's extension data, where Personalize conditions and
// goals read custom attributes (see Event.Ext); opts set the page, top-level data and the
// rest. Track never waits for the API; see Page.Enqueue for its errors.
//
//	err := personalize.Track(r.Context(), "ADD_TO_CART", map[string]any{"sku": "BAG-20KG", "price": 35.0},
//		personalize.EventPage(r.URL.Path))
func Track(ctx context.Context, eventType string, ext map[string]any, opts ...EventOption) error {
	return FromContext(ctx).Track(ctx, eventType, ext, opts...)
}

// Identify queues an IDENTITY event for the visitor of the page in ctx, linking the browser to
// the known guest (e.g. after a sign-in), on the Sender attached to the page's client. The
// guest needs at least one identifier. No value of the guest is ever logged or put into an
// error. See Page.Enqueue for its errors.
//
//	err := personalize.Identify(r.Context(), personalize.Guest{
//		Identifiers: []personalize.GuestIdentifier{{ID: user.ID, Provider: "my_site"}},
//		Email:       user.Email,
//	})
func Identify(ctx context.Context, g Guest, opts ...EventOption) error {
	return FromContext(ctx).Identify(ctx, g, opts...)
}

// Track queues a custom event for the page's visitor; see the package function Track.
func (p *Page) Track(ctx context.Context, eventType string, ext map[string]any, opts ...EventOption) error {
	ev := Event{Type: eventType, Ext: ext}
	applyEventOptions(&ev, opts)
	if err := checkCustomType(ev.Type); err != nil {
		return err
	}
	return p.Enqueue(ctx, ev)
}

// Identify queues an IDENTITY event for the page's visitor; see the package function Identify.
func (p *Page) Identify(ctx context.Context, g Guest, opts ...EventOption) error {
	ev := NewIdentityEvent(g)
	applyEventOptions(&ev, opts)
	return p.Enqueue(ctx, ev)
}

// SendView queues a VIEW event of page (e.g. the request's path) for the page's visitor, with
// the visitor's referrer and UTM parameters. A caller holding the request's own UTM parameters
// sends Enqueue(ctx, NewViewEvent(...)) instead.
func (p *Page) SendView(ctx context.Context, page string, opts ...EventOption) error {
	var ev Event
	if p != nil {
		ev = NewViewEvent(page, p.visitor.Referrer, p.visitor.UTM)
	}
	applyEventOptions(&ev, opts)
	return p.Enqueue(ctx, ev)
}

// Enqueue queues ev for the page's visitor on the Sender attached to the page's client (see
// Client.SetSender), filling in the visitor's browser ID, creating one through the visitor's
// EnsureBrowserID if the page has none yet, and the visitor's language. It never waits for the
// API. It fails with ErrNoPage for a nil page, ErrNoSender when the client has no Sender,
// ErrNoVisitor when the visitor gets no personalization (no consent, a bot, a prefetch) or no
// browser ID could be had, ErrInvalidRequest for an invalid event (checked before a browser ID
// is created), and ErrQueueFull or ErrSenderClosed when the event was dropped.
func (p *Page) Enqueue(ctx context.Context, ev Event) error {
	if p == nil {
		return ErrNoPage
	}
	s := p.client.sender.Load()
	if s == nil {
		return ErrNoSender
	}
	if p.visitor.Blocked != "" {
		return fmt.Errorf("%w: %s", ErrNoVisitor, p.visitor.Blocked)
	}
	if ev.Page == "" {
		ev.Page = p.visitor.Path
	}
	if ev.Language == "" && p.visitor.Language != "" && checkLanguage(p.visitor.Language) == nil {
		ev.Language = p.visitor.Language
	}
	if ev.BrowserID == "" {
		if err := checkEventType(ev.Type); err != nil {
			return err
		}
		if err := p.client.checkEventFields(&ev); err != nil {
			return err
		}
		id, err := p.browserID(ctx)
		if err != nil {
			return err
		}
		ev.BrowserID = id
	}
	return s.Enqueue(ev)
}

func applyEventOptions(ev *Event, opts []EventOption) {
	for _, opt := range opts {
		if opt != nil {
			opt(ev)
		}
	}
}
