package personalize_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/seam"
	"github.com/go-personalize/sdk/personalize"
)

// The tests in this file pin the Sitecore Edge proxy's requests (WithEdge) against what the
// Cloud SDK 0.6.1 sends; the example site's interop tests compare them with the SDK's own,
// run by node.

const (
	edgeContextID = "5Gx1jAq3aPCtP9bbT4ZmDq"
	edgeSite      = "go-airways"
	seedGuestRef  = "0f9bd5c3-1c6b-4b2e-a2f4-2a9a2f7e8e11"
)

// edgeClient makes a client through the Edge proxy at a test server.
func edgeClient(t *testing.T, baseURL string, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	c, err := personalize.New("", append([]personalize.Option{personalize.WithBaseURL(baseURL),
		personalize.WithEdge(edgeContextID, edgeSite)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func TestWithEdgeRefusesWhatDoesNotApply(t *testing.T) {
	for _, tt := range []struct {
		name string
		key  string
		opts []personalize.Option
		want string
	}{
		{"a client key", "key", []personalize.Option{personalize.WithEdge(edgeContextID, edgeSite)}, "empty client key"},
		{"a point of sale", "", []personalize.Option{personalize.WithEdge(edgeContextID, edgeSite), personalize.WithPointOfSale("site/ie")}, "point of sale"},
		{"a region", "", []personalize.Option{personalize.WithRegion(personalize.RegionUS), personalize.WithEdge(edgeContextID, edgeSite)}, "WithRegion"},
		{"no context ID", "", []personalize.Option{personalize.WithEdge(" ", edgeSite)}, "context ID"},
		{"no site name", "", []personalize.Option{personalize.WithEdge(edgeContextID, "")}, "site name"},
		{"a context ID that would change the URL", "", []personalize.Option{personalize.WithEdge("a&siteId=x", edgeSite)}, "context ID"},
		{"no client key and no Edge", "", nil, "empty client key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := personalize.New(tt.key, tt.opts...)
			require.ErrorIs(t, err, personalize.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	c, err := personalize.New("", personalize.WithEdge(edgeContextID, edgeSite))
	require.NoError(t, err)
	assert.Equal(t, personalize.EdgeURL, seam.ClientOf(c).BaseURL(), "the Edge proxy unless WithBaseURL says otherwise")
}

func TestEdgeFlowCallsAsTheCloudSDKSendsThem(t *testing.T) {
	rec := newRecorder(t, answerJSON(200, `{"variantId":"v2"}`))
	var hooked []personalize.CallInfo
	c := edgeClient(t, rec.srv.URL, personalize.WithHooks(personalize.Hooks{
		FlowCall: func(_ context.Context, ci personalize.CallInfo) { hooked = append(hooked, ci) }}))
	req := flowOf("embedded_110d559fdea542ea9c1c8a5df7e70ef9_en")
	req.GuestRef = seedGuestRef
	req.Variants = []string{"v1", "v2"}
	req.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"
	req.UTM = map[string]string{"campaign": "summer_sale"}
	_, err := c.CallFlow(context.Background(), req)
	require.NoError(t, err)

	r := rec.lastRequest(t)
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/v1/personalize", r.URL.Path)
	assert.Equal(t, "sitecoreContextId="+edgeContextID+"&siteId="+edgeSite, r.URL.RawQuery, "the Cloud SDK's query, in its order")
	assert.Equal(t, req.UserAgent, r.Header.Get("User-Agent"))
	assert.Equal(t, personalize.Version, r.Header.Get("X-Library-Version"))
	assert.NotEmpty(t, r.Header.Get("x-sc-correlation-id"))
	assert.Equal(t, map[string]any{
		"clientKey":    "",
		"pointOfSale":  "",
		"channel":      "WEB",
		"language":     "EN",
		"currencyCode": "EUR",
		"friendlyId":   "embedded_110d559fdea542ea9c1c8a5df7e70ef9_en",
		"browserId":    seedBrowserID,
		"guestRef":     seedGuestRef,
		"variants":     []any{"v1", "v2"},
		"params":       map[string]any{"utm": map[string]any{"campaign": "summer_sale"}},
	}, lastJSON(t, rec))
	require.Len(t, hooked, 1)
	assert.Equal(t, personalize.TransportEdge, hooked[0].Transport)

	// Identified by email, the body has no browserId, as the SDK sends it.
	_, err = c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByEmail("ada@example.com")})
	require.NoError(t, err)
	body := lastJSON(t, rec)
	assert.Equal(t, "ada@example.com", body["email"])
	assert.NotContains(t, body, "browserId")
	assert.NotContains(t, body, "guestRef")
	assert.NotContains(t, body, "variants")
}

func TestEdgeRefusesBeforeSending(t *testing.T) {
	rec := newRecorder(t, answerJSON(200, `{}`))
	c := edgeClient(t, rec.srv.URL)
	for name, change := range map[string]func(r *personalize.FlowRequest){
		"a point of sale":          func(r *personalize.FlowRequest) { r.PointOfSale = "site/ie" },
		"a guest ref of bad shape": func(r *personalize.FlowRequest) { r.GuestRef = "a;b" },
		"an empty variant":         func(r *personalize.FlowRequest) { r.Variants = []string{""} },
		"a variant with a newline": func(r *personalize.FlowRequest) { r.Variants = []string{"v\n1"} },
		"too many variants":        func(r *personalize.FlowRequest) { r.Variants = make([]string, 65) },
		"an overlong variant":      func(r *personalize.FlowRequest) { r.Variants = []string{strings.Repeat("v", 257)} },
	} {
		req := flowOf("f")
		change(&req)
		_, err := c.CallFlow(context.Background(), req)
		assert.ErrorIs(t, err, personalize.ErrInvalidRequest, name)
	}
	assert.Zero(t, rec.hits.Load())

	direct := directClient(t, rec.srv.URL)
	req := flowOf("f")
	req.Variants = []string{"v1"}
	_, err := direct.CallFlow(context.Background(), req)
	require.ErrorIs(t, err, personalize.ErrInvalidRequest, "variants go only through the Edge")
	assert.Contains(t, err.Error(), "WithEdge")
	_, err = direct.GuestRef(context.Background(), seedBrowserID)
	require.ErrorIs(t, err, personalize.ErrInvalidConfig)
	assert.Zero(t, rec.hits.Load())
}

func TestEdgeBrowsersAndGuestRefs(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/create.json") {
			answerJSON(200, `{"ref":"`+seedBrowserID+`","customer_ref":"`+seedGuestRef+`","status":"OK","version":"1.2","client_key":""}`)(w, r)
			return
		}
		answerJSON(200, `{"status":"OK","version":"1.2","clientKey":"","ref":"`+seedBrowserID+`","customer":{"ref":"`+seedGuestRef+`"}}`)(w, r)
	})
	c := edgeClient(t, rec.srv.URL)
	id, err := c.CreateBrowser(context.Background())
	require.NoError(t, err)
	assert.Equal(t, seedBrowserID, id)
	r := rec.lastRequest(t)
	assert.Equal(t, "/v1/events/v1.2/browser/create.json", r.URL.Path)
	assert.Equal(t, "sitecoreContextId="+edgeContextID+"&client_key=", r.URL.RawQuery)
	assert.Equal(t, personalize.Version, r.Header.Get("X-Library-Version"))

	ref, err := c.GuestRef(context.Background(), strings.ToUpper(seedBrowserID))
	require.NoError(t, err)
	assert.Equal(t, seedGuestRef, ref)
	r = rec.lastRequest(t)
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "/v1/events/v1.2/browser/"+seedBrowserID+"/show.json", r.URL.Path, "the browser ID in lower case")
	assert.Equal(t, "sitecoreContextId="+edgeContextID+"&client_key=&api_token=", r.URL.RawQuery)

	_, err = c.GuestRef(context.Background(), "../../v1/personalize")
	require.ErrorIs(t, err, personalize.ErrInvalidRequest, "never a path of the caller's making")
	assert.Equal(t, int64(2), rec.hits.Load())
}

func TestEdgeGuestRefFailures(t *testing.T) {
	for _, tt := range []struct {
		name   string
		answer http.HandlerFunc
		want   error
	}{
		{"unknown browser", answerJSON(404, `{"status":"404","version":"1.2","error_msg":"Browser not found","moreInfo":"https://doc.sitecore.com"}`), nil},
		{"no customer", answerJSON(200, `{"status":"OK","ref":"x"}`), personalize.ErrMalformedResponse},
		{"a customer ref of bad shape", answerJSON(200, `{"customer":{"ref":"<script>"}}`), personalize.ErrMalformedResponse},
		{"not JSON", answerJSON(200, `<html>`), personalize.ErrMalformedResponse},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := edgeClient(t, newRecorder(t, tt.answer).srv.URL)
			ref, err := c.GuestRef(context.Background(), seedBrowserID)
			require.Error(t, err)
			assert.Empty(t, ref)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
				return
			}
			apiErr, ok := errors.AsType[*personalize.APIError](err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, 404, apiErr.StatusCode)
			assert.Equal(t, "Browser not found", apiErr.Message)
		})
	}
}

func TestEdgeEventsAsTheCloudSDKSendsThem(t *testing.T) {
	rec := newRecorder(t, answerJSON(201, `{"status":"OK","ref":"e"}`))
	var hooked []personalize.EventInfo
	c := edgeClient(t, rec.srv.URL, personalize.WithHooks(personalize.Hooks{
		Event: func(_ context.Context, ei personalize.EventInfo) { hooked = append(hooked, ei) }}))
	require.NoError(t, c.SendEvent(context.Background(), withBrowser(personalize.Event{Type: personalize.EventView, Page: "/flights",
		Ext: map[string]any{"pageVariantId": "110d559fdea542ea9c1c8a5df7e70ef9_en_default"}})))
	r := rec.lastRequest(t)
	assert.Equal(t, "/v1/events/v1.2/events", r.URL.Path)
	assert.Equal(t, "sitecoreContextId="+edgeContextID+"&siteId="+edgeSite, r.URL.RawQuery)
	assert.Equal(t, "go-personalize "+personalize.Version, r.Header.Get("X-Client-Software-ID"))
	assert.Equal(t, personalize.Version, r.Header.Get("X-Library-Version"))
	body := lastJSON(t, rec)
	assert.Equal(t, "", body["client_key"])
	assert.Equal(t, "", body["pos"])
	assert.Equal(t, "VIEW", body["type"])
	assert.Equal(t, map[string]any{"pageVariantId": "110d559fdea542ea9c1c8a5df7e70ef9_en_default"}, body["ext"])
	require.Len(t, hooked, 1)
	assert.Equal(t, personalize.TransportEdge, hooked[0].Transport)

	err := c.SendEvent(context.Background(), withBrowser(personalize.Event{Type: personalize.EventView, Page: "/", PointOfSale: "site/ie"}))
	require.ErrorIs(t, err, personalize.ErrInvalidRequest, "the Edge site sets the point of sale")
	assert.Equal(t, int64(1), rec.hits.Load())

	// The regional API gets no X-Client-Software-ID.
	direct := directClient(t, rec.srv.URL)
	require.NoError(t, direct.SendEvent(context.Background(), withBrowser(personalize.Event{Type: personalize.EventView, Page: "/"})))
	assert.Empty(t, rec.lastRequest(t).Header.Get("X-Client-Software-ID"))
}

// edgeAPI answers the Edge proxy's paths: show.json with seedGuestRef (counted), flows with {}.
type edgeAPI struct {
	rec   *recorder
	shows atomic.Int64
	fail  atomic.Bool // show.json answers 500
}

func newEdgeAPI(t *testing.T) *edgeAPI {
	api := &edgeAPI{}
	api.rec = newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/show.json") {
			api.shows.Add(1)
			if api.fail.Load() {
				answerJSON(500, `{"status":"500","error_msg":"boom"}`)(w, r)
				return
			}
			answerJSON(200, `{"customer":{"ref":"`+seedGuestRef+`"}}`)(w, r)
			return
		}
		answerJSON(200, `{}`)(w, r)
	})
	return api
}

// guestRefsSent lists the guestRef of every flow call the API received ("" for none).
func (api *edgeAPI) guestRefsSent(t *testing.T) []string {
	api.rec.mu.Lock()
	defer api.rec.mu.Unlock()
	var refs []string
	for i, r := range api.rec.requests {
		if r.URL.Path != "/v1/personalize" {
			continue
		}
		var body struct {
			GuestRef string `json:"guestRef"`
		}
		require.NoError(t, jsonUnmarshal(api.rec.bodies[i], &body))
		refs = append(refs, body.GuestRef)
	}
	return refs
}

func TestAPageGetsTheGuestRefOnceForItsFlows(t *testing.T) {
	api := newEdgeAPI(t)
	c := edgeClient(t, api.rec.srv.URL)
	ctx, p := newPage(t, context.Background(), c, seam.Visitor{BrowserID: seedBrowserID, WantGuestRef: true})
	personalize.Prefetch(ctx, "a", "b", "c")
	for _, id := range []string{"a", "b", "c"} {
		_, err := personalize.Flow(ctx, id)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), api.shows.Load(), "one show.json for the page's three flows")
	assert.Equal(t, []string{seedGuestRef, seedGuestRef, seedGuestRef}, api.guestRefsSent(t))
	assert.Equal(t, seedGuestRef, p.GuestRef(), "the page says what it learned, for the cookie")
}

func TestAKnownGuestRefIsSentWithoutALookUp(t *testing.T) {
	api := newEdgeAPI(t)
	c := edgeClient(t, api.rec.srv.URL)
	ctx, _ := newPage(t, context.Background(), c, seam.Visitor{BrowserID: seedBrowserID, GuestRef: seedGuestRef, WantGuestRef: true})
	_, err := personalize.Flow(ctx, "a")
	require.NoError(t, err)
	assert.Zero(t, api.shows.Load())
	assert.Equal(t, []string{seedGuestRef}, api.guestRefsSent(t))

	// Without WantGuestRef (no guest ref cookie to keep it in) nothing is looked up either.
	ctx, _ = newPage(t, context.Background(), c, seam.Visitor{BrowserID: seedBrowserID})
	_, err = personalize.Flow(ctx, "a")
	require.NoError(t, err)
	assert.Zero(t, api.shows.Load())
	assert.Equal(t, []string{seedGuestRef, ""}, api.guestRefsSent(t))
}

func TestAFailedGuestRefLookUpCostsNoDecision(t *testing.T) {
	api := newEdgeAPI(t)
	api.fail.Store(true)
	c := edgeClient(t, api.rec.srv.URL)
	ctx, p := newPage(t, context.Background(), c, seam.Visitor{BrowserID: seedBrowserID, WantGuestRef: true})
	res, err := personalize.Flow(ctx, "a")
	require.NoError(t, err, "the flow is sent without guestRef, as the Cloud SDK sends it without its cookie")
	assert.NotNil(t, res)
	assert.Equal(t, []string{""}, api.guestRefsSent(t))
	assert.Empty(t, p.GuestRef())
	assert.Empty(t, c.Isolated(), "a failing look-up isolates no flow")
}

func TestANewBrowsersGuestRefComesWithIt(t *testing.T) {
	api := newEdgeAPI(t)
	c := edgeClient(t, api.rec.srv.URL)
	ensure := func(context.Context) (string, string, error) { return seedBrowserID, seedGuestRef, nil }
	ctx, p := newPage(t, context.Background(), c, seam.Visitor{EnsureBrowserID: ensure, WantGuestRef: true})
	_, err := personalize.Flow(ctx, "a")
	require.NoError(t, err)
	assert.Zero(t, api.shows.Load(), "create.json's customer_ref is the guest ref")
	assert.Equal(t, []string{seedGuestRef}, api.guestRefsSent(t))
	assert.Equal(t, seedGuestRef, p.GuestRef())
}

func TestPageVariants(t *testing.T) {
	rec := newRecorder(t, answerJSON(200, `{}`))
	c := edgeClient(t, rec.srv.URL)
	ctx, p := newPage(t, context.Background(), c, seam.Visitor{})
	require.NoError(t, personalize.SetVariants(ctx, "v1", "v2"))
	_, err := personalize.Flow(ctx, "page")
	require.NoError(t, err)
	assert.Equal(t, []any{"v1", "v2"}, lastJSON(t, rec)["variants"], "the page's variants")
	_, err = personalize.Flow(ctx, "component", personalize.WithVariants("c1_default", "c1_v3"))
	require.NoError(t, err)
	assert.Equal(t, []any{"c1_default", "c1_v3"}, lastJSON(t, rec)["variants"], "a flow's own replace the page's")
	_, err = personalize.Flow(ctx, "component", personalize.WithVariants("c1_default", "c1_v4"))
	require.NoError(t, err)
	assert.Equal(t, int64(3), rec.hits.Load(), "other variants, another call")

	require.NoError(t, personalize.SetPageVariant(ctx, "110d559fdea542ea9c1c8a5df7e70ef9_en_v2"))
	assert.Equal(t, "110d559fdea542ea9c1c8a5df7e70ef9_en_v2", p.PageVariant())
	assert.ErrorIs(t, personalize.SetPageVariant(ctx, ""), personalize.ErrInvalidRequest)
	assert.ErrorIs(t, personalize.SetVariants(ctx, "a\x00"), personalize.ErrInvalidRequest)
	assert.ErrorIs(t, personalize.SetVariants(context.Background(), "v1"), personalize.ErrNoPage)

	dctx, _ := newPage(t, context.Background(), directClient(t, rec.srv.URL), seam.Visitor{})
	assert.ErrorIs(t, personalize.SetVariants(dctx, "v1"), personalize.ErrInvalidRequest, "variants go only through the Edge")
}
