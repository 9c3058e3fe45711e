package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	for _, p := range sb.Routes() {
		fmt.Println(p)
	}
	// Output:
	// /v2/callFlows
	// /v1.2/browser/create.json
	// /v1.2/events
	// /v1.2/event/create.json
	// /v3/trackers/
	// /v1/personalize
	// /v1/events/v1.2/browser/create.json
	// /v1/events/v1.2/browser/
	// /v1/events/v1.2/events
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

// Declaring the tenant's points of sale: an event with another one is answered 201 but
// dropped, as the real API drops it, and a flow call with another one is refused.
func ExampleWithPointsOfSale() {
	srv := sandbox.NewServer(sandbox.New(sandbox.WithPointsOfSale("airline.example"),
		sandbox.WithFlows(sandbox.Define("home_page_banner").Returns(map[string]any{"title": "Fly for less"}))))
	defer srv.Close()
	client, err := personalize.New(sandbox.DefaultClientKey,
		personalize.WithBaseURL(srv.URL), personalize.WithPointOfSale("airline.exmaple")) // a typo
	if err != nil {
		panic(err)
	}
	defer client.Close(context.Background())

	ctx := context.Background()
	browserID, _ := client.CreateBrowser(ctx)
	err = client.SendEvent(ctx, personalize.Event{Type: "VIEW", BrowserID: browserID, Page: "/"})
	fmt.Println("event:", err, len(srv.Sandbox.Events()), "kept", len(srv.Sandbox.DroppedEvents()), "dropped:",
		srv.Sandbox.DroppedEvents()[0].Dropped.Code)
	_, err = client.CallFlow(ctx, personalize.FlowRequest{FriendlyID: "home_page_banner", Identity: personalize.ByBrowserID(browserID)})
	fmt.Println("flow:", srv.Sandbox.Calls()[0].Status, srv.Sandbox.Calls()[0].Code, err != nil)
	// Output:
	// event: <nil> 0 kept 1 dropped: UNKNOWN_POINT_OF_SALE
	// flow: 400 UNKNOWN_POINT_OF_SALE true
}

// What an unknown flow answers, strictly (the default) and leniently; the record says what was
// wrong either way.
func ExampleWithUndocumentedAnswers() {
	for _, answers := range []sandbox.Answers{sandbox.AnswerStrict, sandbox.AnswerLenient} {
		srv := sandbox.NewServer(sandbox.New(sandbox.WithUndocumentedAnswers(answers)))
		body := `{"clientKey":"sandbox-client-key","channel":"WEB","language":"EN","currencyCode":"EUR",` +
			`"pointOfSale":"example","email":"jane@example.com","friendlyId":"nope"}`
		resp, err := srv.Client().Post(srv.URL+sandbox.PathCallFlows, "application/json", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(answers, resp.StatusCode, len(b) > 2, srv.Sandbox.Calls()[0].Code)
		srv.Close()
	}
	// Output:
	// strict 404 true FLOW_NOT_FOUND
	// lenient 200 false FLOW_NOT_FOUND
}

// Sending an event the documented direct way, GET /v1.2/event/create.json with the event as
// the URL-encoded message.
func ExampleServer_eventCreate() {
	srv := sandbox.NewServer(sandbox.New())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + sandbox.PathBrowserCreate + "?client_key=sandbox-client-key&message={}")
	if err != nil {
		panic(err)
	}
	var created struct{ Ref string }
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()

	for _, lang := range []string{"EN", "en-GB"} {
		message := `{"channel":"WEB","type":"VIEW","language":"` + lang + `","currency":"EUR","page":"home",` +
			`"pos":"example","browser_id":"` + created.Ref + `"}`
		q := url.Values{"client_key": {sandbox.DefaultClientKey}, "message": {message}}
		resp, err := srv.Client().Get(srv.URL + sandbox.PathEventCreate + "?" + q.Encode())
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(lang, resp.StatusCode)
	}
	fmt.Println(len(srv.Sandbox.Events()), "event")
	// Output:
	// EN 201
	// en-GB 400
	// 1 event
}

// An embedded personalization flow through the Sitecore Edge: the Cloud SDK offers the page's
// variants and the flow answers the one the campaign picks.
func ExampleFlowDef_ReturnsVariant() {
	srv := sandbox.NewServer(sandbox.New(sandbox.WithFlows(
		sandbox.Define("embedded_a1b2_en").ReturnsVariant(func(r *sandbox.Request) string {
			if r.UTM("campaign") == "summer_sale" {
				return sandbox.VariantAt(-1)(r)
			}
			return "" // the flow's response: {}
		}),
	)))
	defer srv.Close()

	// The body and query the Cloud SDK sends (personalizer.ts, send-call-flows-request.ts).
	call := func(campaign string) string {
		body := `{"channel":"WEB","clientKey":"","currencyCode":"EUR","friendlyId":"embedded_a1b2_en",` +
			`"guestRef":"","language":"EN","pointOfSale":"","browserId":"a38b230c-11eb-4cf9-8d5d-274e9f344925",` +
			`"params":{"utm":{"campaign":"` + campaign + `"}},"variants":["a1b2_en_default","a1b2_en_v1"]}`
		q := url.Values{"sitecoreContextId": {sandbox.DefaultContextID}, "siteId": {sandbox.DefaultSiteName}}
		resp, err := srv.Client().Post(srv.URL+sandbox.PathEdgePersonalize+"?"+q.Encode(), "application/json", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	fmt.Println(call("summer_sale"))
	fmt.Println(call("other"))
	// Output:
	// {"variantId":"a1b2_en_v1"}
	// {}
}
