package personalize_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSeedRequestBodies builds each example request of Sitecore's "Call the Personalize API" page
// and compares the JSON the client sends with the page's body, as JSON values.
func TestSeedRequestBodies(t *testing.T) {
	personalizetest.DirectOnly(t, "the seed page documents the regional API's body; docs/edge.md the Edge's")
	rec := newRecorder(t, answerJSON(200, `{}`))
	tests := []struct {
		file string
		pos  string
		req  personalize.FlowRequest
	}{
		{"request_browser_id.json", "myretailsite/ireland", personalize.FlowRequest{
			FriendlyID: "home_page_banner", Identity: personalize.ByBrowserID(seedBrowserID)}},
		{"request_email.json", "myretailsite/ireland", personalize.FlowRequest{
			FriendlyID: "home_page_banner", Identity: personalize.ByEmail("[email\u00a0protected]") /* as the page has it, Cloudflare-obfuscated */}},
		{"request_identifiers.json", "myretailsite/ireland", personalize.FlowRequest{
			FriendlyID: "home_page_banner", Identity: personalize.ByIdentifier("123456", "BXLP")}},
		{"request_custom_fields.json", "retailsite.com", personalize.FlowRequest{
			FriendlyID: "home_page_banner", Identity: personalize.ByBrowserID(seedBrowserID),
			Params: map[string]any{"loggedInState": "loggedIn", "someKey": "someValue"}}},
		{"request_utm.json", "retailsite.com", personalize.FlowRequest{
			FriendlyID: "home_page_banner", Identity: personalize.ByBrowserID(seedBrowserID),
			UTM: map[string]string{"campaign": "summer_sale", "source": "newsletter", "medium": "email", "content": "running shoes"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "seed", tt.file))
			require.NoError(t, err)
			c := newClient(t, rec.srv.URL, personalize.WithPointOfSale(tt.pos),
				personalize.WithLanguage("en"), personalize.WithCurrency("EUR"), personalize.WithChannel("WEB"))
			_, err = c.CallFlow(context.Background(), tt.req)
			require.NoError(t, err)
			// The page's examples write the language "en"; both SDKs send "EN" (the docs say
			// "uppercase ISO 639-1"), and so does the library.
			want = regexp.MustCompile(`"language":\s*"en"`).ReplaceAll(want, []byte(`"language":"EN"`))
			assert.JSONEq(t, string(want), string(rec.lastBody(t)))
		})
	}
}

// TestSeedResponseOffers reads the page's example answer: four offers, their names, images and
// tracking URLs, and "nonDependent" kept as the string it is.
func TestSeedResponseOffers(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "seed", "response_offers.json"))
	require.NoError(t, err)
	rec := newRecorder(t, answerJSON(200, string(body)))
	c := newClient(t, rec.srv.URL)

	res, err := c.CallFlow(context.Background(), personalize.FlowRequest{
		FriendlyID: "ancillary_offers", Identity: personalize.ByBrowserID(seedBrowserID)})
	require.NoError(t, err)
	offers := res.Offers()
	require.Len(t, offers, 4)
	names := make([]string, len(offers))
	for i, o := range offers {
		names[i] = o.Name()
		assert.Equal(t, "<apiEndpoint>/v3/trackers/eyJjaGFubmVsIj", o.TrackingURL())
		assert.Contains(t, o.ImageURL(), "https://png.icons8.com/")
	}
	assert.Equal(t, []string{"Ancillary bundle", "Ancillary seat", "Ancillary bag", "Ancillary insurance"}, names)
	v, ok := offers[2].Get("nonDependent")
	require.True(t, ok)
	assert.Equal(t, "false", v, "a string field stays a string")
	assert.Equal(t, "false", offers[3].Text("NONDEPENDENT"), "keys match without regard to case")
	_, ok = offers[0].Get("nonDependent")
	assert.False(t, ok)
	assert.JSONEq(t, string(body), string(res.Raw), "the raw answer is kept")
}
