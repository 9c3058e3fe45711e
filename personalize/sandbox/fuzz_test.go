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
	sb := New(WithFlows(Define("home_page_banner").
		Returns([]any{map[string]any{"trackingUrl": "{tracker}", "destination": "/x"}}).
		When(UTMIs("campaign", "summer_sale"), map[string]any{"destination": "/sale"}).
		When(All(ParamIs("k", "v"), LanguageIs("en"), PointOfSaleIs("p"), HasEvent("VIEW")), 1).
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

// FuzzTemplate checks that minting links and filling guest placeholders keep any JSON
// response valid JSON.
func FuzzTemplate(f *testing.F) {
	f.Add([]byte(seedOffers))
	f.Add([]byte(`{"offers":[{"destination":"/x"},{"trackingUrl":"{tracker}"}],"b":{"destination":"y"}}`))
	f.Add([]byte(` { } `))
	f.Add([]byte(`[{"destination":1,"trackingUrl":null}]`))
	f.Add([]byte(`{"title":"Welcome back, {{guest.firstname}}","{{guest.x}}":"{{guest.}} {{guest.a b}}"}`))
	f.Add([]byte(`["\u007b{guest.lastname}}", "{{guest.{{guest.email}}}}", {"trackingUrl":"{tracker}","name":"{{guest.n}}"}]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		tpl := newTemplate(raw)
		var buf bytes.Buffer
		tpl.render(&buf, func(*hole) string { return "http://h/v3/trackers/t" },
			func(string) string { return "Ada \"<&>\"\n\u2028" })
		if !json.Valid(buf.Bytes()) {
			t.Fatalf("minted %s into invalid JSON %s", raw, buf.Bytes())
		}
		if len(tpl.holes) == 0 && !bytes.Equal(buf.Bytes(), raw) {
			t.Fatalf("changed a response without offers")
		}
	})
}

// FuzzEvents checks that any events body gets a 201 or a Sitecore error object, never a 5xx,
// and that only valid events are recorded.
func FuzzEvents(f *testing.F) {
	sb := New()
	const id = "a38b230c-11eb-4cf9-8d5d-274e9f344925"
	sb.AddBrowser(id)
	base := `"browser_id":"` + id + `","client_key":"sandbox-client-key","channel":"WEB","language":"en","currency":"EUR","page":"/","pos":"p"`
	f.Add([]byte(`{"type":"VIEW",` + base + `}`))
	f.Add([]byte(`{"type":"IDENTITY",` + base + `,"identifiers":[{"id":"GA-1001","provider":"GO_AIRWAYS"}]}`))
	f.Add([]byte(`{"type":"IDENTITY",` + base + `,"identifiers":[{"id":1},null,"x"]}`))
	f.Add([]byte(`{"type":"view",` + base + `,"page":null}`))
	f.Add([]byte(`{"type":["VIEW"]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		before := len(sb.Events())
		req := httptest.NewRequest(http.MethodPost, PathEvents, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, req)
		after := len(sb.Events())
		switch {
		case rec.Code == http.StatusCreated:
			if after != before+1 && after != MaxRecords {
				t.Fatalf("accepted but not recorded: %s", body)
			}
			ev := sb.Events()[after-1]
			if !upperCaseType(ev.Type) || ev.BrowserID != id {
				t.Fatalf("recorded an invalid event %q %q", ev.Type, ev.BrowserID)
			}
		case rec.Code >= 400 && rec.Code < 500:
			var e ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Status != rec.Code || e.Code == "" {
				t.Fatalf("not an error object: %s", rec.Body.Bytes())
			}
			if after != before {
				t.Fatalf("a rejected event was recorded: %s", body)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
	})
}
