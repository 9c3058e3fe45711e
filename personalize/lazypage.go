package personalize

import (
	"context"
	"sync"

	"github.com/go-personalize/sdk/internal/seam"
)

// withLazyPage returns a context whose page is made by newPage the first time something looks
// it up (Flow, Prefetch, Track...), at most once, and shared by every later look-up. The
// middleware uses it (through the seam) so that requests which never ask for personalization
// never pay for a page, nor for the session and consent checks that building its visitor
// needs. newPage may return nil: flows then report ErrNoPage.
func withLazyPage(ctx context.Context, newPage func() seam.Page) context.Context {
	return &lazyPageCtx{Context: ctx, newPage: newPage}
}

// lazyPageCtx answers the page key by building the page once; every other key, and the
// deadline, Done and Err, come from the parent, so cancellation propagates as usual.
type lazyPageCtx struct {
	context.Context
	once    sync.Once
	newPage func() seam.Page
	page    *page
}

func (c *lazyPageCtx) Value(key any) any {
	if _, ok := key.(pageKey); ok {
		c.once.Do(c.build)
		if c.page == nil {
			return nil // not a typed nil in an interface: lookups see no page
		}
		return c.page
	}
	return c.Context.Value(key)
}

func (c *lazyPageCtx) build() {
	if c.newPage == nil {
		return
	}
	if p, ok := c.newPage().(*page); ok {
		c.page = p
	}
}

func (c *lazyPageCtx) String() string { return "personalize.lazyPage" }
