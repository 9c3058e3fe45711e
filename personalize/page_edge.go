package personalize

import (
	"context"
	"slices"
)

// SetVariants sets the variant IDs every flow of the page in ctx sends from now on, unless the
// flow gives its own (WithVariants): the page's variants, as an XM Cloud head gets them for
// the page from Experience Edge (package xmcloud builds the friendly IDs of its flows). Call
// it before the page's first Flow or Prefetch: flows already asked for keep what they sent.
// Through the Sitecore Edge proxy only (WithEdge); it is ErrNoPage without a page and
// ErrInvalidRequest for IDs no experience could name (empty, over 256 bytes, control
// characters, more than 64).
func SetVariants(ctx context.Context, ids ...string) error {
	p := pageFrom(ctx)
	if p == nil {
		return ErrNoPage
	}
	if !p.client.edge() {
		return invalidf("variants go only through the Sitecore Edge proxy (WithEdge)")
	}
	if err := checkVariants(ids); err != nil {
		return err
	}
	ids = slices.Clip(slices.Clone(ids))
	p.variants.Store(&ids)
	return nil
}

// SetPageVariant names the page variant the visitor is shown, for the page's VIEW event (the
// middleware's SendViewEvents): it goes out as ext.pageVariantId, as the Cloud SDK's page
// views carry it (packages/events/src/lib/events/page-view/page-view-event.ts). XM Cloud
// names it with xmcloud.PageVariantID. Set it before the response's headers go out, when the
// VIEW is queued. It is ErrNoPage without a page, and ErrInvalidRequest for an empty ID, one
// over 256 bytes or one with control characters.
func SetPageVariant(ctx context.Context, id string) error {
	p := pageFrom(ctx)
	if p == nil {
		return ErrNoPage
	}
	if err := checkVariants([]string{id}); err != nil {
		return err
	}
	p.mu.Lock()
	p.pageVariant = id
	p.mu.Unlock()
	return nil
}

// PageVariant is the page variant ID of SetPageVariant, "" when none.
func (p *page) PageVariant() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pageVariant
}

// GuestRef is the guest ref of the visitor's browser as the page knows it: from the visitor
// (a cookie), from the browser's creation, or got for a flow (guestRef); "" when none.
func (p *page) GuestRef() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.guest
}

// guestRef returns the guest ref of the visitor's browser id for a flow through the Edge
// proxy: the one known, else, when the visitor wants one kept (the middleware's guest ref
// cookie), the Edge proxy's answer, got once per page under the page's budget however many
// flows wait for it. Without one the flow is sent without guestRef, as the Cloud SDK sends it
// without its cookie: a failed look-up costs the page no decision.
func (p *page) guestRef(ctx context.Context, id string) string {
	p.mu.Lock()
	switch {
	case id != p.id:
		p.mu.Unlock()
		return "" // not the visitor's own browser
	case p.guest != "":
		ref := p.guest
		p.mu.Unlock()
		return ref
	case !p.visitor.WantGuestRef || p.closed:
		p.mu.Unlock()
		return ""
	}
	g := p.guestGet
	if g == nil {
		g = &idCall{done: make(chan struct{})}
		p.guestGet = g
		bctx := p.budgetContext()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			ref, err := p.client.GuestRef(bctx, id)
			g.id, g.err = ref, err
			if err == nil {
				p.mu.Lock()
				p.guest = ref
				p.mu.Unlock()
			}
			close(g.done)
		}()
	}
	p.mu.Unlock()
	select {
	case <-g.done:
		return g.id
	case <-ctx.Done():
		return ""
	}
}
