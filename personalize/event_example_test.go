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

	"github.com/go-personalize/sdk/personalize"
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

// Track and Identify queue events for the page's visitor without waiting for the API; the
// client sends them, and Close delivers what is still queued at shutdown.
func Example_events() {
	api, received := eventAPI()
	defer api.Close()
	client, err := personalize.New("my-client-key",
		personalize.WithBaseURL(api.URL),
		personalize.WithPointOfSale("mysite/ireland"),
	)
	if err != nil {
		panic(err)
	}

	// In a request (the middleware starts the page):
	ctx, done := personalize.StartPage(context.Background(), client, personalize.Visitor{
		BrowserID: "a38b230c-11eb-4cf9-8d5d-274e9f344925",
		Path:      "/booking", // the page of the visitor's events
	})
	_ = personalize.Track(ctx, "ADD_TO_CART", map[string]any{"sku": "BAG-20KG", "price": 35.0})
	_ = personalize.Identify(ctx, personalize.Guest{
		Identifiers: []personalize.GuestIdentifier{{ID: "user-42", Provider: "mysite"}},
	})
	done()

	// At shutdown, deliver what is queued.
	if err := client.Close(context.Background()); err != nil {
		fmt.Println(err)
	}
	st := client.EventStats()
	fmt.Printf("sent %d, failed %d, dropped %d\n", st.Sent, st.Failed, st.Dropped)
	fmt.Println(strings.Join(received(), " "))
	// Output:
	// sent 2, failed 0, dropped 0
	// ADD_TO_CART IDENTITY
}

// SendEvent sends one event outside a page and waits for the answer; here, the body the
// Stream API receives for a page view.
func ExampleClient_SendEvent() {
	var body map[string]any
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.WriteHeader(http.StatusCreated)
	}))
	defer api.Close()
	client, err := personalize.New("my-client-key", personalize.WithBaseURL(api.URL), personalize.WithPointOfSale("mysite/ireland"))
	if err != nil {
		panic(err)
	}
	defer client.Close(context.Background())

	err = client.SendEvent(context.Background(), personalize.Event{
		Type:      personalize.EventView,
		BrowserID: "a38b230c-11eb-4cf9-8d5d-274e9f344925",
		Page:      "/destinations/lisbon",
		Referrer:  "https://news.example/",
		UTM:       map[string]string{"campaign": "summer_sale"},
	})
	if err != nil {
		panic(err)
	}
	delete(body, "requested_at") // the time of sending, e.g. 2026-03-04T11:30:00.123Z
	sorted, _ := json.MarshalIndent(body, "", "  ")
	fmt.Println(string(sorted))

	err = client.SendEvent(context.Background(), personalize.Event{Type: "add_to_cart", BrowserID: "a38b230c-11eb-4cf9-8d5d-274e9f344925", Page: "/"})
	fmt.Println(err)
	// Output:
	// {
	//   "browser_id": "a38b230c-11eb-4cf9-8d5d-274e9f344925",
	//   "channel": "WEB",
	//   "client_key": "my-client-key",
	//   "currency": "EUR",
	//   "language": "EN",
	//   "page": "/destinations/lisbon",
	//   "pos": "mysite/ireland",
	//   "referrer": "https://news.example/",
	//   "type": "VIEW",
	//   "utm_campaign": "summer_sale"
	// }
	// personalize: invalid request: event type "add_to_cart" must be upper-case letters, digits and underscores (e.g. ADD_TO_CART)
}
