package personalize_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-personalize/personalize/personalize"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const createdBrowserID = "0f0e0d0c-0b0a-4909-8807-060504030201"

// eventSite is a client with a sender against a recording endpoint, and a way to make pages.
type eventSite struct {
	rec     *recorder
	client  *personalize.Client
	sender  *personalize.Sender
	ensured atomic.Int64
}

func newEventSite(t *testing.T) *eventSite {
	t.Helper()
	site := &eventSite{rec: newRecorder(t, answerJSON(http.StatusCreated, `{"status":"OK"}`))}
	site.client = newClient(t, site.rec.srv.URL)
	site.sender = newSender(t, site.client, personalize.SenderOptions{})
	site.client.SetSender(site.sender)
	return site
}

// page returns a context with a page for v; an EnsureBrowserID that counts its calls is added
// when v has none.
func (site *eventSite) page(t *testing.T, v personalize.Visitor) context.Context {
	t.Helper()
	if v.EnsureBrowserID == nil {
		v.EnsureBrowserID = func(context.Context) (string, error) {
			site.ensured.Add(1)
			return createdBrowserID, nil
		}
	}
	p := personalize.NewPage(context.Background(), site.client, v)
	t.Cleanup(p.Close)
	return personalize.WithPage(context.Background(), p)
}

// flush closes the sender so that everything queued has arrived, and returns the bodies.
func (site *eventSite) flush(t *testing.T) []map[string]any {
	t.Helper()
	require.NoError(t, closeWithin(t, site.sender, 10*time.Second))
	site.rec.mu.Lock()
	defer site.rec.mu.Unlock()
	out := make([]map[string]any, 0, len(site.rec.bodies))
	for _, b := range site.rec.bodies {
		out = append(out, eventBody(t, b, time.Time{}, time.Now()))
	}
	return out
}

func TestPageHelpersSendEventsForTheVisitor(t *testing.T) {
	site := newEventSite(t)
	ctx := site.page(t, personalize.Visitor{
		BrowserID: seedBrowserID,
		Referrer:  "https://news.example/",
		UTM:       map[string]string{"campaign": "summer_sale"},
		Language:  "fr",
	})

	require.NoError(t, personalize.FromContext(ctx).SendView(ctx, "/destinations/lisbon"))
	require.NoError(t, personalize.Track(ctx, "ADD_TO_CART", map[string]any{"sku": "BAG-20KG"},
		personalize.EventPage("/booking"), personalize.EventData(map[string]any{"value": 35})))
	require.NoError(t, personalize.Identify(ctx, personalize.Guest{
		Identifiers: []personalize.GuestIdentifier{{ID: "u-1", Provider: "example_site"}},
		FirstName:   "Jane",
	}, personalize.EventPage("/sign-in")))

	bodies := site.flush(t)
	require.Len(t, bodies, 3)
	base := `"browser_id":"` + seedBrowserID + `","channel":"WEB","client_key":"` + seedClientKey + `",
		"currency":"EUR","language":"fr","pos":"myretailsite/ireland"`
	byType := map[string]string{}
	for _, b := range bodies {
		byType[b["type"].(string)] = mustJSON(t, b)
	}
	assert.JSONEq(t, `{"type":"VIEW",`+base+`,"page":"/destinations/lisbon","referrer":"https://news.example/",
		"utm_campaign":"summer_sale"}`, byType["VIEW"])
	assert.JSONEq(t, `{"type":"ADD_TO_CART",`+base+`,"page":"/booking","ext":{"sku":"BAG-20KG"},"value":35}`, byType["ADD_TO_CART"])
	assert.JSONEq(t, `{"type":"IDENTITY",`+base+`,"page":"/sign-in",
		"identifiers":[{"id":"u-1","provider":"example_site"}],"firstname":"Jane"}`, byType["IDENTITY"])
	assert.Zero(t, site.ensured.Load(), "the visitor's browser ID was used")
}

func TestPageEventsCreateABrowserIDWhenThePageHasNone(t *testing.T) {
	site := newEventSite(t)
	ctx := site.page(t, personalize.Visitor{Path: "/booking"})
	require.NoError(t, personalize.Track(ctx, "ADD_TO_CART", nil))
	require.NoError(t, personalize.Track(ctx, "REMOVE_FROM_CART", nil))
	assert.Equal(t, createdBrowserID, personalize.FromContext(ctx).BrowserID(), "later code sees the new ID")
	bodies := site.flush(t)
	require.Len(t, bodies, 2)
	for _, b := range bodies {
		assert.Equal(t, createdBrowserID, b["browser_id"])
	}
	assert.Equal(t, int64(1), site.ensured.Load(), "one browser is created per page")
}

func TestPageEventsThatAreNotSent(t *testing.T) {
	failing := func(context.Context) (string, error) {
		return "", errors.New("personalize: api unavailable: test")
	}
	tests := []struct {
		name    string
		visitor personalize.Visitor
		send    func(ctx context.Context) error
		is      error
	}{
		{"blocked visitor", personalize.Visitor{Blocked: "no consent"},
			func(ctx context.Context) error { return personalize.Track(ctx, "ADD_TO_CART", nil) }, personalize.ErrNoVisitor},
		{"blocked visitor identifies", personalize.Visitor{Blocked: "bot", AllowKnownIdentities: true},
			func(ctx context.Context) error {
				return personalize.Identify(ctx, personalize.Guest{Identifiers: []personalize.GuestIdentifier{{ID: "u", Provider: "p"}}})
			}, personalize.ErrNoVisitor},
		{"VIEW through Track", personalize.Visitor{},
			func(ctx context.Context) error { return personalize.Track(ctx, "VIEW", nil) }, personalize.ErrInvalidRequest},
		{"IDENTITY through Track", personalize.Visitor{},
			func(ctx context.Context) error { return personalize.Track(ctx, "IDENTITY", nil) }, personalize.ErrInvalidRequest},
		{"lower-case type", personalize.Visitor{},
			func(ctx context.Context) error { return personalize.Track(ctx, "add_to_cart", nil) }, personalize.ErrInvalidRequest},
		{"nested ext", personalize.Visitor{},
			func(ctx context.Context) error {
				return personalize.Track(ctx, "ADD_TO_CART", map[string]any{"item": map[string]any{}})
			}, personalize.ErrInvalidRequest},
		{"identify without identifiers", personalize.Visitor{},
			func(ctx context.Context) error { return personalize.Identify(ctx, personalize.Guest{Email: "a@b.co"}) }, personalize.ErrInvalidRequest},
		{"view without a page", personalize.Visitor{},
			func(ctx context.Context) error { return personalize.FromContext(ctx).SendView(ctx, "") }, personalize.ErrInvalidRequest},
		{"no page in context", personalize.Visitor{},
			func(context.Context) error { return personalize.Track(context.Background(), "ADD_TO_CART", nil) }, personalize.ErrNoPage},
		{"browser ID cannot be had", personalize.Visitor{EnsureBrowserID: failing},
			func(ctx context.Context) error { return personalize.Track(ctx, "ADD_TO_CART", nil) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newEventSite(t)
			ctx := site.page(t, tt.visitor)
			err := tt.send(ctx)
			require.Error(t, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.Zero(t, site.ensured.Load(), "no browser ID was created for an event not sent")
			assert.Empty(t, site.flush(t))
			assert.Zero(t, site.rec.hits.Load())
		})
	}
}

func TestPageEventsNeedASender(t *testing.T) {
	rec := newRecorder(t, answerJSON(http.StatusCreated, `{}`))
	c := newClient(t, rec.srv.URL)
	p := personalize.NewPage(context.Background(), c, personalize.Visitor{BrowserID: seedBrowserID})
	defer p.Close()
	ctx := personalize.WithPage(context.Background(), p)
	assert.ErrorIs(t, personalize.Track(ctx, "ADD_TO_CART", nil), personalize.ErrNoSender)
	assert.ErrorIs(t, p.SendView(ctx, "/"), personalize.ErrNoSender)

	var nilPage *personalize.Page
	assert.ErrorIs(t, nilPage.SendView(ctx, "/"), personalize.ErrNoPage)
	assert.ErrorIs(t, nilPage.Enqueue(ctx, personalize.NewViewEvent("/", "", nil)), personalize.ErrNoPage)
}

func TestPageEnqueueSendsTheRequestsOwnView(t *testing.T) {
	site := newEventSite(t)
	ctx := site.page(t, personalize.Visitor{BrowserID: seedBrowserID, UTM: map[string]string{"campaign": "from_session"}})
	// A middleware with the request at hand sends the request's own UTM, not the visit's.
	err := personalize.FromContext(ctx).Enqueue(ctx, personalize.NewViewEvent("/", "", map[string]string{"source": "ad"}))
	require.NoError(t, err)
	bodies := site.flush(t)
	require.Len(t, bodies, 1)
	assert.Equal(t, "ad", bodies[0]["utm_source"])
	assert.NotContains(t, bodies[0], "utm_campaign")
}
