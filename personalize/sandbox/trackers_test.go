package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedOffers is the seed's four-offer answer, with placeholders for the tracking links.
const seedOffers = `[
    {
    "trackingUrl": "{tracker}",
      "Name": "Ancillary bundle",
      "imageURLForTesting": "https://png.icons8.com/ios/50/000000/cardboard-box.png",
      "destination": "/booking?add=bundle"
    },
    {
    "trackingUrl": "{tracker}",
      "Name": "Ancillary seat",
      "imageURLForTesting": "https://png.icons8.com/dotty/50/000000/flight-seat.png"
    },
    {
    "trackingUrl": "{tracker}",
      "Name": "Ancillary bag",
      "imageURLForTesting": "https://png.icons8.com/metro/50/000000/suitcase.png",
      "nonDependent": "false",
      "destination": "https://airline.example/bags"
    },
    {
    "trackingUrl": "{tracker}",
      "Name": "Ancillary insurance",
      "imageURLForTesting": "https://png.icons8.com/ios/50/000000/umbrella.png",
      "nonDependent": "false",
      "destination": "javascript:alert(1)"
    }
]`

func TestTrackingURLMinting(t *testing.T) {
	srv := start(t, WithFlows(Define("ancillary_offers").Returns(json.RawMessage(seedOffers))))
	id := createBrowser(t, srv)
	resp, b := callFlows(t, srv, body(t, "friendlyId", "ancillary_offers", "browserId", id))
	require.Equal(t, 200, resp.StatusCode)

	// Every byte but the tracking links is as defined.
	var offers []map[string]any
	require.NoError(t, json.Unmarshal(b, &offers))
	require.Len(t, offers, 4)
	links := make([]string, len(offers))
	want := seedOffers
	for i, o := range offers {
		links[i] = o["trackingUrl"].(string)
		want = strings.Replace(want, `"{tracker}"`, `"`+links[i]+`"`, 1)
	}
	assert.Equal(t, want, string(b))
	assert.Equal(t, "false", offers[2]["nonDependent"], "strings stay strings")
	assert.Equal(t, "/booking?add=bundle", offers[0]["destination"], "destination kept")

	for i, link := range links {
		require.True(t, strings.HasPrefix(link, srv.URL+"/v3/trackers/eyJjaGFubmVsIj"), link)
		tok := strings.TrimPrefix(link, srv.URL+"/v3/trackers/")
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		require.NoError(t, err, "base64url without padding")
		var fields map[string]string
		require.NoError(t, json.Unmarshal(raw, &fields))
		assert.Equal(t, map[string]string{
			"channel":     "WEB",
			"clientKey":   DefaultClientKey,
			"browserId":   id,
			"friendlyId":  "ancillary_offers",
			"offer":       offers[i]["Name"].(string),
			"destination": stringOr(offers[i]["destination"]),
		}, fields)
	}

	tests := []struct {
		link     string
		location string
		name     string
	}{
		{links[0], "/booking?add=bundle", "Ancillary bundle"},
		{links[1], "/", "Ancillary seat"},                           // no destination
		{links[2], "https://airline.example/bags", "Ancillary bag"}, // named by an offer
		{links[3], "/", "Ancillary insurance"},                      // javascript: is never followed
	}
	for _, tc := range tests {
		resp := get(t, srv, tc.link)
		assert.Equal(t, http.StatusFound, resp.StatusCode)
		assert.Equal(t, tc.location, resp.Header.Get("Location"), tc.name)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	}
	clicks := srv.Sandbox.Clicks()
	require.Len(t, clicks, 4)
	for i, c := range clicks {
		assert.Equal(t, tests[i].name, c.OfferName)
		assert.Equal(t, tests[i].location, c.Destination)
		assert.Equal(t, id, c.BrowserID)
		assert.Equal(t, "ancillary_offers", c.FriendlyID)
		assert.Equal(t, strings.TrimPrefix(tests[i].link, srv.URL+"/v3/trackers/"), c.Token)
		assert.Equal(t, tests[i].name, c.Offer["Name"], "the offer as defined")
		assert.Equal(t, "{tracker}", c.Offer["trackingUrl"])
		assert.False(t, c.Time.IsZero())
	}
}

func stringOr(v any) string {
	s, _ := v.(string)
	return s
}

func TestMintingShapes(t *testing.T) {
	tests := []struct {
		name    string
		resp    string
		minted  int
		unmoved string // a substring that must stay
	}{
		{"single object with placeholder", `{"title":"x","trackingUrl":"{tracker}"}`, 1, `"title":"x"`},
		{"single object with destination only", `{"title":"x","destination":"/d"}`, 1, `"destination":"/d"`},
		{"object holding offers", `{"offers":[{"Name":"a","trackingUrl":"{tracker}"},{"Name":"b","destination":"/b"}],"n":1.50}`, 2, `"n":1.50`},
		{"object holding an offer", `{"banner":{"destination":"/x"}}`, 1, `"banner":{`},
		{"empty object with destination", `[{"destination":""}]`, 1, `"destination":""`},
		{"real tracking url kept", `{"trackingUrl":"https://t.example/1","destination":"/x"}`, 0, `"https://t.example/1"`},
		{"other placeholder kept", `{"trackingUrl":"{other}"}`, 0, `"{other}"`},
		{"deeper offers are not minted by destination", `{"a":{"b":{"destination":"/x"}}}`, 0, `{"destination":"/x"}`},
		{"key case", `{"TrackingURL":"{tracker}"}`, 1, `"TrackingURL":`},
		{"scalars", `"{tracker}"`, 0, `"{tracker}"`},
		{"array of scalars", `[1,"{tracker}"]`, 0, `"{tracker}"`},
		{"escaped strings", `{"t":"a\"b\u00e9","trackingUrl":"{tracker}","x":[{}]}`, 1, `"t":"a\"b\u00e9"`},
		{"whitespace kept", "[ {\n \"trackingUrl\" : \"{tracker}\" } ]", 1, "[ {\n \"trackingUrl\" : \""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t, WithFlows(Define("home_page_banner").Returns(json.RawMessage(tc.resp))))
			_, b := callFlows(t, srv, body(t))
			require.True(t, json.Valid(b), "%s", b)
			assert.Equal(t, tc.minted, strings.Count(string(b), srv.URL+"/v3/trackers/"), "%s", b)
			assert.Contains(t, string(b), tc.unmoved)
		})
	}
}

func TestTrackerDestinationOption(t *testing.T) {
	srv := start(t,
		WithFlows(Define("home_page_banner").Returns([]map[string]any{
			{"Name": "a", "trackingUrl": "{tracker}", "slug": "seats"},
			{"Name": "b", "trackingUrl": "{tracker}", "slug": "ext"},
		})),
		WithTrackerDestination(func(offer map[string]any) string {
			if offer["slug"] == "ext" {
				return "https://partner.example/x"
			}
			return "/offers/" + offer["slug"].(string)
		}))
	_, b := callFlows(t, srv, body(t))
	offers := decode[[]map[string]any](t, b)
	assert.Equal(t, "/offers/seats", get(t, srv, offers[0]["trackingUrl"].(string)).Header.Get("Location"))
	assert.Equal(t, "https://partner.example/x", get(t, srv, offers[1]["trackingUrl"].(string)).Header.Get("Location"),
		"a destination the option minted is followed")
}

func TestPublicURLAndForwardedProto(t *testing.T) {
	flows := WithFlows(Define("home_page_banner").Returns(map[string]any{"destination": "/x"}))
	sb := New(flows, WithPublicURL("https://shop.example/sandbox/"))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, PathCallFlows, strings.NewReader(body(t)))
	req.Header.Set("Content-Type", "application/json")
	sb.ServeHTTP(rec, req)
	link := decode[map[string]any](t, rec.Body.Bytes())["trackingUrl"].(string)
	assert.True(t, strings.HasPrefix(link, "https://shop.example/sandbox/v3/trackers/"), link)

	sb = New(flows)
	for _, tc := range []struct{ host, proto, want string }{
		{"site.example:8080", "https", "https://site.example:8080/v3/trackers/"},
		{"site.example", "", "http://site.example/v3/trackers/"},
		{"evil\"><script>", "", "http://localhost/v3/trackers/"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, PathCallFlows, strings.NewReader(body(t)))
		req.Header.Set("Content-Type", "application/json")
		req.Host = tc.host
		if tc.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		sb.ServeHTTP(rec, req)
		link := decode[map[string]any](t, rec.Body.Bytes())["trackingUrl"].(string)
		assert.True(t, strings.HasPrefix(link, tc.want), link)
	}
}

func TestTrackerRejects(t *testing.T) {
	srv := start(t)
	tok := func(dest string) string {
		return PathTrackers + trackerToken{Offer: "x", Destination: dest}.encode()
	}
	tests := []struct {
		name     string
		method   string
		path     string
		status   int
		location string
	}{
		{"not base64", http.MethodGet, PathTrackers + "a.b!c", 400, ""},
		{"empty token", http.MethodGet, PathTrackers, 400, ""},
		{"not json", http.MethodGet, PathTrackers + base64.RawURLEncoding.EncodeToString([]byte("hello")), 400, ""},
		{"json array", http.MethodGet, PathTrackers + base64.RawURLEncoding.EncodeToString([]byte("[1]")), 400, ""},
		{"wrong types", http.MethodGet, PathTrackers + base64.RawURLEncoding.EncodeToString([]byte(`{"offer":1}`)), 400, ""},
		{"slash in token", http.MethodGet, tok("/x") + "/more", 400, ""},
		{"too long", http.MethodGet, PathTrackers + strings.Repeat("a", maxTokenLen+4), 400, ""},
		{"post", http.MethodPost, tok("/x"), 405, ""},
		{"padded token", http.MethodGet, PathTrackers + base64.URLEncoding.EncodeToString([]byte(`{"destination":"/padded"}`)), 302, "/padded"},
		{"site path", http.MethodGet, tok("/booking?x=1#f"), 302, "/booking?x=1#f"},
		{"javascript", http.MethodGet, tok("javascript:alert(1)"), 302, "/"},
		{"JavaScript mixed case", http.MethodGet, tok("JavaScript:alert(1)"), 302, "/"},
		{"data url", http.MethodGet, tok("data:text/html,<script>alert(1)</script>"), 302, "/"},
		{"protocol relative", http.MethodGet, tok("//evil.example/x"), 302, "/"},
		{"backslash", http.MethodGet, tok("/\\evil.example"), 302, "/"},
		{"control character", http.MethodGet, tok("/a\nLocation: x"), 302, "/"},
		{"relative without slash", http.MethodGet, tok("booking"), 302, "/"},
		{"host no offer named", http.MethodGet, tok("https://evil.example/"), 302, "/"},
		{"user info", http.MethodGet, tok("https://a@evil.example/"), 302, "/"},
		{"empty destination", http.MethodGet, tok(""), 302, "/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			require.NoError(t, err)
			c := *srv.Client()
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.location, resp.Header.Get("Location"))
			if tc.status >= 400 {
				assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
			}
		})
	}
	assert.Len(t, srv.Sandbox.Clicks(), 12, "only followed links are recorded")
}

func TestTrackerHeadIsNotAClick(t *testing.T) {
	srv := start(t)
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Head(srv.URL + PathTrackers + trackerToken{Destination: "/x"}.encode())
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Empty(t, srv.Sandbox.Clicks())
}
