package sandbox_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// A test server with one flow, called with the real client.
func Example() {
	srv := sandbox.NewServer(sandbox.New(sandbox.WithFlows(
		sandbox.Define("home_page_banner").
			Returns(map[string]any{"title": "Fly for less", "destination": "/flights"}).
			When(sandbox.UTMIs("campaign", "summer_sale"), map[string]any{"title": "Summer sale", "destination": "/sale"}),
	)))
	defer srv.Close()

	client, err := personalize.New(sandbox.DefaultClientKey,
		personalize.WithBaseURL(srv.URL), personalize.WithPointOfSale("example"))
	if err != nil {
		panic(err)
	}
	defer client.Close(context.Background())

	ctx := context.Background()
	browserID, _ := client.CreateBrowser(ctx)
	for _, campaign := range []string{"", "summer_sale"} {
		res, err := client.CallFlow(ctx, personalize.FlowRequest{
			FriendlyID: "home_page_banner",
			Identity:   personalize.ByBrowserID(browserID),
			UTM:        map[string]string{"campaign": campaign},
		})
		if err != nil {
			panic(err)
		}
		offer := res.Offers()[0]
		fmt.Println(offer.Name(), strings.HasPrefix(offer.TrackingURL(), srv.URL+"/v3/trackers/"))
	}
	fmt.Println(srv.Sandbox.CallCount("home_page_banner"), "calls")
	// Output:
	// Fly for less true
	// Summer sale true
	// 2 calls
}

// Calling a flow with plain net/http, and what an unknown flow answers.
func ExampleServer() {
	srv := sandbox.NewServer(sandbox.New(sandbox.WithFlows(
		sandbox.Define("newsletter_offer").Returns(map[string]any{"title": "10% off your next trip"}),
	)))
	defer srv.Close()

	for _, id := range []string{"newsletter_offer", "nope"} {
		body := `{"clientKey":"sandbox-client-key","channel":"WEB","language":"en","currencyCode":"EUR",` +
			`"pointOfSale":"example","email":"jane@example.com","friendlyId":"` + id + `"}`
		resp, err := srv.Client().Post(srv.URL+"/v2/callFlows", "application/json", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(b))
	}
	// Output:
	// 200 {"title":"10% off your next trip"}
	// 404 {"status":404,"code":"FLOW_NOT_FOUND","message":"Not Found","developerMessage":"sandbox: no flow with friendlyId \"nope\"","moreInfoUrl":"https://doc.sitecore.com/personalize/en/developers/api/response-codes.html"}
}

// Mounting the sandbox in a site's mux, next to the site's own pages.
func ExampleSandbox_Routes() {
	sb := sandbox.New()
	mux := http.NewServeMux()
	for _, p := range sb.Routes() {
		mux.Handle(p, sb)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "home") })
	fmt.Println(sb.Routes())
	// Output:
	// [/v2/callFlows /v1.2/browser/create.json /v1.2/events /v3/trackers/]
}

// A flow that greets a guest who signed in (sent an IDENTITY event) by first name.
func ExampleHasEvent() {
	srv := sandbox.NewServer(sandbox.New(sandbox.WithFlows(
		sandbox.Define("home_page_banner").
			Returns(map[string]any{"title": "Fly for less"}).
			When(sandbox.HasEvent("IDENTITY"), map[string]any{"title": "Welcome back, {{guest.firstname}}"}),
	)))
	defer srv.Close()
	client, err := personalize.New(sandbox.DefaultClientKey,
		personalize.WithBaseURL(srv.URL), personalize.WithPointOfSale("example"))
	if err != nil {
		panic(err)
	}
	defer client.Close(context.Background())

	ctx := context.Background()
	browserID, _ := client.CreateBrowser(ctx)
	banner := func() string {
		res, err := client.CallFlow(ctx, personalize.FlowRequest{
			FriendlyID: "home_page_banner", Identity: personalize.ByBrowserID(browserID),
		})
		if err != nil {
			panic(err)
		}
		return res.Offers()[0].Name()
	}
	fmt.Println(banner())

	signIn := personalize.Event{Type: personalize.EventIdentity, BrowserID: browserID, Page: "/signin",
		Guest: &personalize.Guest{
			Identifiers: []personalize.GuestIdentifier{{ID: "GA-1001", Provider: "GO_AIRWAYS"}},
			FirstName:   "Ada",
		}}
	if err := client.SendEvent(ctx, signIn); err != nil {
		panic(err)
	}
	fmt.Println(banner())
	// Output:
	// Fly for less
	// Welcome back, Ada
}
