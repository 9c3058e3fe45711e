package bareref

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"strconv"
	"time"
)

// Home page flows, the three slots of the example site's home page, in page order.
const (
	FlowBanner       = "home_page_banner"
	FlowDestinations = "recommended_destinations"
	FlowNewsletter   = "newsletter_offer"
)

// Budget is how long the page waits for its flows, the library's default page budget.
const Budget = 400 * time.Millisecond

// FallbackBrowserID is the browser ID the page sends when the request has no browser ID
// cookie: the reference never creates browsers (a returning visitor is what it measures).
const FallbackBrowserID = "a38b230c-11eb-4cf9-8d5d-274e9f344925"

// Handler serves the bare reference home page. Make one with NewHandler.
type Handler struct {
	hc         *http.Client
	baseURL    string
	base       Body
	cookieName string
	flows      [3]string
	page       *template.Template
}

// NewHandler returns the bare reference server: "/" is the example site's home page, the
// same HTML for the same flow answers (for a returning visitor who has not signed in and
// came with no campaign, the visitor of a load run), with its three slots filled by the flows
// FlowBanner, FlowDestinations and FlowNewsletter, called in parallel on apiBaseURL with
// plain net/http and encoding/json inside Budget, with the browser ID from the
// bid_<clientKey> cookie (FallbackBrowserID without one), rendered with html/template into a
// buffer and sent with the site's security headers; a slot shows the site's default
// content when its call failed or its answer has nothing to show. "/healthz" answers 200.
// It has no validation, no breaker, no session and sends no events: it is the yardstick the
// example site is measured against. CloseIdleConnections releases its API connections.
func NewHandler(apiBaseURL, clientKey, pointOfSale string) *Handler {
	return NewHandlerClient(NewHTTPClient(), apiBaseURL, clientKey, pointOfSale)
}

// NewHandlerClient is NewHandler making its calls with hc, e.g. a client whose API answers in
// memory (benchmarks compare the library with the reference that way too).
func NewHandlerClient(hc *http.Client, apiBaseURL, clientKey, pointOfSale string) *Handler {
	return &Handler{
		hc:      hc,
		baseURL: apiBaseURL,
		base: Body{ClientKey: clientKey, Channel: "WEB", Language: "en", CurrencyCode: "EUR",
			PointOfSale: pointOfSale},
		cookieName: "bid_" + clientKey,
		flows:      [3]string{FlowBanner, FlowDestinations, FlowNewsletter},
		page:       newHomeTemplate(),
	}
}

// ServeHTTP serves "/" and "/healthz"; any other path is a 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
	case "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
		return
	default:
		http.NotFound(w, r)
		return
	}
	body := h.base
	body.BrowserID = FallbackBrowserID
	if c, err := r.Cookie(h.cookieName); err == nil && c.Value != "" {
		body.BrowserID = c.Value
	}
	ctx, cancel := context.WithTimeout(r.Context(), Budget)
	answers := CallFlows(ctx, h.hc, h.baseURL, body, h.flows[:]...)
	cancel()

	// Rendered into a buffer and sent with its length, as the site sends its pages.
	var buf bytes.Buffer
	if err := h.page.Execute(&buf, newHomeView(answers[0], answers[1], answers[2])); err != nil {
		http.Error(w, "bareref: "+err.Error(), http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	setSecurityHeaders(hd)
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = buf.WriteTo(w) // a write error means the visitor left
}

// setSecurityHeaders sets the headers the example site sets on every response
// (example-site/routes.go, securityHeaders), so both pages send the same bytes.
func setSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'none'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
}

// CloseIdleConnections closes the handler's kept-alive connections to the API.
func (h *Handler) CloseIdleConnections() { h.hc.CloseIdleConnections() }
