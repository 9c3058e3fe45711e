package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/a-h/templ"

	"github.com/go-personalize/sdk/personalize"

	"github.com/go-personalize/sdk/example-site/internal/views"
)

// home is the home page. Its three slots' flows start at once, in parallel, so the page
// costs one round trip to Personalize, not three.
func (s *site) home(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	personalize.Prefetch(ctx, views.FlowHomeBanner, views.FlowDestinations, views.FlowNewsletter)
	v := views.HomeView{
		Meta:       s.meta(r, "", "Direct flights from Amsterdam to 60 European cities, cabin bag included."),
		Subscribed: r.URL.Query().Get("subscribed") == "1",
	}
	s.render(w, r, http.StatusOK, views.Home(v))
}

// eventAddToTrip is the custom event sent when an ancillary is added to the trip, with
// ext {"ancillary": "seat"}.
const eventAddToTrip = "ADD_TO_TRIP"

// booking is the booking page with the ancillary offers; ?to= picks the destination,
// ?fare= a campaign fare and ?added= the extra the visitor just added (where the offers'
// tracking links lead).
func (s *site) booking(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	personalize.Prefetch(ctx, views.FlowAncillaries)
	q := r.URL.Query()
	v := views.BookingView{
		Meta:  s.meta(r, "Your booking", "Choose extras for your trip."),
		Trip:  views.NewTrip(q.Get("to"), q.Get("fare")),
		Added: views.ExtraOf(q.Get("added")),
	}
	if v.Added != nil && r.Method == http.MethodGet && s.cfg.Events {
		// The offer's tracking link landed here: tell Personalize, for goals and conditions
		// on the ancillary. Queued, never awaited.
		if err := personalize.Track(ctx, eventAddToTrip, map[string]any{"ancillary": v.Added.Key}); err != nil {
			s.logger.LogAttrs(ctx, slog.LevelDebug, "ADD_TO_TRIP event not sent", slog.Any("error", err))
		}
	}
	s.render(w, r, http.StatusOK, views.Booking(v))
}

// healthz answers 200 "ok" while the process serves.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *site) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "Page not found", "We looked everywhere, even in the overhead lockers. This page is not here.")
}

func (s *site) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusMethodNotAllowed, "Method not allowed", "This page can only be viewed, not changed.")
}

func (s *site) serverError(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "Our crew has been told. Please try again in a moment.")
}

func (s *site) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, views.ErrorPage(views.ErrorView{Meta: s.meta(r, title, ""), Status: status, Message: msg}))
}

// meta is the layout's data for a page.
func (s *site) meta(r *http.Request, title, description string) views.Meta {
	m := views.Meta{
		Title:       title,
		Description: description,
		Path:        r.URL.Path,
		StyleURL:    s.static.url("css/site.css"),
		Mode:        string(s.cfg.Mode),
	}
	if s.cfg.Mode == ModeSandbox {
		m.Links = views.Links{APIBase: s.cfg.BaseURL}
	}
	if mem, ok := s.members.current(r); ok {
		m.Member = &views.Member{ID: mem.ID, FirstName: mem.FirstName, Name: mem.Name(), Email: mem.Email}
	}
	return m
}

// render renders c into a buffer, then sends it: a template error becomes a 500 page rather
// than half a page. The slots wait for their flows within the Personalize budget. The buffer
// comes from the site's pool: a page grown anew for every request would be most of its
// allocations.
func (s *site) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	buf := s.pages.get()
	defer s.pages.put(buf)
	if err := c.Render(r.Context(), buf); err != nil {
		if r.Context().Err() != nil {
			return // the visitor went away
		}
		s.logger.LogAttrs(r.Context(), slog.LevelError, "rendering page", slog.String("path", r.URL.Path), slog.Any("error", err))
		if status != http.StatusInternalServerError {
			s.serverError(w, r)
		} else {
			http.Error(w, "internal server error", status)
		}
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = buf.WriteTo(w)
	}
}

// maxPooledPage is the largest page buffer kept for reuse; a larger one (a debug page with
// long records) is left to the garbage collector, so the pool never holds much memory.
const maxPooledPage = 256 << 10

// pagePool holds the buffers pages are rendered into. The zero value is ready to use.
type pagePool struct{ p sync.Pool }

func (pp *pagePool) get() *bytes.Buffer {
	if b, ok := pp.p.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func (pp *pagePool) put(b *bytes.Buffer) {
	if b.Cap() > maxPooledPage {
		return
	}
	b.Reset()
	pp.p.Put(b)
}
