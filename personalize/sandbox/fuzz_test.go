package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	f.Add([]byte(`{"clientKey":"sandbox-client-key","friendlyId":"home_page_banner","pointOfSale":"p","channel":"WEB","language":"EN","email":"a@b","params":{"utm_campaign":"summer_sale","UTM":{"Campaign":1}}}`))
	f.Add([]byte(`{"clientKey":"nope","friendlyId":"flat","pointOfSale":"P","channel":"web","language":"en-GB","email":"a@b","params":{"utm_campaign":"summer_sale"}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"a":`))
	flows := WithFlows(Define("home_page_banner").
		Returns([]any{map[string]any{"trackingUrl": "{tracker}", "destination": "/x"}}).
		When(UTMIs("campaign", "summer_sale"), map[string]any{"destination": "/sale"}).
		When(All(ParamIs("k", "v"), LanguageIs("en"), PointOfSaleIs("p"), HasEvent("VIEW")), 1).
		When(Returning(), 2),
		Define("flat").WithUTMShape(UTMFlat).Returns(0).When(UTMIs("campaign", "summer_sale"), 1))
	sandboxes := []*Sandbox{New(flows), New(flows, WithUndocumentedAnswers(AnswerLenient), WithPointsOfSale("p"))}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, sb := range sandboxes {
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
				continue
			}
			var e ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Status != rec.Code || e.Code == "" {
				t.Fatalf("not an error object: %s", rec.Body.Bytes())
			}
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
// and that only valid events are kept (and, with AnswerLenient or an unknown point of sale,
// that an event answered 201 is recorded as dropped).
func FuzzEvents(f *testing.F) {
	for _, seed := range eventSeeds {
		f.Add([]byte(seed))
	}
	sandboxes := fuzzEventSandboxes()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, sb := range sandboxes {
			checkEventAnswer(t, sb, body, func() *http.Request {
				req := httptest.NewRequest(http.MethodPost, PathEvents, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				return req
			})
		}
	})
}

// FuzzEventCreate is FuzzEvents for GET /v1.2/event/create.json: any query string gets a 201
// or a Sitecore error object.
func FuzzEventCreate(f *testing.F) {
	for _, seed := range eventSeeds {
		f.Add("client_key=sandbox-client-key&message=" + url.QueryEscape(seed))
	}
	f.Add("client_key=sandbox-client-key&message=%zz")
	f.Add("message=" + url.QueryEscape(`{"type":"VIEW"}`) + "&client_key=nope&client_key=sandbox-client-key")
	f.Add("client_key=sandbox-client-key&message=" + url.QueryEscape(`{"type":"VIEW",`+fuzzEventBase+`,"language":"en-GB"}`))
	f.Add("client_key=sandbox-client-key&message={\"type\":\"VIEW\"}")
	f.Add(";;&&==")
	f.Add("")
	sandboxes := fuzzEventSandboxes()
	f.Fuzz(func(t *testing.T, query string) {
		for _, sb := range sandboxes {
			checkEventAnswer(t, sb, []byte(query), func() *http.Request {
				req := httptest.NewRequest(http.MethodGet, PathEventCreate, nil)
				req.URL.RawQuery = query
				return req
			})
		}
	})
}

const fuzzBrowserID = "a38b230c-11eb-4cf9-8d5d-274e9f344925"

// fuzzEventBase is what every event carries, but its type.
const fuzzEventBase = `"browser_id":"` + fuzzBrowserID + `","client_key":"sandbox-client-key","channel":"WEB","language":"en","currency":"EUR","page":"/","pos":"p"`

var eventSeeds = []string{
	`{"type":"VIEW",` + fuzzEventBase + `}`,
	`{"type":"VIEW",` + fuzzEventBase + `,"pos":"other","language":"EN","channel":"MOBILE_APP"}`,
	`{"type":"IDENTITY",` + fuzzEventBase + `,"identifiers":[{"id":"GA-1001","provider":"GO_AIRWAYS","expiry_date":"2027-01-02T03:04"}],"dob":"1990-05-17T00:00","street":["1 Main St"],"state":"Leinster"}`,
	`{"type":"IDENTITY",` + fuzzEventBase + `,"identifiers":[{"id":"GA-1001","provider":"GO_AIRWAYS","expiry_date":"2027-01-02"}],"dob":"1990-05-17T00:00:00Z","street":"x"}`,
	`{"type":"IDENTITY",` + fuzzEventBase + `,"identifiers":[{"id":1},null,"x"]}`,
	`{"type":"view",` + fuzzEventBase + `,"page":null,"channel":"web","language":"english"}`,
	`{"type":["VIEW"]}`,
	`null`,
}

// fuzzEventSandboxes are sandboxes that know the fuzzed events' browser: one as New makes
// it, one lenient with declared points of sale.
func fuzzEventSandboxes() []*Sandbox {
	sbs := []*Sandbox{New(), New(WithUndocumentedAnswers(AnswerLenient), WithPointsOfSale("p", "q"))}
	for _, sb := range sbs {
		sb.AddBrowser(fuzzBrowserID)
	}
	return sbs
}

// checkEventAnswer sends the request newReq makes and checks the answer: a 201 recorded once,
// kept only when valid, or an error object and no record.
func checkEventAnswer(t *testing.T, sb *Sandbox, input []byte, newReq func() *http.Request) {
	t.Helper()
	kept, dropped := len(sb.Events()), len(sb.DroppedEvents())
	rec := httptest.NewRecorder()
	sb.ServeHTTP(rec, newReq())
	keptAfter, droppedAfter := len(sb.Events()), len(sb.DroppedEvents())
	switch {
	case rec.Code == http.StatusCreated:
		switch {
		case keptAfter == kept+1 || keptAfter == MaxRecords && droppedAfter == dropped:
			ev := sb.Events()[keptAfter-1]
			if !upperCaseType(ev.Type) || ev.BrowserID != fuzzBrowserID || ev.Dropped != nil {
				t.Fatalf("kept an invalid event %q %q: %q", ev.Type, ev.BrowserID, input)
			}
			if !json.Valid(ev.Raw) {
				t.Fatalf("kept an event that is not JSON: %q", input)
			}
		case droppedAfter == dropped+1 || droppedAfter == MaxRecords:
			if ev := sb.DroppedEvents()[droppedAfter-1]; ev.Dropped == nil || ev.Dropped.Code == "" {
				t.Fatalf("dropped an event without saying why: %q", input)
			}
		default:
			t.Fatalf("accepted but not recorded: %q", input)
		}
	case rec.Code >= 400 && rec.Code < 500:
		var e ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Status != rec.Code || e.Code == "" {
			t.Fatalf("not an error object: %s", rec.Body.Bytes())
		}
		if keptAfter != kept || droppedAfter != dropped {
			t.Fatalf("a rejected event was recorded: %q", input)
		}
	default:
		t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
	}
}
