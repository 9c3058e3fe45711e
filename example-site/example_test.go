package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// Embedding the library in your own chi site (the README shows net/http), run here
// against a sandbox standing in for the tenant.
func Example_embedInChi() {
	tenant := sandbox.NewServer(sandbox.New(sandbox.WithFlows(
		sandbox.Define("home_page_banner").Returns(map[string]any{"title": "Fly for less", "trackingUrl": "{tracker}", "destination": "/flights"}),
	)))
	defer tenant.Close()
	sessionKeys := [][]byte{bytes.Repeat([]byte("k"), 64), bytes.Repeat([]byte("e"), 32)}
	defaultBanner := templ.Raw(`<h2>Welcome aboard</h2>`)

	// --- as in the README ---
	client, err := personalize.New(sandbox.DefaultClientKey, // your client key
		personalize.WithBaseURL(tenant.URL), // or personalize.WithRegion(personalize.RegionEU)
		personalize.WithPointOfSale("mysite/ireland"))
	if err != nil {
		panic(err)
	}
	mw, err := middleware.New(client, middleware.Options{SessionKeys: sessionKeys})
	if err != nil {
		panic(err)
	}
	r := chi.NewRouter()
	r.Use(mw.Handler)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		personalize.Prefetch(r.Context(), "home_page_banner") // start early, in parallel
		banner := components.Slot(components.SlotProps{
			FriendlyID: "home_page_banner",
			Decision:   components.BannerDecision(components.BannerProps{}),
			Fallback:   defaultBanner,
		})
		_ = banner.Render(r.Context(), w)
	})
	// --- end ---
	defer client.Close(context.Background())

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("User-Agent", browserUA)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	doc, _ := goquery.NewDocumentFromReader(rec.Body)
	state, _ := doc.Find("[data-personalize-slot]").Attr("data-personalize-state")
	href, _ := doc.Find("a").Attr("href")
	fmt.Println(state, doc.Find("h2").Text(), strings.HasPrefix(href, tenant.URL+"/v3/trackers/"))
	fmt.Println(strings.HasPrefix(rec.Header().Get("Set-Cookie"), "bid_"+sandbox.DefaultClientKey+"="))
	// Output:
	// decision Fly for less true
	// true
}
