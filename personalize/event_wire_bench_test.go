package personalize

import (
	"testing"
	"time"
)

// BenchmarkEncodeView encodes the VIEW event the middleware queues for a page, as a returning
// visitor's (no UTM, no referrer) and a landing's (both).
func BenchmarkEncodeView(b *testing.B) {
	const clientKey, browserID = "abBah8aelipaPeebae7roox2tiexoSee", "a38b230c-11eb-4cf9-8d5d-274e9f344925"
	c, err := New(clientKey, WithPointOfSale("site/ie"))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for name, ev := range map[string]Event{
		"page":    {Type: EventView, BrowserID: browserID, Page: "/products"},
		"landing": {Type: EventView, BrowserID: browserID, Page: "/products", Referrer: "https://news.example/", UTM: map[string]string{"campaign": "summer_sale", "source": "newsletter"}},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ev := ev
				if _, err := c.encodeEvent(&ev, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
