package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/sessions"

	"github.com/go-personalize/sdk/internal/seam"
	"github.com/go-personalize/sdk/personalize"
)

// Middleware gives each visitor a persistent browser ID, keeps the visit's campaign and puts a
// personalization page into every request's context. Make one with New; it is safe for
// concurrent use.
type Middleware struct {
	client   seam.Client
	cfg      config
	crawlers crawlerCache
	botHint  sync.Once // the first crawler seen is logged, once

	saveFailures atomic.Uint64 // sessions that could not be saved

	debugOnce sync.Once
	debug     atomic.Pointer[debugRecord] // nil until DebugHandler is called
}

// New checks the options and makes a Middleware for the client. Invalid options are reported
// here, not per request.
func New(client *personalize.Client, opts Options) (*Middleware, error) {
	pc := seam.ClientOf(client)
	if pc == nil {
		return nil, errorf("a nil or zero personalize client: make one with personalize.New")
	}
	contextID, onEdge := pc.Edge()
	cfg, err := newConfig(pc.ClientKey(), edge{contextID: contextID, on: onEdge}, opts, pc.Logger())
	if err != nil {
		return nil, err
	}
	if cfg.generatedKey {
		cfg.logger.Warn("middleware: no SessionKeys or SessionStore given; using random session keys, so visits neither survive a restart nor work across instances")
	}
	return &Middleware{client: pc, cfg: cfg}, nil
}

// Handler wraps next: requests reach it with a page in their context (personalize.Flow,
// personalize.Prefetch, personalize.Track, personalize.Identify, personalize.Calls) and a
// response writer that adds the browser ID cookie, the session and the cache headers before
// the response's headers go out.
//
// Nothing is decoded, checked or created until the request asks for personalization: the
// first look-up of the page builds it (consent, bot and prefetch checks, the session), and a
// browser ID is created only when a flow needs one.
//
// A zero Middleware (not made by New) personalizes nothing: Handler returns next as it is, and
// says so once, at warn, through slog.Default.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	if m == nil || m.client == nil {
		slog.Warn("middleware: a zero Middleware passes requests through without personalization: make one with middleware.New")
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &request{Context: r.Context(), m: m, r: r}
		st.w = responseWriter{ResponseWriter: w, st: st}
		st.cookieID = m.readBrowserID(r.Header)
		if st.cookieID != "" && m.cfg.guestCookie != "" {
			st.cookieGuest = m.readGuestRef(r.Header)
		}
		if r.URL != nil {
			st.reqUTM = parseUTM(r.URL.RawQuery)
		}
		if len(st.reqUTM) > 0 && st.blocked() == NotBlocked {
			// A landing with a campaign: remember it even if this page personalizes nothing.
			st.mu.Lock()
			st.loadSession()
			st.mu.Unlock()
		}
		ctx := seam.WithLazyPage(st, st.newPage)
		completed := false
		defer func() {
			if !completed {
				st.closePage()
			}
		}()
		next.ServeHTTP(&st.w, r.WithContext(ctx))
		completed = true
		st.closePage()
		if rec := m.debug.Load(); rec != nil {
			rec.page(st, ctx)
		}
		if !st.w.wrote {
			st.w.wrote = true
			st.beforeHeaders()
		}
	})
}

// request is the middleware's state for one request. It is also the context layer that
// carries it (Value answers ctxKey with it), which saves an allocation per request over
// context.WithValue; its parent is the request's original context.
type request struct {
	context.Context
	m *Middleware
	r *http.Request
	w responseWriter

	cookieID string            // valid browser ID from a cookie, or ""
	reqUTM   map[string]string // this request's UTM parameters

	blockOnce sync.Once
	reason    BlockReason

	idOnce   sync.Once
	idBegun  atomic.Bool // obtainID was called
	newID    string
	newGuest string // the guest ref the Edge proxy gave newID, or ""
	idErr    error

	cookieGuest string // valid guest ref from the guest ref cookie (or a legacy one), or

	mu         sync.Mutex
	page       seam.Page // nil until built
	done       bool      // the handler returned
	headersOut bool
	sessLoaded bool
	sess       *sessions.Session
	sessDirty  bool // changed, or due for a save that slides the visit's expiry
	sessDelete bool // the request's session cookie holds nothing to keep: delete it
	campaign   Campaign
}

// blocked returns why the request gets no personalization, or NotBlocked, deciding once.
func (st *request) blocked() BlockReason {
	st.blockOnce.Do(func() { st.reason = st.m.blockReason(st.r) })
	return st.reason
}

// newPage builds the request's page the first time it is looked up; it returns nil once the
// handler has returned.
func (st *request) newPage() seam.Page {
	v := seam.Visitor{Referrer: st.r.Referer(), UserAgent: st.r.UserAgent()}
	if st.r.URL != nil {
		v.Path = st.r.URL.Path
	}
	if reason := st.blocked(); reason != NotBlocked {
		v.Blocked = reason.String()
		v.AllowKnownIdentities = reason == BlockedNoConsent && st.m.cfg.knownIDs
		v.UTM = st.reqUTM
	} else {
		v.BrowserID = st.cookieID
		v.EnsureBrowserID = st.ensureBrowserID
		v.GuestRef = st.cookieGuest
		// A browser ID minted here is one the Edge may not know: its guest ref is not looked up
		// (a look-up that cannot succeed would cost every page a round trip).
		v.WantGuestRef = st.m.cfg.guestCookie != "" && st.m.cfg.strategy != MintLocally
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		return nil
	}
	if v.Blocked == "" {
		st.loadSession()
		v.UTM = st.campaign.UTM
	}
	st.page = st.m.client.NewPage(st.Context, v)
	return st.page
}

// currentPage is the request's page, nil when none was built.
func (st *request) currentPage() seam.Page {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.page
}

// closePage cancels the page's calls still running and waits for them.
func (st *request) closePage() {
	st.mu.Lock()
	st.done = true
	p := st.page
	st.mu.Unlock()
	if p != nil {
		p.Close()
	}
}

// beforeHeaders runs once, just before the response's headers go out: it sets the browser ID
// cookie when a flow ran (renewing it, or carrying a new ID) or an ID was created for an
// event, saves the session and marks a personalized response as not cacheable by shared
// caches.
func (st *request) beforeHeaders() {
	st.mu.Lock()
	if st.headersOut {
		st.mu.Unlock()
		return
	}
	p := st.page
	st.mu.Unlock()

	personalized := p != nil && p.Called()
	id := ""
	if p != nil && st.blocked() == NotBlocked {
		switch {
		case personalized && st.cookieID != "":
			id = st.cookieID // renewed
		case personalized:
			// A flow may still be creating the ID (a prefetch running beside the handler): wait
			// for it, so the cookie goes out with these headers.
			id, _ = st.browserIDForHeaders()
		case st.idStarted() || p.CreatingBrowserID():
			// No flow, but an event needed an ID (personalize.Track, Identify), which may still
			// be on its way: wait for it too, within the budget.
			id, _ = st.browserIDForHeaders()
		}
	}

	st.mu.Lock()
	st.headersOut = true
	save := st.sess != nil && st.sessDirty
	st.mu.Unlock()

	h := st.w.ResponseWriter.Header()
	if id != "" {
		st.m.setBrowserCookie(h, st.r, id)
		if st.m.cfg.guestCookie != "" {
			st.m.setGuestCookie(h, st.r, st.guestFor(p, id))
		}
	}
	if save {
		st.saveSession(st.w.ResponseWriter)
	}
	// A response that carries a visitor's cookie (the browser ID, the session, or one the
	// handler set, such as a sign-in) is that visitor's alone, and so is a personalized one:
	// a shared cache must never store it.
	if cookie := len(h["Set-Cookie"]) > 0; personalized || cookie {
		st.m.cacheHeaders(h, cookie)
	}
	if personalized && st.m.cfg.serverTiming {
		h.Add("Server-Timing", serverTiming(p.FlowTime()))
	}
	if st.m.cfg.sendViews {
		st.sendView(h, id)
	}
}

// lateCookie logs that a cookie could not be set because the headers were already sent.
func (st *request) lateCookie(what string) {
	path := ""
	if st.r.URL != nil {
		path = st.r.URL.Path
	}
	st.m.cfg.logger.LogAttrs(st.Context, slog.LevelWarn, "middleware: response headers already sent, "+what+" not set",
		slog.String("path", path))
}

// serverTiming is the Server-Timing metric of a page's flows (Options.ServerTiming).
func serverTiming(flows int, d time.Duration) string {
	b := make([]byte, 0, 48)
	b = append(b, "personalize;dur="...)
	b = strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', 1, 64)
	b = append(b, `;desc="`...)
	b = strconv.AppendInt(b, int64(flows), 10)
	if flows == 1 {
		b = append(b, ` flow"`...)
	} else {
		b = append(b, ` flows"`...)
	}
	return string(b)
}
