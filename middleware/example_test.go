package middleware_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// exampleKeys would come from configuration (e.g. SESSION_KEYS), the same on every instance.
var exampleKeys = [][]byte{bytes.Repeat([]byte("a"), 64), bytes.Repeat([]byte("b"), 32)}

// startSandbox runs a local Personalize emulator with a "home_page_banner" flow and returns a
// client for it, and a shutdown that closes the client (delivering its queued events), then
// the emulator.
func startSandbox() (srv *sandbox.Server, client *personalize.Client, shutdown func()) {
	srv = sandbox.NewServer(sandbox.New(sandbox.WithFlows(
		sandbox.Define("home_page_banner").Returns(map[string]any{"name": "Summer in Lisbon"}),
	)))
	client, err := personalize.New(sandbox.DefaultClientKey,
		personalize.WithBaseURL(srv.URL),
		personalize.WithPointOfSale("example"),
		// The examples' output must not depend on how busy the machine running them is: a
		// page's calls get far more time than the production default.
		personalize.WithBudget(time.Minute), personalize.WithTimeout(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	return srv, client, func() {
		if err := client.Close(context.Background()); err != nil {
			log.Print(err)
		}
		srv.Close()
	}
}

// home renders the banner's offer, or a default when there is no decision.
func home(w http.ResponseWriter, r *http.Request) {
	title := "Welcome"
	if res, err := personalize.Flow(r.Context(), "home_page_banner"); err == nil {
		if offers := res.Offers(); len(offers) > 0 {
			title = offers[0].Name()
		}
	}
	fmt.Fprintln(w, title)
}

// The middleware in front of a net/http mux: the first visit to a personalized page gets a
// browser ID cookie and a response no shared cache may keep. A visit that lands from a
// campaign also gets the visit's session, which keeps its UTM parameters for its later pages;
// one with nothing to keep gets none.
func Example() {
	_, client, shutdown := startSandbox()
	defer shutdown()

	mw, err := middleware.New(client, middleware.Options{SessionKeys: exampleKeys})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", home)
	handler := mw.Handler(mux)

	for _, target := range []string{"/?utm_campaign=summer_sale", "/"} {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)

		fmt.Println(target)
		for _, c := range rec.Result().Cookies() {
			fmt.Println("cookie:", c.Name, "max age:", c.MaxAge, "http only:", c.HttpOnly)
		}
		fmt.Println("Cache-Control:", rec.Header().Get("Cache-Control"))
		fmt.Println("Vary:", rec.Header().Get("Vary"))
		fmt.Print(rec.Body.String())
	}
	// Output:
	// /?utm_campaign=summer_sale
	// cookie: bid_sandbox-client-key max age: 63072000 http only: false
	// cookie: personalize_visit max age: 1800 http only: true
	// Cache-Control: private, no-store
	// Vary: Cookie
	// Summer in Lisbon
	// /
	// cookie: bid_sandbox-client-key max age: 63072000 http only: false
	// Cache-Control: private, no-store
	// Vary: Cookie
	// Summer in Lisbon
}

// A route that asks for no flow costs almost nothing, sets no cookie and creates no browser.
func ExampleMiddleware_Handler() {
	srv, client, shutdown := startSandbox()
	defer shutdown()

	mw, err := middleware.New(client, middleware.Options{SessionKeys: exampleKeys})
	if err != nil {
		log.Fatal(err)
	}
	static := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "body { color: teal }")
	}))

	rec := httptest.NewRecorder()
	static.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/style.css", nil))
	fmt.Println("cookies:", len(rec.Result().Cookies()))
	fmt.Println("browsers created:", len(srv.Sandbox.Browsers()))
	// Output:
	// cookies: 0
	// browsers created: 0
}

// The visit's campaign outlives the landing page: the next page, without a query, still has it.
func ExampleVisitCampaign() {
	_, client, shutdown := startSandbox()
	defer shutdown()

	mw, err := middleware.New(client, middleware.Options{SessionKeys: exampleKeys})
	if err != nil {
		log.Fatal(err)
	}
	handler := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := middleware.VisitCampaign(r.Context())
		fmt.Fprintf(w, "request: %v, visit: %v, from: %s\n", middleware.UTM(r.Context()), c.UTM, c.LandingReferrer)
	}))

	landing := httptest.NewRequest(http.MethodGet, "/?utm_campaign=summer_sale&utm_source=newsletter", nil)
	landing.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
	landing.Header.Set("Referer", "https://mail.example.org/")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, landing)
	fmt.Print(rec.Body.String())

	next := httptest.NewRequest(http.MethodGet, "/offers", nil)
	next.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
	for _, c := range rec.Result().Cookies() {
		next.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, next)
	fmt.Print(rec.Body.String())
	// Output:
	// request: map[campaign:summer_sale source:newsletter], visit: map[campaign:summer_sale source:newsletter], from: https://mail.example.org/
	// request: map[], visit: map[campaign:summer_sale source:newsletter], from: https://mail.example.org/
}

// Without consent the page renders its defaults: no cookie, no browser, no call.
func ExampleOptions_consent() {
	srv, client, shutdown := startSandbox()
	defer shutdown()

	mw, err := middleware.New(client, middleware.Options{
		SessionKeys: exampleKeys,
		Consent: func(r *http.Request) bool {
			c, err := r.Cookie("consent")
			return err == nil && strings.Contains(c.Value, "personalization")
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := personalize.Flow(r.Context(), "home_page_banner")
		fmt.Fprintln(w, "no visitor:", errors.Is(err, personalize.ErrNoVisitor), "-", middleware.Blocked(r.Context()))
	}))

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Print(rec.Body.String())
	fmt.Println("cookies:", len(rec.Result().Cookies()), "calls:", len(srv.Sandbox.Calls()))
	// Output:
	// no visitor: true - no consent
	// cookies: 0 calls: 0
}

// A crawler gets the page's default content: its flows make no call, and the handler can tell
// why.
func ExampleBlocked() {
	srv, client, shutdown := startSandbox()
	defer shutdown()

	mw, err := middleware.New(client, middleware.Options{SessionKeys: exampleKeys})
	if err != nil {
		log.Fatal(err)
	}
	handler := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if middleware.Blocked(r.Context()) == middleware.BlockedBot {
			fmt.Fprintln(w, "Welcome (for crawlers)")
			return
		}
		home(w, r)
	}))

	for _, ua := range []string{
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("User-Agent", ua)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Print(rec.Body.String())
	}
	fmt.Println("calls:", len(srv.Sandbox.Calls()))
	// Output:
	// Welcome (for crawlers)
	// Summer in Lisbon
	// calls: 1
}

// With SendViewEvents, every personalized HTML page view sends a VIEW event for the visitor,
// through the client's event queue, off the request path. There is nothing to set up.
func ExampleOptions_sendViewEvents() {
	srv, client, shutdown := startSandbox()
	defer shutdown()

	mw, err := middleware.New(client, middleware.Options{SessionKeys: exampleKeys, SendViewEvents: true})
	if err != nil {
		log.Fatal(err)
	}
	handler := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		home(w, r)
	}))

	// A first visit: the flow creates the browser ID, and the view is sent for it.
	req := httptest.NewRequest(http.MethodGet, "/destinations/lisbon?utm_campaign=summer_sale", nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)

	// At shutdown (after the server's Shutdown), close the client: it delivers what is queued.
	if err := client.Close(context.Background()); err != nil {
		log.Fatal(err)
	}
	for _, ev := range srv.Sandbox.Events() {
		fmt.Println(ev.Type, ev.Body["page"], ev.Body["utm_campaign"], ev.BrowserID == srv.Sandbox.Browsers()[0])
	}
	// Output:
	// VIEW /destinations/lisbon summer_sale true
}
