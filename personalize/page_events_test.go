package personalize_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-personalize/sdk/internal/seam"
	"github.com/go-personalize/sdk/personalize"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const createdBrowserID = "0f0e0d0c-0b0a-4909-8807-060504030201"

// eventSite is a client against a recording events endpoint, served in memory (make it in a
// synctest bubble), and a way to make pages.
type eventSite struct {
	rec     *recorder
	client  *personalize.Client
	ensured atomic.Int64
	pages   []seam.Page
}

func newEventSite(t *testing.T) *eventSite {
	t.Helper()
	site := &eventSite{rec: newMemRecorder(t, answerJSON(http.StatusCreated, `{"status":"OK"}`))}
	site.client = memClient(t, site.rec.mem)
	return site
}

// page returns a context with a page for v, as the middleware makes it; an EnsureBrowserID
// that counts its calls is added when v has none.
func (site *eventSite) page(t *testing.T, v seam.Visitor) context.Context {
	t.Helper()
	if v.EnsureBrowserID == nil {
		v.EnsureBrowserID = func(context.Context) (string, string, error) {
			site.ensured.Add(1)
			return createdBrowserID, "", nil
		}
	}
	ctx, p := newPage(t, context.Background(), site.client, v)
	site.pages = append(site.pages, p)
	return ctx
}

// flush ends the requests (their pages: events still waiting for a browser ID are queued by
// then) and closes the client so that everything queued has arrived, and returns the bodies.
func (site *eventSite) flush(t *testing.T) []map[string]any {
	t.Helper()
	for _, p := range site.pages {
		p.Close()
	}
	require.NoError(t, closeWithin(t, site.client, 10*time.Second))
	site.rec.mu.Lock()
	defer site.rec.mu.Unlock()
	out := make([]map[string]any, 0, len(site.rec.bodies))
	for _, b := range site.rec.bodies {
		out = append(out, eventBody(t, b, time.Time{}, time.Now()))
	}
	return out
}

func TestPageHelpersSendEventsForTheVisitor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newEventSite(t)
		ctx := site.page(t, seam.Visitor{
			BrowserID: seedBrowserID,
			Path:      "/booking",
			Referrer:  "https://news.example/",
			UTM:       map[string]string{"campaign": "summer_sale"},
			Language:  "fr",
		})

		require.NoError(t, seam.ClientOf(site.client).QueueView(context.Background(), seedBrowserID, "/destinations/lisbon", "https://news.example/",
			map[string]string{"campaign": "summer_sale"}, ""))
		require.NoError(t, personalize.Track(ctx, "ADD_TO_CART", map[string]any{"sku": "BAG-20KG"}))
		require.NoError(t, personalize.Identify(ctx, personalize.Guest{
			Identifiers: []personalize.GuestIdentifier{{ID: "u-1", Provider: "example_site"}},
			FirstName:   "Jane",
		}))
		require.NoError(t, personalize.Track(ctx, "SUBSCRIBE", nil, personalize.WithCurrency("CHF"), personalize.WithLanguage("de")))

		bodies := site.flush(t)
		require.Len(t, bodies, 4)
		key, pos := tenantFields(t, seedClientKey, "myretailsite/ireland")
		base := `"browser_id":"` + seedBrowserID + `","channel":"WEB","client_key":"` + key + `",
			"currency":"EUR","language":"FR","pos":"` + pos + `"`
		byType := map[string]string{}
		for _, b := range bodies {
			byType[b["type"].(string)] = mustJSON(t, b)
		}
		// The middleware queues page views for the client, not the page: the client's language.
		assert.JSONEq(t, `{"type":"VIEW",`+strings.Replace(base, `"language":"FR"`, `"language":"EN"`, 1)+`,"page":"/destinations/lisbon",
			"referrer":"https://news.example/","utm_campaign":"summer_sale"}`, byType["VIEW"])
		assert.JSONEq(t, `{"type":"ADD_TO_CART",`+base+`,"page":"/booking","ext":{"sku":"BAG-20KG"}}`, byType["ADD_TO_CART"])
		assert.JSONEq(t, `{"type":"IDENTITY",`+base+`,"page":"/booking",
			"identifiers":[{"id":"u-1","provider":"example_site"}],"firstname":"Jane"}`, byType["IDENTITY"])
		assert.JSONEq(t, `{"type":"SUBSCRIBE","browser_id":"`+seedBrowserID+`","channel":"WEB","client_key":"`+key+`",
			"currency":"CHF","language":"DE","pos":"`+pos+`","page":"/booking"}`, byType["SUBSCRIBE"], "settings override one event")
		assert.Zero(t, site.ensured.Load(), "the visitor's browser ID was used")
	})
}

func TestPageEventsCreateABrowserIDWhenThePageHasNone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		site := newEventSite(t)
		ctx := site.page(t, seam.Visitor{Path: "/booking"})
		require.NoError(t, personalize.Track(ctx, "ADD_TO_CART", nil))
		require.NoError(t, personalize.Track(ctx, "REMOVE_FROM_CART", nil))
		bodies := site.flush(t)
		require.Len(t, bodies, 2)
		for _, b := range bodies {
			assert.Equal(t, createdBrowserID, b["browser_id"])
		}
		assert.Equal(t, int64(1), site.ensured.Load(), "one browser is created per page")
	})
}

func TestPageEventsThatAreNotSent(t *testing.T) {
	tests := []struct {
		name    string
		visitor seam.Visitor
		send    func(ctx context.Context) error
		is      error
	}{
		{"blocked visitor", seam.Visitor{Path: "/", Blocked: "no consent"},
			func(ctx context.Context) error { return personalize.Track(ctx, "ADD_TO_CART", nil) }, personalize.ErrNoVisitor},
		{"blocked visitor identifies", seam.Visitor{Path: "/", Blocked: "bot", AllowKnownIdentities: true},
			func(ctx context.Context) error {
				return personalize.Identify(ctx, personalize.Guest{Identifiers: []personalize.GuestIdentifier{{ID: "u", Provider: "p"}}})
			}, personalize.ErrNoVisitor},
		{"VIEW through Track", seam.Visitor{Path: "/"},
			func(ctx context.Context) error { return personalize.Track(ctx, "VIEW", nil) }, personalize.ErrInvalidRequest},
		{"IDENTITY through Track", seam.Visitor{Path: "/"},
			func(ctx context.Context) error { return personalize.Track(ctx, "IDENTITY", nil) }, personalize.ErrInvalidRequest},
		{"lower-case type", seam.Visitor{Path: "/"},
			func(ctx context.Context) error { return personalize.Track(ctx, "add_to_cart", nil) }, personalize.ErrInvalidRequest},
		{"nested ext", seam.Visitor{Path: "/"},
			func(ctx context.Context) error {
				return personalize.Track(ctx, "ADD_TO_CART", map[string]any{"item": map[string]any{}})
			}, personalize.ErrInvalidRequest},
		{"identify without identifiers", seam.Visitor{Path: "/"},
			func(ctx context.Context) error { return personalize.Identify(ctx, personalize.Guest{Email: "a@b.co"}) }, personalize.ErrInvalidRequest},
		{"event without a page", seam.Visitor{},
			func(ctx context.Context) error { return personalize.Track(ctx, "ADD_TO_CART", nil) }, personalize.ErrInvalidRequest},
		{"blank page", seam.Visitor{Path: "  "},
			func(ctx context.Context) error { return personalize.Track(ctx, "ADD_TO_CART", nil) }, personalize.ErrInvalidRequest},
		{"invalid setting", seam.Visitor{Path: "/"},
			func(ctx context.Context) error {
				return personalize.Track(ctx, "ADD_TO_CART", nil, personalize.WithCurrency("euro"))
			}, personalize.ErrInvalidRequest},
		{"no page in context", seam.Visitor{},
			func(context.Context) error { return personalize.Track(context.Background(), "ADD_TO_CART", nil) }, personalize.ErrNoPage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
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
		})
	}
}

// Track for a visitor whose browser is still to be created returns at once: the event waits
// for the ID beside the handler, under the page's budget, and a creation that fails drops it
// (counted), never the handler's time.
func TestTrackNeverWaitsForTheBrowserID(t *testing.T) {
	for _, tt := range []struct {
		name   string
		create func(ctx context.Context) (string, string, error)
		sent   bool
	}{
		{"created in 300ms", func(ctx context.Context) (string, string, error) {
			time.Sleep(300 * time.Millisecond)
			return createdBrowserID, "", nil
		}, true},
		{"the API hangs", func(ctx context.Context) (string, string, error) {
			<-ctx.Done() // the page's budget, not the caller's context (which has no deadline)
			return "", "", ctx.Err()
		}, false},
		{"the API fails", func(context.Context) (string, string, error) {
			time.Sleep(time.Millisecond) // after both Track calls: the bubble's clock moves only when all wait
			return "", "", errors.New("personalize: api unavailable: test")
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				site := newEventSite(t)
				ctx := site.page(t, seam.Visitor{Path: "/", EnsureBrowserID: tt.create})
				start := time.Now()
				require.NoError(t, personalize.Track(ctx, "ADD_TO_CART", nil))
				require.NoError(t, personalize.Track(ctx, "REMOVE_FROM_CART", nil))
				assert.Zero(t, time.Since(start), "the handler did not wait")
				site.pages[0].Close()
				assert.LessOrEqual(t, time.Since(start), personalize.DefaultBudget, "the page ends within its budget")
				bodies := site.flush(t)
				st := site.client.EventStats()
				if tt.sent {
					require.Len(t, bodies, 2)
					assert.Equal(t, createdBrowserID, bodies[0]["browser_id"])
					assert.Equal(t, uint64(2), st.Sent)
				} else {
					assert.Empty(t, bodies)
					assert.Equal(t, uint64(2), st.Dropped, "the events are counted as dropped")
					// Once the creation has failed, Track says so at once, and counts the drop too.
					err := personalize.Track(ctx, "ADD_TO_CART", nil)
					assert.ErrorIs(t, err, personalize.ErrNoVisitor)
					assert.Equal(t, uint64(3), site.client.EventStats().Dropped)
				}
			})
		})
	}
}
