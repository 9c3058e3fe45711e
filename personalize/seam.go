package personalize

import (
	"context"
	"log/slog"
	"time"

	"github.com/go-personalize/sdk/internal/seam"
)

// Package personalize shares what the middleware and the components need, and users do not,
// through internal/seam.
func init() {
	seam.ClientOf = func(c any) seam.Client {
		if c, ok := c.(*Client); ok && !c.zero() {
			return (*internals)(c)
		}
		return nil
	}
	seam.WithLazyPage = withLazyPage
	seam.PageClient = func(ctx context.Context) seam.Client {
		if p := pageFrom(ctx); p != nil {
			return (*internals)(p.client)
		}
		return nil
	}
}

// internals is a Client seen by the project's own packages: its methods are not part of the
// Client's API.
type internals Client

func (c *internals) ClientKey() string     { return c.clientKey }
func (c *internals) BaseURL() string       { return c.cfg.baseURL }
func (c *internals) Budget() time.Duration { return c.cfg.budget }
func (c *internals) Logger() *slog.Logger  { return c.logger }
func (c *internals) client() *Client       { return (*Client)(c) }
func (c *internals) NewPage(ctx context.Context, v seam.Visitor) seam.Page {
	return newPage(ctx, c.client(), v)
}

func (c *internals) CreateBrowser(ctx context.Context) (id, guestRef string, err error) {
	b, err := c.client().createBrowser(ctx)
	return b.Ref, b.CustomerRef, err
}

func (c *internals) Edge() (contextID string, ok bool) {
	if e := c.cfg.edge; e != nil {
		return e.contextID, true
	}
	return "", false
}

func (c *internals) QueueView(ctx context.Context, browserID, path, referrer string, utm map[string]string, pageVariantID string) error {
	ev := Event{Type: EventView, BrowserID: browserID, Page: path, Referrer: referrer, UTM: utm}
	if pageVariantID != "" {
		// As the Cloud SDK's page views carry it (packages/events/src/lib/events/page-view/
		// page-view-event.ts, mapAttributes).
		ev.Ext = map[string]any{"pageVariantId": pageVariantID}
	}
	return c.events.enqueue(ctx, ev)
}

func (c *internals) Isolated() []string { return c.client().Isolated() }

// Observe adds hooks (a Hooks) for the middleware's debug record; anything else is ignored.
func (c *internals) Observe(hooks any) {
	if h, ok := hooks.(Hooks); ok {
		c.hooks.add(h)
	}
}
