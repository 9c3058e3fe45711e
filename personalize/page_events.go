package personalize

import (
	"context"
	"errors"
	"fmt"
)

// Track queues a custom event of eventType (upper-case letters, digits and underscores, e.g.
// ADD_TO_CART; not VIEW or IDENTITY) for the visitor of the page in ctx. ext is the event's
// extension data, where Personalize conditions and goals read custom attributes (see
// Event.Ext); settings override the client's channel, language, currency or point of sale for
// this event. The event's page is the request's path.
//
// Track never waits for the API: the event is queued and sent by the client's workers. It
// fails with ErrNoPage without a page, ErrNoVisitor when the visitor gets no personalization
// (no consent, a bot, a prefetch) or no browser ID could be had, ErrInvalidRequest for an
// invalid event (checked before a browser ID is created for it), and ErrQueueFull or
// ErrClosed when the event was dropped.
//
//	err := personalize.Track(r.Context(), "ADD_TO_CART", map[string]any{"sku": "BAG-20KG", "price": 35.0})
func Track(ctx context.Context, eventType string, ext map[string]any, settings ...Setting) error {
	p := pageFrom(ctx)
	if p == nil {
		return ErrNoPage
	}
	if err := checkCustomType(eventType); err != nil {
		return p.client.events.reject(ctx, &Event{Type: eventType, BrowserID: p.knownID()}, err)
	}
	return p.enqueue(ctx, Event{Type: eventType, Ext: ext}, settings)
}

// Identify queues an IDENTITY event for the visitor of the page in ctx, linking the browser to
// the known guest (e.g. after a sign-in). The guest needs at least one identifier. No value of
// the guest is ever logged or put into an error. It never waits for the API, and fails as
// Track does.
//
//	err := personalize.Identify(r.Context(), personalize.Guest{
//		Identifiers: []personalize.GuestIdentifier{{ID: user.ID, Provider: "my_site"}},
//		Email:       user.Email,
//	})
func Identify(ctx context.Context, g Guest, settings ...Setting) error {
	g.Identifiers = append([]GuestIdentifier(nil), g.Identifiers...)
	p := pageFrom(ctx)
	err := p.enqueue(ctx, Event{Type: EventIdentity, Guest: &g}, settings)
	if err == nil {
		// Who the visitor is changed: so may their decisions (see Caching).
		p.client.cache.forget(ctx, identified(ByBrowserID(p.knownID()), &g)...)
	}
	return err
}

// enqueue queues ev for the page's visitor, filling in the page, the visitor's language and
// browser ID, creating one through the visitor's EnsureBrowserID if the page has none yet.
func (p *page) enqueue(ctx context.Context, ev Event, settings []Setting) error {
	if p == nil {
		return ErrNoPage
	}
	if p.visitor.Blocked != "" {
		return fmt.Errorf("%w: %s", ErrNoVisitor, p.visitor.Blocked)
	}
	ev.Page = p.visitor.Path
	ev.Language = p.language()
	for _, s := range settings {
		s.applyEvent(&ev)
	}
	if err := p.client.checkEventFields(&ev); err != nil {
		ev.BrowserID = p.knownID()
		return p.client.events.reject(ctx, &ev, err)
	}
	g := p.getBrowserID()
	select {
	case <-g.done:
		if g.err != nil {
			// The same as for an event queued while the creation was on its way: dropped and
			// counted, here with the reason returned too.
			p.client.events.drop(ctx, &ev, "no browser ID", g.err)
			return noBrowserID(g.err)
		}
		ev.BrowserID = g.id
	default:
		// A new visitor, whose browser is being created: the event is queued once it is, and
		// the handler does not wait for the API. A creation that fails drops the event
		// (counted in EventStats.Dropped). The page's Close waits for it, within the budget.
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return fmt.Errorf("%w: the page is closed", ErrCanceled)
		}
		p.wg.Add(1)
		p.mu.Unlock()
		go func() {
			defer p.wg.Done()
			<-g.done
			if g.err != nil {
				p.client.events.drop(ctx, &ev, "no browser ID", g.err)
				return
			}
			ev.BrowserID = g.id
			_ = p.client.events.enqueue(ctx, ev)
		}()
		return nil
	}
	return p.client.events.enqueue(ctx, ev)
}

// knownID is the visitor's browser ID if the page knows it already, else "".
func (p *page) knownID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.id
}

// noBrowserID is the error of an event dropped because its visitor has no browser ID: one that
// wraps ErrNoVisitor and the creation's own error.
func noBrowserID(err error) error {
	if errors.Is(err, ErrNoVisitor) {
		return err
	}
	return fmt.Errorf("%w: no browser ID: %w", ErrNoVisitor, err)
}
