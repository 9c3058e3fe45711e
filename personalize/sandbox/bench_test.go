package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkCallFlows measures the handler alone (no network) on the seed's four offers, each
// minted a tracking link.
func BenchmarkCallFlows(b *testing.B) {
	sb := New(WithFlows(Define("ancillary_offers").Returns(json.RawMessage(seedOffers))))
	payload := []byte(`{"clientKey":"sandbox-client-key","channel":"WEB","language":"en","currencyCode":"EUR",` +
		`"pointOfSale":"p","browserId":"a38b230c-11eb-4cf9-8d5d-274e9f344925","friendlyId":"ancillary_offers",` +
		`"params":{"utm":{"campaign":"summer_sale"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, PathCallFlows, bytes.NewReader(payload))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
