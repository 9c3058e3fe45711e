package bareref

import (
	"context"
	"html/template"
	"net/http"
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

// NewHandler returns the bare reference server: "/" is a home page with three slots filled
// by the flows FlowBanner, FlowDestinations and FlowNewsletter, called in parallel on
// apiBaseURL with plain net/http and encoding/json inside Budget, with the browser ID from
// the bid_<clientKey> cookie (FallbackBrowserID without one), rendered with html/template, a
// slot falling back to default text when its call failed. "/healthz" answers 200. It has no
// validation, no breaker and no session: it is the yardstick the example site is measured
// against. CloseIdleConnections releases its API connections.
func NewHandler(apiBaseURL, clientKey, pointOfSale string) *Handler {
	return &Handler{
		hc:      NewHTTPClient(),
		baseURL: apiBaseURL,
		base: Body{ClientKey: clientKey, Channel: "WEB", Language: "en", CurrencyCode: "EUR",
			PointOfSale: pointOfSale},
		cookieName: "bid_" + clientKey,
		flows:      [3]string{FlowBanner, FlowDestinations, FlowNewsletter},
		page:       template.Must(template.New("home").Parse(homeTemplate)),
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

	view := homeView{Slots: make([]slotView, len(answers))}
	for i, a := range answers {
		view.Slots[i] = newSlotView(h.flows[i], a)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-store")
	_ = h.page.Execute(w, view) // a write error means the visitor left
}

// CloseIdleConnections closes the handler's kept-alive connections to the API.
func (h *Handler) CloseIdleConnections() { h.hc.CloseIdleConnections() }
