package personalize

import "testing"

// BenchmarkEncodeFlowBody encodes the body of a flow call: a returning visitor's (no params)
// and a landing's (UTM and a referrer in params).
func BenchmarkEncodeFlowBody(b *testing.B) {
	const clientKey, browserID = "abBah8aelipaPeebae7roox2tiexoSee", "a38b230c-11eb-4cf9-8d5d-274e9f344925"
	c, err := New(clientKey, WithPointOfSale("site/ie"))
	if err != nil {
		b.Fatal(err)
	}
	for name, req := range map[string]FlowRequest{
		"page":    {FriendlyID: "home_hero", Identity: ByBrowserID(browserID)},
		"landing": {FriendlyID: "home_hero", Identity: ByBrowserID(browserID), Referrer: "https://news.example/", UTM: map[string]string{"campaign": "summer_sale", "source": "newsletter"}},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := req
				if _, err := c.payload(&req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
