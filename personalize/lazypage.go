package personalize

import (
	"context"
	"sync"
)

// WithLazyPage returns a context whose page is made by newPage the first time something looks
// it up (FromContext, Flow, Prefetch), at most once, and shared by every later look-up. A
// middleware uses it so that requests which never ask for personalization never pay for a page
// (or for the session and consent checks that building its Visitor needs). newPage may return
// nil (flows then report ErrNoPage); it must not look the page up in the returned context.
func WithLazyPage(ctx context.Context, newPage func() *Page) context.Context {
	return &lazyPageCtx{Context: ctx, newPage: newPage}
}

// lazyPageCtx answers the page key by building the page once; every other key, and the
// deadline, Done and Err, come from the parent, so cancellation propagates as usual.
type lazyPageCtx struct {
	context.Context
	once    sync.Once
	newPage func() *Page
	page    *Page
}

func (c *lazyPageCtx) Value(key any) any {
	if _, ok := key.(pageKey); ok {
		c.once.Do(c.build)
		return c.page
	}
	return c.Context.Value(key)
}

func (c *lazyPageCtx) build() {
	if c.newPage != nil {
		c.page = c.newPage()
	}
}

func (c *lazyPageCtx) String() string { return "personalize.WithLazyPage" }
