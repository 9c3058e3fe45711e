package personalize_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-personalize/sdk/personalize"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var requestedAtFormat = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// eventBody decodes an event body as received, checks requested_at's format and that it is
// within the window, and returns the body without it.
func eventBody(t *testing.T, raw []byte, from, to time.Time) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), "body: %s", raw)
	at, ok := m["requested_at"].(string)
	require.True(t, ok, "requested_at is a string: %s", raw)
	require.Regexp(t, requestedAtFormat, at)
	when, err := time.Parse(time.RFC3339Nano, at)
	require.NoError(t, err)
	assert.False(t, when.Before(from.Truncate(time.Millisecond)) || when.After(to), "requested_at %s is the time of sending", at)
	delete(m, "requested_at")
	return m
}

func TestEventBodiesAsTheAPIReceivesThem(t *testing.T) {
	key, pos := tenantFields(t, seedClientKey, "myretailsite/ireland")
	base := `"browser_id":"` + seedBrowserID + `","channel":"WEB","client_key":"` + key + `",
		"currency":"EUR","language":"EN","pos":"` + pos + `"`
	tests := []struct {
		name string
		ev   personalize.Event
		want string
	}{
		{"VIEW with referrer and top-level utm_* keys",
			withBrowser(personalize.Event{Type: personalize.EventView, Page: "/destinations/lisbon", Referrer: "https://news.example/",
				UTM: map[string]string{"campaign": "summer_sale", "Source": "newsletter", "bad key": "x"}}),
			`{"type":"VIEW",` + base + `,"page":"/destinations/lisbon","referrer":"https://news.example/",
				"utm_campaign":"summer_sale","utm_source":"newsletter"}`},
		{"VIEW with ext",
			withBrowser(personalize.Event{Type: "VIEW", Page: "home", Ext: map[string]any{"pageVariantId": "v2"}}),
			`{"type":"VIEW",` + base + `,"page":"home","ext":{"pageVariantId":"v2"}}`},
		{"IDENTITY with identifiers and profile fields",
			withBrowser(identityEvent(personalize.Guest{
				Identifiers: []personalize.GuestIdentifier{
					{ID: "u-123", Provider: "example_site"},
					{ID: "LP-9", Provider: "loyalty", Expiry: time.Date(2027, 1, 2, 3, 4, 5, 6e6, time.UTC)},
				},
				Email: "jane@example.com", FirstName: "Jane", LastName: "Doe", Title: "Dr", Gender: "female",
				DateOfBirth: time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), Mobile: "+3531", Phone: "+3532",
				Street: []string{"1 Main St", "Apt 2"}, City: "Dublin", State: "Leinster", Country: "IE", PostalCode: "D02",
			})),
			`{"type":"IDENTITY",` + base + `,"page":"/test",
				"identifiers":[{"id":"u-123","provider":"example_site"},
					{"id":"LP-9","provider":"loyalty","expiry_date":"2027-01-02T03:04"}],
				"email":"jane@example.com","firstname":"Jane","lastname":"Doe","title":"Dr","gender":"female",
				"dob":"1990-05-17T00:00","mobile":"+3531","phone":"+3532","street":["1 Main St","Apt 2"],"city":"Dublin","state":"Leinster",
				"country":"IE","postal_code":"D02"}`},
		{"custom with ext and data",
			withBrowser(personalize.Event{Type: "ADD_TO_CART", Page: "/booking",
				Ext:  map[string]any{"sku": "BAG-20KG", "price": 35.5, "quantity": 2, "insured": true},
				Data: map[string]any{"product": map[string]any{"name": "Bag"}}}),
			`{"type":"ADD_TO_CART",` + base + `,"page":"/booking",
				"ext":{"sku":"BAG-20KG","price":35.5,"quantity":2,"insured":true},"product":{"name":"Bag"}}`},
	}
	if !onEdge(t) { // through the Edge a point of sale is refused (TestEdgeEventsAsTheCloudSDKSendsThem)
		tests = append(tests, struct {
			name string
			ev   personalize.Event
			want string
		}{"per-event overrides",
			withBrowser(personalize.Event{Type: "SEARCH", Channel: "MOBILE_WEB", Language: "FR", Currency: "CHF", PointOfSale: "site/ch"}),
			`{"type":"SEARCH","browser_id":"` + seedBrowserID + `","channel":"MOBILE_WEB","client_key":"` + seedClientKey + `",
				"currency":"CHF","language":"FR","pos":"site/ch","page":"/test"}`})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, answerJSON(http.StatusCreated, `{"status":"OK","ref":"x"}`))
			c := newClient(t, rec.srv.URL)
			from := time.Now()
			require.NoError(t, c.SendEvent(context.Background(), tt.ev))
			got := eventBody(t, rec.lastBody(t), from, time.Now())
			assert.JSONEq(t, tt.want, mustJSON(t, got))

			r := rec.lastRequest(t)
			assert.Equal(t, http.MethodPost, r.Method)
			assert.Equal(t, apiPath(t, "/v1.2/events"), r.URL.Path)
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		})
	}
}

// identityEvent is an IDENTITY event for the guest.
func identityEvent(g personalize.Guest) personalize.Event {
	return personalize.Event{Type: personalize.EventIdentity, Guest: &g}
}

// withBrowser completes an event with what a page fills in: the browser ID and, when the test
// did not set one, a page.
func withBrowser(ev personalize.Event) personalize.Event {
	ev.BrowserID = seedBrowserID
	if ev.Page == "" {
		ev.Page = "/test"
	}
	return ev
}

func TestEventRequestedAtIsKeptAndSentInUTC(t *testing.T) {
	rec := newRecorder(t, answerJSON(http.StatusOK, ``))
	c := newClient(t, rec.srv.URL)
	at := time.Date(2026, 3, 4, 12, 30, 0, 123456789, time.FixedZone("CET", 3600))
	require.NoError(t, c.SendEvent(context.Background(), withBrowser(personalize.Event{Type: "X", RequestedAt: at})))
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.lastBody(t), &m))
	assert.Equal(t, "2026-03-04T11:30:00.123Z", m["requested_at"], "200 with an empty body is success too")
}

func TestInvalidEventsFailBeforeAnyNetworkCall(t *testing.T) {
	rec := newRecorder(t, answerJSON(http.StatusCreated, `{}`))
	c := newClient(t, rec.srv.URL)
	noPOS, err := personalize.New(seedClientKey, personalize.WithBaseURL(rec.srv.URL))
	require.NoError(t, err)
	tooMany := map[string]any{}
	for i := range personalize.MaxExtAttributes + 1 {
		tooMany["a"+itoa(i)] = i
	}
	guest := personalize.Guest{Identifiers: []personalize.GuestIdentifier{{ID: "u-1", Provider: "site"}}}
	tests := []struct {
		name   string
		client *personalize.Client
		ev     personalize.Event
	}{
		{"no type", c, withBrowser(personalize.Event{})},
		{"lower-case type", c, withBrowser(personalize.Event{Type: "add_to_cart"})},
		{"type with a space", c, withBrowser(personalize.Event{Type: "ADD TO CART"})},
		{"type starting with a digit", c, withBrowser(personalize.Event{Type: "1CLICK"})},
		{"missing browser ID", c, personalize.Event{Type: "ADD_TO_CART", Page: "/"}},
		{"custom event without a page", c, personalize.Event{Type: "ADD_TO_CART", BrowserID: seedBrowserID}},
		{"blank page", c, personalize.Event{Type: "ADD_TO_CART", BrowserID: seedBrowserID, Page: "  "}},
		{"page of whitespace", c, personalize.Event{Type: "VIEW", BrowserID: seedBrowserID, Page: "\t\n "}},
		{"browser ID with a wrong byte for a dash", c, personalize.Event{Type: "ADD_TO_CART", BrowserID: strings.Replace(seedBrowserID, "-", "0", 1), Page: "/"}},
		{"malformed browser ID", c, personalize.Event{Type: "ADD_TO_CART", BrowserID: "not-a-browser"}},
		{"VIEW without page", c, personalize.Event{Type: "VIEW", BrowserID: seedBrowserID}},
		{"IDENTITY without guest", c, withBrowser(personalize.Event{Type: "IDENTITY"})},
		{"IDENTITY with empty identifiers", c, withBrowser(identityEvent(personalize.Guest{Email: "a@b.co"}))},
		{"identifier without provider", c, withBrowser(identityEvent(personalize.Guest{
			Identifiers: []personalize.GuestIdentifier{{ID: "u-1"}}}))},
		{"identifier without id", c, withBrowser(identityEvent(personalize.Guest{
			Identifiers: []personalize.GuestIdentifier{{Provider: "site"}}}))},
		{"malformed email", c, withBrowser(identityEvent(personalize.Guest{
			Identifiers: guest.Identifiers, Email: "jane.example.com"}))},
		{"guest on a custom event", c, withBrowser(personalize.Event{Type: "LOGIN", Guest: &guest})},
		{"ext over 50 attributes", c, withBrowser(personalize.Event{Type: "X", Ext: tooMany})},
		{"nested ext value", c, withBrowser(personalize.Event{Type: "X", Ext: map[string]any{"product": map[string]any{"sku": "a"}}})},
		{"ext array value", c, withBrowser(personalize.Event{Type: "X", Ext: map[string]any{"skus": []string{"a"}}})},
		{"ext null value", c, withBrowser(personalize.Event{Type: "X", Ext: map[string]any{"sku": nil}})},
		{"ext NaN value", c, withBrowser(personalize.Event{Type: "X", Ext: map[string]any{"price": math.NaN()}})},
		{"ext name with underscore", c, withBrowser(personalize.Event{Type: "X", Ext: map[string]any{"product_sku": "a"}})},
		{"ext name upper-case first", c, withBrowser(personalize.Event{Type: "X", Ext: map[string]any{"ProductSku": "a"}})},
		{"ext empty name", c, withBrowser(personalize.Event{Type: "X", Ext: map[string]any{"": "a"}})},
		{"data replacing a base field", c, withBrowser(personalize.Event{Type: "X", Data: map[string]any{"browser_id": "x"}})},
		{"data replacing type", c, withBrowser(personalize.Event{Type: "X", Data: map[string]any{"type": "VIEW"}})},
		{"data replacing ext", c, withBrowser(personalize.Event{Type: "X", Data: map[string]any{"ext": map[string]any{}}})},
		{"data with a utm_ key", c, withBrowser(personalize.Event{Type: "X", Data: map[string]any{"UTM_source": "x"}})},
		{"data not JSON", c, withBrowser(personalize.Event{Type: "X", Data: map[string]any{"f": func() {}}})},
		{"lower-case channel", c, withBrowser(personalize.Event{Type: "X", Channel: "web"})},
		{"bad currency", c, withBrowser(personalize.Event{Type: "X", Currency: "EURO"})},
		{"bad language", c, withBrowser(personalize.Event{Type: "X", Language: "1"})},
		{"no point of sale", noPOS, withBrowser(personalize.Event{Type: "X"})},
		{"over the size cap", c, withBrowser(personalize.Event{Type: "X", Ext: map[string]any{"blob": strings.Repeat("a", 64<<10)}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.client.SendEvent(context.Background(), tt.ev)
			require.Error(t, err)
			assert.ErrorIs(t, err, personalize.ErrInvalidRequest)
			assert.True(t, strings.HasPrefix(err.Error(), "personalize: "), err.Error())
		})
	}
	assert.Zero(t, rec.hits.Load(), "no request reached the API")
}

func TestEventErrorsNeverHoldGuestValues(t *testing.T) {
	const email, id = "jane.doe@example.com", "customer-778899"
	// A guest with every field the redaction knows filled in, and one with most of them empty.
	full := personalize.Guest{Identifiers: []personalize.GuestIdentifier{{ID: id, Provider: "site"}, {ID: "LP-4455", Provider: "loyalty"}},
		Email: email, FirstName: "Janine", LastName: "Doemann", Mobile: "+353861234567", Phone: "+35312345678"}
	sparse := personalize.Guest{Identifiers: []personalize.GuestIdentifier{{ID: id, Provider: "site"}}, Email: email}
	secrets := []string{"jane.doe", id, "LP-4455", "Janine", "Doemann", "+353861234567", "+35312345678"}
	echoAll := `guest ` + email + ` / ` + id + ` / LP-4455 / Janine Doemann / +353861234567 / +35312345678 rejected`
	tests := []struct {
		name   string
		answer http.HandlerFunc
		guest  personalize.Guest
		want   string // the error, exactly; "" for an invalid request
	}{
		{"invalid email", answerJSON(201, `{}`), personalize.Guest{
			Identifiers: []personalize.GuestIdentifier{{ID: id, Provider: "site"}}, Email: "jane.doe@"}, ""},
		{"identifier without provider", answerJSON(201, `{}`), personalize.Guest{
			Identifiers: []personalize.GuestIdentifier{{ID: id}}, Email: email}, ""},
		{"API error object echoing them", answerJSON(400, `{"status":400,"code":"BAD","message":"guest `+email+` / `+id+` rejected","developerMessage":"`+id+`"}`),
			sparse, "personalize: api error: http 400 code BAD: guest [redacted] / [redacted] rejected ([redacted])"},
		{"API error object echoing every field", answerJSON(400, `{"status":400,"code":"BAD","message":"`+echoAll+`","developerMessage":"`+id+`"}`),
			full, "personalize: api error: http 400 code BAD: guest [redacted] / [redacted] / [redacted] / [redacted] [redacted] / [redacted] / [redacted] rejected ([redacted])"},
		{"API error body that is no error object", answerJSON(502, `bad gateway for `+email), sparse,
			"personalize: api error: http 502: [redacted]"},
		{"API error body that is no error object, every field", answerJSON(502, echoAll), full,
			"personalize: api error: http 502: [redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, tt.answer)
			var logs strings.Builder
			c := newClient(t, rec.srv.URL, personalize.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			err := c.SendEvent(context.Background(), withBrowser(identityEvent(tt.guest)))
			require.Error(t, err)
			if tt.want == "" {
				assert.ErrorIs(t, err, personalize.ErrInvalidRequest)
				assert.Zero(t, rec.hits.Load())
			} else {
				assert.Equal(t, tt.want, err.Error(), "the values are replaced, the rest is kept")
				assert.Equal(t, int64(1), rec.hits.Load())
			}
			for _, secret := range secrets {
				assert.NotContains(t, err.Error(), secret)
				assert.NotContains(t, logs.String(), secret)
			}
		})
	}
}

// An IDENTITY event that the API rejects echoing the guest is logged (at warn, by the queue's
// worker) without the guest's values.
func TestQueuedEventErrorsNeverLogGuestValues(t *testing.T) {
	const email, id = "jane.doe@example.com", "customer-778899"
	for name, answer := range map[string]http.HandlerFunc{
		"error object": answerJSON(400, `{"status":400,"code":"BAD","message":"guest `+email+` / `+id+` rejected"}`),
		"not JSON":     answerJSON(502, `bad gateway for `+email+` / `+id),
	} {
		t.Run(name, func(t *testing.T) {
			rec := newRecorder(t, answer)
			var logs lockedBuffer
			c, page := eventClient(t, rec.srv.URL, personalize.EventOptions{RetryBackoff: -1},
				personalize.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			require.NoError(t, personalize.Identify(page, personalize.Guest{
				Identifiers: []personalize.GuestIdentifier{{ID: id, Provider: "site"}}, Email: email, FirstName: "Janine"}))
			_ = c.Close(context.Background())
			lines := logs.lines("level=WARN", "event not delivered")
			require.Len(t, lines, 1, logs.String())
			assert.Contains(t, lines[0], "[redacted]")
			for _, secret := range []string{"jane.doe", id, "Janine"} {
				assert.NotContains(t, logs.String(), secret)
			}
		})
	}
}

func TestEventAnswersThatAreErrors(t *testing.T) {
	tests := []struct {
		name   string
		answer http.HandlerFunc
		status int
	}{
		{"404 unknown browser", answerJSON(404, `{"status":404,"code":"NOT_FOUND","message":"unknown browser"}`), 404},
		{"400", answerJSON(400, `{"status":400,"code":"MV","message":"pos is required"}`), 400},
		{"500", answerJSON(500, `oops`), 500},
		{"error object with 200", answerJSON(200, `{"status":500,"code":"E","message":"failed"}`), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, tt.answer)
			c := newClient(t, rec.srv.URL)
			err := c.SendEvent(context.Background(), withBrowser(personalize.Event{Type: "X"}))
			var apiErr *personalize.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, int64(1), rec.hits.Load(), "no retry")
		})
	}
}

func TestEventsDoNotTouchTheBreaker(t *testing.T) {
	rec := newRecorder(t, answerJSON(500, `{"status":500,"message":"down"}`))
	c := newClient(t, rec.srv.URL, personalize.WithBreaker(personalize.BreakerSettings{Failures: 2}))
	for range 5 {
		require.Error(t, c.SendEvent(context.Background(), withBrowser(personalize.Event{Type: "X"})))
	}
	assert.Equal(t, int64(5), rec.hits.Load(), "failing events are all sent")
	_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
	assert.NotErrorIs(t, err, personalize.ErrBreakerOpen, "and leave flows alone")
	assert.Equal(t, int64(6), rec.hits.Load(), "the flow call reached the API")
}

func TestEventLimitsAreInclusive(t *testing.T) {
	rec := newRecorder(t, answerJSON(http.StatusCreated, `{}`))
	c := newClient(t, rec.srv.URL)
	ext := map[string]any{}
	for i := range personalize.MaxExtAttributes {
		ext["a"+itoa(i)] = i
	}
	ext["a0"] = json.Number("1.5e3")
	require.NoError(t, c.SendEvent(context.Background(), withBrowser(personalize.Event{Type: "X", Ext: ext})))
	var m struct {
		Ext map[string]any `json:"ext"`
	}
	require.NoError(t, json.Unmarshal(rec.lastBody(t), &m))
	assert.Len(t, m.Ext, personalize.MaxExtAttributes)
	assert.Equal(t, 1500.0, m.Ext["a0"])
}
