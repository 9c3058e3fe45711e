// Package seam is how the project's own packages (middleware, components) reach what package
// personalize keeps out of its public API: building a request's page lazily, with the
// middleware's knowledge of the visitor, and the client's settings. Package personalize fills
// in the variables when it is initialised, so any package that imports personalize finds them
// set. Being internal, nothing outside this module can import it.
package seam

import (
	"context"
	"log/slog"
	"time"
)

// Visitor is who a page is rendered for, as the middleware knows them.
type Visitor struct {
	// BrowserID is the visitor's browser ID, if known.
	BrowserID string
	// EnsureBrowserID, called at most once per page and only when something needs a browser
	// ID and BrowserID is empty, gets one (the middleware creates a browser and sets the
	// cookie), with the guest ref the Edge proxy gave the new browser ("" when none).
	EnsureBrowserID func(ctx context.Context) (id, guestRef string, err error)
	// GuestRef is the guest ref of BrowserID, if known (the middleware's guest ref cookie).
	GuestRef string
	// WantGuestRef asks the page to get the guest ref of a browser ID whose guest ref is not
	// known, through the Edge proxy, before its first flow call (the middleware keeps it in a
	// cookie; Page.GuestRef says what the page learned).
	WantGuestRef bool
	// UTM holds the visit's UTM parameters, keys without the "utm_" prefix.
	UTM map[string]string
	// Path is the request's path: the page of the visitor's events.
	Path string
	// Referrer, UserAgent and Language describe the request.
	Referrer, UserAgent, Language string
	// Blocked, when not empty, says why this visitor gets no personalization ("no consent",
	// "bot", "prefetch"): flows make no call and events are not sent.
	Blocked string
	// AllowKnownIdentities lets a blocked visitor's flows run when they name an email or
	// identifiers identity explicitly (consent given for known guests only).
	AllowKnownIdentities bool
}

// Page is what the middleware needs of a request's page.
type Page interface {
	// Called reports whether any flow was asked for.
	Called() bool
	// CreatingBrowserID reports whether the page is getting a browser ID right now (for an
	// event, with no flow).
	CreatingBrowserID() bool
	// FlowTime returns how many flows were asked for and the time they took together, from
	// the first call's start to the last one's end (now while one runs).
	FlowTime() (flows int, d time.Duration)
	// GuestRef is the guest ref the page's flows sent or learned for the visitor's browser,
	// "" when none.
	GuestRef() string
	// PageVariant is the page variant ID the handler set (personalize.SetPageVariant), for the
	// page's VIEW event; "" when none.
	PageVariant() string
	// Close cancels the page's calls still running and waits for them.
	Close()
}

// Client is what the project's packages need of a *personalize.Client beyond its API.
type Client interface {
	ClientKey() string
	BaseURL() string
	Budget() time.Duration
	Logger() *slog.Logger
	// CreateBrowser creates a browser; through the Edge proxy the answer names its guest too.
	CreateBrowser(ctx context.Context) (id, guestRef string, err error)
	// Edge returns the client's Sitecore Edge context ID, and whether it uses the Edge proxy.
	Edge() (contextID string, ok bool)
	// NewPage starts a page for one request; ctx is the request's context.
	NewPage(ctx context.Context, v Visitor) Page
	// QueueView queues a VIEW event for a browser whose ID is known, never waiting; ctx is
	// the request's context, for the client's hooks.
	// pageVariantID, when set, goes out as ext.pageVariantId.
	QueueView(ctx context.Context, browserID, path, referrer string, utm map[string]string, pageVariantID string) error
	// Isolated lists the flows whose calls fail fast right now (Client.Isolated).
	Isolated() []string
	// Observe adds hooks (a personalize.Hooks) that run after the client's own, from now on:
	// the middleware's debug record. Any other value is ignored.
	Observe(hooks any)
}

var (
	// ClientOf returns the internals of a *personalize.Client (nil for a nil client).
	ClientOf func(client any) Client
	// WithLazyPage returns a context whose page is made by newPage the first time something
	// looks it up, at most once; newPage may return nil (flows then report no page). A page
	// must come from Client.NewPage.
	WithLazyPage func(ctx context.Context, newPage func() Page) context.Context
	// PageClient returns the client of the page in ctx, or nil when there is no page.
	PageClient func(ctx context.Context) Client
)
