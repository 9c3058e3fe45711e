package personalize_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// Calling a flow against the sandbox, the local stand-in for Sitecore Personalize.
func ExampleClient_CallFlow() {
	sb := sandbox.New(sandbox.WithFlows(
		sandbox.Define("home_page_banner").Returns(map[string]any{"name": "Summer sale", "imageUrl": "/static/sun.svg"}),
	))
	srv := sandbox.NewServer(sb)
	defer srv.Close()

	client, err := personalize.New(sandbox.DefaultClientKey,
		personalize.WithBaseURL(srv.URL), // in production: personalize.WithRegion(personalize.RegionEU)
		personalize.WithPointOfSale("airline.example"),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(context.Background())

	res, err := client.CallFlow(context.Background(), personalize.FlowRequest{
		FriendlyID: "home_page_banner",
		Identity:   personalize.ByBrowserID("a38b230c-11eb-4cf9-8d5d-274e9f344925"),
		UTM:        map[string]string{"campaign": "summer_sale"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, offer := range res.Offers() {
		fmt.Println(offer.Name(), offer.ImageURL())
	}
	// Output: Summer sale /static/sun.svg
}

// Reading the offers of Sitecore's documented example answer.
func ExampleResult_Offers() {
	res := &personalize.Result{Raw: []byte(`[
		{"trackingUrl": "https://api/v3/trackers/eyJjaGFubmVsIj", "Name": "Ancillary bag",
		 "imageURLForTesting": "https://png.icons8.com/metro/50/000000/suitcase.png", "nonDependent": "false"}
	]`)}
	for _, o := range res.Offers() {
		fmt.Println(o.Name())
		fmt.Println(o.TrackingURL())
		fmt.Println(o.ImageURL())
		fmt.Println(o.Text("nonDependent"))
	}
	// Output:
	// Ancillary bag
	// https://api/v3/trackers/eyJjaGFubmVsIj
	// https://png.icons8.com/metro/50/000000/suitcase.png
	// false
}

// Decoding an answer into your own type.
func ExampleResult_Decode() {
	res := &personalize.Result{Raw: []byte(`{"variantId": "summer"}`)}
	var v struct {
		VariantID string `json:"variantId"`
	}
	err := res.Decode(&v)
	fmt.Println(v.VariantID, err)
	// Output: summer <nil>
}

// A page prefetches its flows in parallel, then each slot takes its result. The middleware
// package starts the page for every request; here StartPage does it.
func ExamplePrefetch() {
	srv := sandbox.NewServer(sandbox.New(sandbox.WithFlows(
		sandbox.Define("home_page_banner").Returns(map[string]any{"name": "Fly for less"}),
		sandbox.Define("newsletter_offer").Returns(map[string]any{"name": "10% off your next trip"}),
	)))
	defer srv.Close()
	client, _ := personalize.New(sandbox.DefaultClientKey, personalize.WithBaseURL(srv.URL), personalize.WithPointOfSale("airline.example"))
	defer client.Close(context.Background())

	ctx, done := personalize.StartPage(context.Background(), client, personalize.Visitor{BrowserID: "a38b230c-11eb-4cf9-8d5d-274e9f344925"})
	defer done()

	personalize.Prefetch(ctx, "home_page_banner", "newsletter_offer") // both calls start now
	for _, id := range []string{"home_page_banner", "newsletter_offer", "home_page_banner"} {
		res, err := personalize.Flow(ctx, id) // waits for the prefetched call; never calls twice
		if err != nil {
			fmt.Println(id, "default content:", err)
			continue
		}
		fmt.Println(id, "→", res.Offers()[0].Name())
	}
	fmt.Println("API calls:", srv.Sandbox.CallCount(""))
	// Output:
	// home_page_banner → Fly for less
	// newsletter_offer → 10% off your next trip
	// home_page_banner → Fly for less
	// API calls: 2
}

// Flow fails open: on any failure there is no result and an error that says why, so the page
// renders its default content.
func ExampleFlow() {
	srv := sandbox.NewServer(sandbox.New(sandbox.WithFlows(sandbox.Define("home_page_banner").Returns(map[string]any{"name": "x"}))))
	defer srv.Close()
	srv.Sandbox.SetFault(sandbox.Fault{Status: 500})
	client, _ := personalize.New(sandbox.DefaultClientKey, personalize.WithBaseURL(srv.URL), personalize.WithPointOfSale("airline.example"))
	defer client.Close(context.Background())
	ctx, done := personalize.StartPage(context.Background(), client, personalize.Visitor{BrowserID: "a38b230c-11eb-4cf9-8d5d-274e9f344925"})
	defer done()

	res, err := personalize.Flow(ctx, "home_page_banner")
	var apiErr *personalize.APIError
	fmt.Println(res == nil, errors.As(err, &apiErr), apiErr.StatusCode, personalize.OutcomeOf(err))
	// Output: true true 500 api_error
}
