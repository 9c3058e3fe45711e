package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzTrackerToken(f *testing.F) {
	f.Add(trackerToken{Channel: "WEB", Offer: "x", Destination: "/booking"}.encode())
	f.Add(trackerToken{Destination: "javascript:alert(1)"}.encode())
	f.Add(trackerToken{Destination: "//evil.example"}.encode())
	f.Add("eyJjaGFubmVsIj")
	f.Add("")
	f.Add("====")
	f.Add("e30")
	sb := New()
	f.Fuzz(func(t *testing.T, tok string) {
		if _, err := decodeToken(tok); err != nil && err != errBadToken {
			t.Fatalf("unexpected error %v", err)
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = PathTrackers + tok
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusBadRequest:
		case http.StatusFound:
			loc := rec.Header().Get("Location")
			if loc == "" || loc[0] != '/' || strings.HasPrefix(loc, "//") || strings.ContainsAny(loc, "\\\r\n") {
				t.Fatalf("unsafe redirect %q", loc)
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}

func FuzzCallFlows(f *testing.F) {
	f.Add([]byte(`{"clientKey":"sandbox-client-key","friendlyId":"home_page_banner","browserId":"a38b230c-11eb-4cf9-8d5d-274e9f344925","params":{"utm":{"campaign":"summer_sale"}}}`))
	f.Add([]byte(`{"clientKey":"sandbox-client-key","friendlyId":"home_page_banner","email":"a@b","identifiers":{"id":"1","provider":"P"}}`))
	f.Add([]byte(`{"clientKey":"sandbox-client-key","friendlyId":"home_page_banner","identifiers":{"id":1},"params":[]}`))
	f.Add([]byte(`{"params":{"utm":"x","utm_campaign":{}}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"a":`))
	sb := New(WithFlows(Flow("home_page_banner").
		Returns([]any{map[string]any{"trackingUrl": "{tracker}", "destination": "/x"}}).
		When(UTM("campaign", "summer_sale"), map[string]any{"destination": "/sale"}).
		When(All(Param("k", "v"), Language("en"), PointOfSale("p"), HasEvent("VIEW")), 1).
		When(Returning(), 2)))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, PathCallFlows, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %s", rec.Body.Bytes())
		}
		if rec.Code == 200 {
			return
		}
		var e ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Status != rec.Code || e.Code == "" {
			t.Fatalf("not an error object: %s", rec.Body.Bytes())
		}
	})
}

// FuzzTemplate checks that minting keeps any JSON response valid JSON.
func FuzzTemplate(f *testing.F) {
	f.Add([]byte(seedOffers))
	f.Add([]byte(`{"offers":[{"destination":"/x"},{"trackingUrl":"{tracker}"}],"b":{"destination":"y"}}`))
	f.Add([]byte(` { } `))
	f.Add([]byte(`[{"destination":1,"trackingUrl":null}]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		tpl := newTemplate(raw)
		var buf bytes.Buffer
		tpl.render(&buf, func(*hole) string { return "http://h/v3/trackers/t" })
		if !json.Valid(buf.Bytes()) {
			t.Fatalf("minted %s into invalid JSON %s", raw, buf.Bytes())
		}
		if len(tpl.holes) == 0 && !bytes.Equal(buf.Bytes(), raw) {
			t.Fatalf("changed a response without offers")
		}
	})
}
