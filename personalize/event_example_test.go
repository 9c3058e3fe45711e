package personalize_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"

	"github.com/go-personalize/personalize/personalize"
)

// eventAPI is a stand-in for the Stream API that collects the types of the events it receives.
func eventAPI() (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var types []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Type string `json:"type"`
		}
		_ = json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		types = append(types, ev.Type)
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"status":"OK"}`)
	}))
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(types)
		slices.Sort(out)
		return out
	}
}

// A Sender sends a site's events off the request path; pages queue them with Track, Identify
// and SendView for their visitor.
func ExampleNewSender() {
	api, received := eventAPI()
	defer api.Close()
	client, err := personalize.New("my-client-key",
		personalize.WithBaseURL(api.URL),
		personalize.WithPointOfSale("mysite/ireland"),
	)
	if err != nil {
		panic(err)
	}
	defer client.CloseIdleConnections()

	events, err := personalize.NewSender(client, personalize.SenderOptions{})
	if err != nil {
		panic(err)
	}
	client.SetSender(events)

	// In a request (the middleware makes the page):
	page := personalize.NewPage(context.Background(), client, personalize.Visitor{
		BrowserID: "a38b230c-11eb-4cf9-8d5d-274e9f344925",
		Path:      "/booking", // the page of the visitor's events
	})
	ctx := personalize.WithPage(context.Background(), page)
	_ = page.SendView(ctx, "/booking")
	_ = personalize.Track(ctx, "ADD_TO_CART", map[string]any{"sku": "BAG-20KG", "price": 35.0})
	_ = personalize.Identify(ctx, personalize.Guest{
		Identifiers: []personalize.GuestIdentifier{{ID: "user-42", Provider: "mysite"}},
	})
	page.Close()

	// At shutdown, deliver what is queued.
	if err := events.Close(context.Background()); err != nil {
		fmt.Println(err)
	}
	st := events.Stats()
	fmt.Printf("sent %d, failed %d, dropped %d\n", st.Sent, st.Failed, st.Dropped)
	fmt.Println(strings.Join(received(), " "))
	// Output:
	// sent 3, failed 0, dropped 0
	// ADD_TO_CART IDENTITY VIEW
}

// EncodeEvent shows the body SendEvent and a Sender post to /v1.2/events.
func ExampleClient_EncodeEvent() {
	client, err := personalize.New("my-client-key", personalize.WithPointOfSale("mysite/ireland"))
	if err != nil {
		panic(err)
	}
	ev := personalize.NewViewEvent("/destinations/lisbon", "https://news.example/",
		map[string]string{"campaign": "summer_sale"})
	ev.BrowserID = "a38b230c-11eb-4cf9-8d5d-274e9f344925"
	body, err := client.EncodeEvent(ev)
	if err != nil {
		panic(err)
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	delete(m, "requested_at") // the time of sending, e.g. 2026-03-04T11:30:00.123Z
	sorted, _ := json.MarshalIndent(m, "", "  ")
	fmt.Println(string(sorted))

	_, err = client.EncodeEvent(personalize.Event{Type: "add_to_cart", BrowserID: ev.BrowserID})
	fmt.Println(err)
	// Output:
	// {
	//   "browser_id": "a38b230c-11eb-4cf9-8d5d-274e9f344925",
	//   "channel": "WEB",
	//   "client_key": "my-client-key",
	//   "currency": "EUR",
	//   "language": "en",
	//   "page": "/destinations/lisbon",
	//   "pos": "mysite/ireland",
	//   "referrer": "https://news.example/",
	//   "type": "VIEW",
	//   "utm_campaign": "summer_sale"
	// }
	// personalize: invalid request: event type "add_to_cart" must be upper-case letters, digits and underscores (e.g. ADD_TO_CART)
}
