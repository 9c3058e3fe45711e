package personalize_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-personalize/sdk/internal/seam"
	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRejectsInvalidConfiguration(t *testing.T) {
	tests := []struct {
		name string
		key  string
		opts []personalize.Option
	}{
		{"empty client key", "", nil},
		{"client key with spaces", "a b", nil},
		{"relative base URL", "k", []personalize.Option{personalize.WithBaseURL("/api")}},
		{"ftp base URL", "k", []personalize.Option{personalize.WithBaseURL("ftp://example.com")}},
		{"base URL with query", "k", []personalize.Option{personalize.WithBaseURL("https://example.com/?a=b")}},
		{"unknown region", "k", []personalize.Option{personalize.WithRegion("mars")}},
		{"nil http client", "k", []personalize.Option{personalize.WithHTTPClient(nil)}},
		{"lower-case channel", "k", []personalize.Option{personalize.WithChannel("web")}},
		{"empty channel", "k", []personalize.Option{personalize.WithChannel("")}},
		{"bad language", "k", []personalize.Option{personalize.WithLanguage("1")}},
		{"bad currency", "k", []personalize.Option{personalize.WithCurrency("EURO")}},
		{"empty point of sale", "k", []personalize.Option{personalize.WithPointOfSale(" ")}},
		{"zero timeout", "k", []personalize.Option{personalize.WithTimeout(0)}},
		{"negative budget", "k", []personalize.Option{personalize.WithBudget(-time.Second)}},
		{"nil logger", "k", []personalize.Option{personalize.WithLogger(nil)}},
		{"unknown UTM shape", "k", []personalize.Option{personalize.WithUTMShape(9)}},
		{"zero response cap", "k", []personalize.Option{personalize.WithMaxResponseSize(0)}},
		{"negative breaker open time", "k", []personalize.Option{personalize.WithBreaker(personalize.BreakerSettings{OpenFor: -1})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := personalize.New(tt.key, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, personalize.ErrInvalidConfig)
			assert.True(t, strings.HasPrefix(err.Error(), "personalize: "), err.Error())
		})
	}
}

// Every valid option is accepted, and takes effect: what the API receives shows it.
func TestNewAcceptsValidOptions(t *testing.T) {
	big := `[{"name":"` + strings.Repeat("x", 2000) + `"}]`
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/proxy/v1.2/events":
			answerJSON(http.StatusCreated, `{"status":"OK"}`)(w, r)
		case strings.Contains(string(bodyOf(r)), `"friendlyId":"big"`):
			answerJSON(200, big)(w, r)
		default:
			answerJSON(200, `[{"name":"a"}]`)(w, r)
		}
	})
	var trips atomic.Int64
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		trips.Add(1)
		return tr.RoundTrip(r)
	})}
	var logs lockedBuffer
	var hooked []personalize.CallInfo
	c, err := personalize.New(seedClientKey,
		personalize.WithBaseURL(rec.srv.URL+"/proxy/"),
		personalize.WithHTTPClient(hc),
		personalize.WithChannel("MOBILE_APP"), personalize.WithLanguage("de"), personalize.WithCurrency("CHF"),
		personalize.WithPointOfSale("site/ch"),
		personalize.WithTimeout(5*time.Second), personalize.WithBudget(time.Second),
		personalize.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		personalize.WithUTMShape(personalize.UTMFlat),
		personalize.WithMaxResponseSize(1000),
		personalize.WithHooks(personalize.Hooks{FlowCall: func(_ context.Context, info personalize.CallInfo) { hooked = append(hooked, info) }}),
		personalize.WithBreaker(personalize.BreakerSettings{Failures: 1, OpenFor: time.Hour}),
		personalize.WithEvents(personalize.EventOptions{QueueSize: 8, Workers: 1, RetryBackoff: -1}),
	)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })

	req := flowOf("home_page_banner")
	req.UTM = map[string]string{"campaign": "summer_sale"}
	_, err = c.CallFlow(context.Background(), req)
	require.NoError(t, err)
	r := rec.lastRequest(t)
	assert.Equal(t, "/proxy/v2/callFlows", r.URL.Path, "the base URL, its path kept and its slash trimmed")
	assert.JSONEq(t, `{"clientKey":"`+seedClientKey+`","channel":"MOBILE_APP","language":"DE","currencyCode":"CHF",
		"pointOfSale":"site/ch","browserId":"`+seedBrowserID+`","friendlyId":"home_page_banner",
		"params":{"utm_campaign":"summer_sale"}}`, string(rec.lastBody(t)), "the settings and the flat UTM shape")
	assert.Equal(t, int64(1), trips.Load(), "the HTTP client given is used")
	require.Len(t, hooked, 1, "the hook is called")
	assert.Equal(t, personalize.OutcomeDecision, hooked[0].Outcome)
	assert.Len(t, logs.lines("level=DEBUG", "friendly_id=home_page_banner", "outcome=decision"), 1, "the logger is used")

	_, err = c.CallFlow(context.Background(), flowOf("big"))
	assert.ErrorIs(t, err, personalize.ErrResponseTooLarge, "the response cap")
	_, err = c.CallFlow(context.Background(), flowOf("big"))
	assert.ErrorIs(t, err, personalize.ErrBreakerOpen, "one failure opens the breaker")
	assert.Equal(t, int64(2), rec.hits.Load())

	require.NoError(t, c.SendEvent(context.Background(), personalize.Event{Type: "X", BrowserID: seedBrowserID, Page: "/"}))
	assert.Equal(t, "/proxy/v1.2/events", rec.lastRequest(t).URL.Path)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(rec.lastBody(t), &ev))
	assert.Equal(t, []any{"MOBILE_APP", "DE", "CHF", "site/ch"}, []any{ev["channel"], ev["language"], ev["currency"], ev["pos"]})

	// The page's budget, and the client's timeout, seen through a page of an API that hangs.
	synctest.Test(t, func(t *testing.T) {
		for _, tt := range []struct {
			opts []personalize.Option
			want time.Duration
		}{
			{[]personalize.Option{personalize.WithBudget(70 * time.Millisecond)}, 70 * time.Millisecond},
			{[]personalize.Option{personalize.WithTimeout(30 * time.Millisecond)}, 30 * time.Millisecond},
		} {
			sb, c := memSandbox(t, tt.opts...)
			sb.SetFault(sandbox.Fault{Hang: true})
			took, decided := homePage(c)
			assert.Equal(t, tt.want, took)
			assert.Empty(t, decided)
		}

		// The event queue's size and workers: one event in flight, one queued, the next dropped.
		sb, c := memSandbox(t, personalize.WithEvents(personalize.EventOptions{QueueSize: 1, Workers: 1}))
		sb.SetEventsFault(sandbox.Fault{Hang: true})
		page := eventPage(t, c)
		require.NoError(t, track(page, 1))
		synctest.Wait()
		require.NoError(t, track(page, 2))
		assert.ErrorIs(t, track(page, 3), personalize.ErrQueueFull)
		assert.Equal(t, personalize.EventStats{Queued: 1, InFlight: 1, Dropped: 1}, c.EventStats())
		var ue *personalize.UndeliveredError
		require.ErrorAs(t, closeWithin(t, c, time.Second), &ue)
		assert.Equal(t, 2, ue.Count)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRegionsMapToTheirHosts(t *testing.T) {
	for region, want := range map[personalize.Region]string{
		personalize.RegionEU:  "https://api-engage-eu.sitecorecloud.io",
		personalize.RegionUS:  "https://api-engage-us.sitecorecloud.io",
		personalize.RegionAP:  "https://api-engage-ap.sitecorecloud.io",
		personalize.RegionJPE: "https://api-engage-jpe.sitecorecloud.io",
		"US":                  "https://api-engage-us.sitecorecloud.io",
	} {
		c, err := personalize.New("k", personalize.WithRegion(region))
		require.NoError(t, err)
		assert.Equal(t, want, seam.ClientOf(c).BaseURL())
	}
	c, err := personalize.New("k")
	require.NoError(t, err)
	assert.Equal(t, "https://api-engage-eu.sitecorecloud.io", seam.ClientOf(c).BaseURL(), "EU is the default")
}

func TestInvalidRequestsFailBeforeAnyNetworkCall(t *testing.T) {
	rec := newRecorder(t, answerJSON(200, `{}`))
	c := newClient(t, rec.srv.URL)
	tests := []struct {
		name string
		req  personalize.FlowRequest
	}{
		{"no identity", personalize.FlowRequest{FriendlyID: "f"}},
		{"empty friendly ID", personalize.FlowRequest{Identity: personalize.ByBrowserID(seedBrowserID)}},
		{"blank friendly ID", personalize.FlowRequest{FriendlyID: "  ", Identity: personalize.ByBrowserID(seedBrowserID)}},
		{"empty browser ID", personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID("")}},
		{"empty email", personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByEmail("")}},
		{"identifier without provider", personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByIdentifier("123", "")}},
		{"identifier without id", personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByIdentifier("", "BXLP")}},
		{"lower-case channel override", personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID), Channel: "web"}},
		{"params that are not JSON", personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID), Params: map[string]any{"f": func() {}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.CallFlow(context.Background(), tt.req)
			assert.Nil(t, res)
			assert.ErrorIs(t, err, personalize.ErrInvalidRequest)
			assert.Equal(t, personalize.OutcomeInvalidRequest, personalize.OutcomeOf(err))
		})
	}
	assert.Zero(t, rec.hits.Load(), "no request reached the API")
}

func TestPerRequestFieldsOverrideClientDefaults(t *testing.T) {
	personalizetest.DirectOnly(t, "a point of sale goes only to the regional API (TestEdgeFlowCallsAsTheCloudSDKSendsThem)")
	rec := newRecorder(t, answerJSON(200, `{}`))
	c := newClient(t, rec.srv.URL, personalize.WithChannel("MOBILE_WEB"), personalize.WithLanguage("fr"),
		personalize.WithCurrency("CHF"), personalize.WithPointOfSale("site/ch"))

	_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
	require.NoError(t, err)
	assert.JSONEq(t, `{"clientKey":"`+seedClientKey+`","channel":"MOBILE_WEB","language":"FR","currencyCode":"CHF",
		"pointOfSale":"site/ch","browserId":"`+seedBrowserID+`","friendlyId":"f"}`, string(rec.lastBody(t)))

	_, err = c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID),
		Channel: "KIOSK", Language: "de", Currency: "EUR", PointOfSale: "site/de"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"clientKey":"`+seedClientKey+`","channel":"KIOSK","language":"DE","currencyCode":"EUR",
		"pointOfSale":"site/de","browserId":"`+seedBrowserID+`","friendlyId":"f"}`, string(rec.lastBody(t)))
}

func TestParamsShapes(t *testing.T) {
	utm := map[string]string{"campaign": "summer_sale", "source": "newsletter"}
	callerParams := map[string]any{"loggedInState": "loggedIn"}
	tests := []struct {
		name string
		opts []personalize.Option
		req  personalize.FlowRequest
		want string // params, "" for none
	}{
		{"nothing", nil, personalize.FlowRequest{}, ""},
		{"nested utm (default)", nil, personalize.FlowRequest{UTM: utm},
			`{"utm":{"campaign":"summer_sale","source":"newsletter"}}`},
		{"flat utm", []personalize.Option{personalize.WithUTMShape(personalize.UTMFlat)}, personalize.FlowRequest{UTM: utm},
			`{"utm_campaign":"summer_sale","utm_source":"newsletter"}`},
		{"referrer", nil, personalize.FlowRequest{Referrer: "https://news.example/"},
			`{"referrer":"https://news.example/"}`},
		{"caller params beside utm and referrer", nil, personalize.FlowRequest{UTM: utm, Referrer: "r", Params: callerParams},
			`{"utm":{"campaign":"summer_sale","source":"newsletter"},"referrer":"r","loggedInState":"loggedIn"}`},
		{"caller params win over built ones", nil, personalize.FlowRequest{UTM: utm, Referrer: "r",
			Params: map[string]any{"utm": map[string]any{"campaign": "mine"}, "referrer": "mine"}},
			`{"utm":{"campaign":"mine"},"referrer":"mine"}`},
		{"flat utm and caller params", []personalize.Option{personalize.WithUTMShape(personalize.UTMFlat)},
			personalize.FlowRequest{UTM: utm, Params: map[string]any{"utm_source": "override"}},
			`{"utm_campaign":"summer_sale","utm_source":"override"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, answerJSON(200, `{}`))
			c := newClient(t, rec.srv.URL, tt.opts...)
			tt.req.FriendlyID, tt.req.Identity = "f", personalize.ByBrowserID(seedBrowserID)
			_, err := c.CallFlow(context.Background(), tt.req)
			require.NoError(t, err)
			var body struct {
				Params map[string]any `json:"params"`
			}
			require.NoError(t, jsonUnmarshal(rec.lastBody(t), &body))
			if tt.want == "" {
				assert.Nil(t, body.Params)
				assert.NotContains(t, string(rec.lastBody(t)), `"params"`)
				return
			}
			assert.JSONEq(t, tt.want, mustJSON(t, body.Params))
		})
	}
	assert.Equal(t, map[string]string{"campaign": "summer_sale", "source": "newsletter"}, utm, "the UTM map is not modified")
	assert.Equal(t, map[string]any{"loggedInState": "loggedIn"}, callerParams, "the caller's params are not modified")
}

func TestBrowserIDsGoOutInLowerCase(t *testing.T) {
	rec := newRecorder(t, answerJSON(200, `{}`))
	c := newClient(t, rec.srv.URL)
	upper := strings.ToUpper(seedBrowserID)
	_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(upper)})
	require.NoError(t, err)
	assert.Contains(t, string(rec.lastBody(t)), `"browserId":"`+seedBrowserID+`"`)
	require.NoError(t, c.SendEvent(context.Background(), personalize.Event{Type: "X", BrowserID: upper, Page: "/"}))
	assert.Contains(t, string(rec.lastBody(t)), `"browser_id":"`+seedBrowserID+`"`)
}

func TestRequestHeaders(t *testing.T) {
	rec := newRecorder(t, answerJSON(200, `{}`))
	c := newClient(t, rec.srv.URL)

	_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
	require.NoError(t, err)
	r := rec.lastRequest(t)
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, apiPath(t, "/v2/callFlows"), r.URL.Path)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.Equal(t, "go-personalize/"+personalize.Version+" (+https://github.com/go-personalize/sdk)", r.Header.Get("User-Agent"))

	visitor := "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"
	_, err = c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID), UserAgent: visitor})
	require.NoError(t, err)
	r = rec.lastRequest(t)
	assert.Equal(t, visitor, r.Header.Get("User-Agent"), "the visitor's agent is forwarded unchanged: anything appended reads as a bot's")
	assert.Equal(t, personalize.Version, r.Header.Get("X-Library-Version"), "the library names itself in its own header, a bare version as the SDKs send")
	assert.Regexp(t, `^[0-9a-f]{32}$`, r.Header.Get("X-Sc-Correlation-Id"), "a correlation ID per call, as the Cloud SDK makes them")
}

func TestAnswersThatAreErrors(t *testing.T) {
	sitecoreError := `{"status":400,"code":"VALIDATION","message":"friendlyId is unknown","developerMessage":"no live flow","moreInfoUrl":"https://doc.sitecore.com"}`
	tests := []struct {
		name    string
		answer  http.HandlerFunc
		is      error
		apiErr  *personalize.APIError
		outcome personalize.Outcome
	}{
		{"404 with error object", answerJSON(404, strings.Replace(sitecoreError, "400", "404", 1)), nil,
			&personalize.APIError{StatusCode: 404, Status: 404, Code: "VALIDATION", Message: "friendlyId is unknown",
				DeveloperMessage: "no live flow", MoreInfoURL: "https://doc.sitecore.com"}, personalize.OutcomeAPIError},
		{"500 without a body we understand", answerJSON(500, "<html>oops</html>"), nil,
			&personalize.APIError{StatusCode: 500, Excerpt: "<html>oops</html>"}, personalize.OutcomeAPIError},
		{"200 carrying Sitecore's error object", answerJSON(200, sitecoreError), nil,
			&personalize.APIError{StatusCode: 200, Status: 400, Code: "VALIDATION", Message: "friendlyId is unknown",
				DeveloperMessage: "no live flow", MoreInfoURL: "https://doc.sitecore.com"}, personalize.OutcomeAPIError},
		{"numeric code", answerJSON(401, `{"status":401,"code":1001,"message":"bad client key"}`), nil,
			&personalize.APIError{StatusCode: 401, Status: 401, Code: "1001", Message: "bad client key"}, personalize.OutcomeAPIError},
		{"200 not JSON", answerJSON(200, "<html>"), personalize.ErrMalformedResponse, nil, personalize.OutcomeError},
		{"200 truncated JSON", answerJSON(200, `[{"name":`), personalize.ErrMalformedResponse, nil, personalize.OutcomeError},
		{"200 empty", answerJSON(200, ""), personalize.ErrMalformedResponse, nil, personalize.OutcomeError},
		{"200 blank", answerJSON(200, " \n "), personalize.ErrMalformedResponse, nil, personalize.OutcomeError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, tt.answer)
			c := newClient(t, rec.srv.URL, personalize.WithBreaker(personalize.BreakerSettings{Disabled: true}))
			res, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
			require.Error(t, err)
			assert.Nil(t, res, "an error is never offers")
			assert.Equal(t, tt.outcome, personalize.OutcomeOf(err))
			assert.True(t, strings.HasPrefix(err.Error(), "personalize: "), err.Error())
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			if tt.apiErr != nil {
				var apiErr *personalize.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tt.apiErr, apiErr)
			}
		})
	}
}

func TestErrorsNeverCarryTheGuestsEmailOrIdentifier(t *testing.T) {
	// The API echoes the identity it was sent, as some APIs do in their messages.
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Email       string `json:"email"`
			Identifiers struct {
				ID string `json:"id"`
			} `json:"identifiers"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		echo := body.Email + body.Identifiers.ID
		if echo == "" {
			t.Error("the request carried no identity to echo")
		}
		answerJSON(400, `{"status":400,"code":"X","message":"no guest `+echo+`","developerMessage":"unknown `+echo+`"}`)(w, r)
	})
	var logs strings.Builder
	c := newClient(t, rec.srv.URL, personalize.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	for _, tt := range []struct {
		id    personalize.Identity
		value string
	}{{personalize.ByEmail("jane@example.com"), "jane@example.com"}, {personalize.ByIdentifier("99887766", "CRM"), "99887766"}} {
		_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: tt.id})
		require.Error(t, err)
		assert.NotContains(t, err.Error(), tt.value)
		var apiErr *personalize.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.NotContains(t, apiErr.DeveloperMessage, tt.value)
		assert.NotContains(t, logs.String(), tt.value)
	}
	assert.Contains(t, logs.String(), "api_error", "the failure was logged")
}

// lengths is a transport that records the Content-Length of every answer (-1 when it had
// none: chunked).
type lengths struct {
	mu   sync.Mutex
	seen []int64
	rt   *http.Transport
}

func (l *lengths) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(r)
	if err == nil {
		l.mu.Lock()
		l.seen = append(l.seen, resp.ContentLength)
		l.mu.Unlock()
	}
	return resp, err
}

// An email address or identifier the API echoes in an error body that is not JSON (a proxy's
// page, plain text) never reaches the error or a log line, even when the excerpt of the body
// cuts the value in two.
func TestFlowErrorsNeverCarryTheGuestsValueFromABodyThatIsNotJSON(t *testing.T) {
	const email, id = "jane.doe@example.com", "customer-778899"
	for _, tt := range []struct {
		name    string
		id      personalize.Identity
		value   string
		body    string
		excerpt string
	}{
		{"email in a short body", personalize.ByEmail(email), email, `<html>no guest ` + email + `</html>`, `<html>no guest [redacted]</html>`},
		{"identifier in a short body", personalize.ByIdentifier(id, "CRM"), id, `unknown guest ` + id, `unknown guest [redacted]`},
		{"email cut by the excerpt", personalize.ByEmail(email), email, strings.Repeat(".", 110) + email + strings.Repeat(".", 50),
			strings.Repeat(".", 110) + "[redacted]..."},
		{"identifier cut by the excerpt", personalize.ByIdentifier(id, "CRM"), id, strings.Repeat(".", 112) + id + strings.Repeat(".", 50),
			strings.Repeat(".", 112) + "[redacted]..."},
		{"value twice", personalize.ByEmail(email), email, email + " " + email, `[redacted] [redacted]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				assert.Contains(t, string(bodyOf(r)), tt.value, "the request carried the identity")
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = io.WriteString(w, tt.body)
			})
			var logs lockedBuffer
			c := newClient(t, rec.srv.URL, personalize.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: tt.id})
			var apiErr *personalize.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusBadGateway, apiErr.StatusCode)
			assert.Equal(t, tt.excerpt, apiErr.Excerpt, "the rest of the excerpt is kept for logs")
			assert.Contains(t, logs.String(), "api_error", "the failure was logged")
			// Not the value, and not the start of it either (the excerpt may end inside it).
			for _, s := range []string{err.Error(), apiErr.Excerpt, logs.String()} {
				assert.NotContains(t, s, tt.value[:6])
			}
		})
	}
}

// bodyOf reads a request's body, leaving it readable.
func bodyOf(r *http.Request) []byte {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	return body
}

func TestResponseSizeCap(t *testing.T) {
	big := `[` + strings.Repeat(`{"name":"x"},`, 200) + `{"name":"x"}]`
	tests := []struct {
		name   string
		answer http.HandlerFunc
		length int64 // the Content-Length the client sees
	}{
		{"announced by Content-Length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", itoa(len(big)))
			_, _ = io.WriteString(w, big)
		}, int64(len(big))},
		{"chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			for i := 0; i < len(big); i += 100 {
				_, _ = io.WriteString(w, big[i:min(i+100, len(big))])
				w.(http.Flusher).Flush()
			}
		}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, tt.answer)
			tr := &lengths{rt: &http.Transport{}}
			t.Cleanup(tr.rt.CloseIdleConnections)
			call := func(max int64) (*personalize.Result, error) {
				c := newClient(t, rec.srv.URL, personalize.WithMaxResponseSize(max), personalize.WithHTTPClient(&http.Client{Transport: tr}),
					personalize.WithBreaker(personalize.BreakerSettings{Disabled: true}))
				return c.CallFlow(context.Background(), flowOf("f"))
			}

			_, err := call(1000)
			assert.ErrorIs(t, err, personalize.ErrResponseTooLarge)
			res, err := call(int64(len(big)) - 1)
			assert.Nil(t, res)
			assert.ErrorIs(t, err, personalize.ErrResponseTooLarge, "one byte over the cap is refused")

			res, err = call(int64(len(big)))
			require.NoError(t, err, "an answer at the cap is accepted")
			assert.Len(t, res.Offers(), 100, "the first 100 of its 201 offers")
			assert.Len(t, res.Raw, len(big))

			tr.mu.Lock()
			defer tr.mu.Unlock()
			assert.Equal(t, []int64{tt.length, tt.length, tt.length}, tr.seen, "what the client was told of the length")
		})
	}
}

func TestConnectionRefusedIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	c := newClient(t, "http://"+addr)
	res, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
	assert.Nil(t, res)
	assert.ErrorIs(t, err, personalize.ErrUnavailable)
	assert.Equal(t, personalize.OutcomeError, personalize.OutcomeOf(err))
}

func TestHungCalls(t *testing.T) {
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

	t.Run("the per-call timeout ends it", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newMemRecorder(t, hang)
			c := memClient(t, rec.mem, personalize.WithTimeout(50*time.Millisecond))
			start := time.Now()
			_, err := c.CallFlow(context.Background(), flowOf("f"))
			assert.ErrorIs(t, err, personalize.ErrTimeout)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, personalize.OutcomeTimeout, personalize.OutcomeOf(err))
			assert.Equal(t, 50*time.Millisecond, time.Since(start))
			assert.Equal(t, int64(1), rec.hits.Load(), "a timeout is not retried")
		})
	})
	t.Run("the context's deadline ends it", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newMemRecorder(t, hang)
			c := memClient(t, rec.mem)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := c.CallFlow(ctx, flowOf("f"))
			assert.ErrorIs(t, err, personalize.ErrTimeout)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, 50*time.Millisecond, time.Since(start))
		})
	})
	t.Run("cancelling the context ends it at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			arrived := make(chan struct{})
			rec := newMemRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				close(arrived)
				hang(w, r)
			})
			c := memClient(t, rec.mem, personalize.WithTimeout(time.Minute))
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-arrived
				cancel()
			}()
			start := time.Now()
			_, err := c.CallFlow(ctx, flowOf("f"))
			assert.ErrorIs(t, err, personalize.ErrCanceled)
			assert.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, personalize.OutcomeCanceled, personalize.OutcomeOf(err))
			assert.Zero(t, time.Since(start), "not held until the one-minute timeout")
		})
	})
}

func TestRetryIsNotBlind(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		wantHits int64
		wantErr  bool
	}{
		{"503 then 200 retries once", []int{503, 200}, 2, false},
		{"503 twice gives up after one retry", []int{503, 503, 200}, 2, true},
		{"500 is not retried", []int{500, 200}, 1, true},
		{"429 is not retried", []int{429, 200}, 1, true},
		{"400 is not retried", []int{400, 200}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				i := n.Add(1) - 1
				answerJSON(tt.statuses[i], `{"status":`+itoa(tt.statuses[i])+`,"message":"m"}`)(w, r)
			})
			c := newClient(t, rec.srv.URL)
			_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
			assert.Equal(t, tt.wantErr, err != nil, "error: %v", err)
			assert.Equal(t, tt.wantHits, rec.hits.Load())
		})
	}

	t.Run("no retry when the deadline leaves no room", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newMemRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(60 * time.Millisecond)
				answerJSON(503, `{"status":503,"message":"down"}`)(w, r)
			})
			c := memClient(t, rec.mem, personalize.WithTimeout(100*time.Millisecond))
			start := time.Now()
			_, err := c.CallFlow(context.Background(), flowOf("f"))
			var apiErr *personalize.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 503, apiErr.StatusCode)
			assert.Equal(t, int64(1), rec.hits.Load(), "a second 60ms attempt cannot fit in the 40ms left")
			assert.Equal(t, 60*time.Millisecond, time.Since(start))
		})
	})
	t.Run("a retry when the deadline leaves room", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newMemRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(40 * time.Millisecond)
				answerJSON(503, `{"status":503,"message":"down"}`)(w, r)
			})
			c := memClient(t, rec.mem, personalize.WithTimeout(100*time.Millisecond))
			start := time.Now()
			_, err := c.CallFlow(context.Background(), flowOf("f"))
			require.Error(t, err)
			assert.Equal(t, int64(2), rec.hits.Load(), "a second 40ms attempt fits in the 60ms left")
			assert.Equal(t, 80*time.Millisecond, time.Since(start))
		})
	})

	t.Run("a refused connection is retried once", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		var dials atomic.Int64
		hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, a)
		}}}
		c := newClient(t, "http://"+addr, personalize.WithHTTPClient(hc))
		_, err = c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
		assert.ErrorIs(t, err, personalize.ErrUnavailable)
		assert.Equal(t, int64(2), dials.Load())
	})
}

func TestCircuitBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var failing atomic.Bool
		failing.Store(true)
		rec := newMemRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			if failing.Load() {
				answerJSON(500, `{"status":500,"message":"down"}`)(w, r)
				return
			}
			answerJSON(200, `[{"name":"back"}]`)(w, r)
		})
		var outcomes []personalize.Outcome
		c := memClient(t, rec.mem,
			personalize.WithBreaker(personalize.BreakerSettings{Failures: 3, OpenFor: 100 * time.Millisecond}),
			personalize.WithHooks(personalize.Hooks{FlowCall: func(_ context.Context, info personalize.CallInfo) { outcomes = append(outcomes, info.Outcome) }}))
		call := func() error {
			_, err := c.CallFlow(context.Background(), flowOf("f"))
			return err
		}

		for range 3 {
			var apiErr *personalize.APIError
			require.ErrorAs(t, call(), &apiErr)
		}
		err := call()
		assert.ErrorIs(t, err, personalize.ErrBreakerOpen)
		assert.Equal(t, int64(3), rec.hits.Load(), "an open breaker makes no call")

		failing.Store(false)
		time.Sleep(100 * time.Millisecond)
		assert.ErrorIs(t, call(), personalize.ErrBreakerOpen, "still open at OpenFor")
		time.Sleep(time.Millisecond)
		require.NoError(t, call(), "a trial call goes through after OpenFor and succeeds")
		require.NoError(t, call())
		assert.Equal(t, int64(5), rec.hits.Load(), "the closed breaker lets calls through")
		assert.Equal(t, []personalize.Outcome{personalize.OutcomeAPIError, personalize.OutcomeAPIError, personalize.OutcomeAPIError,
			personalize.OutcomeBreakerOpen, personalize.OutcomeBreakerOpen, personalize.OutcomeDecision, personalize.OutcomeDecision}, outcomes)
	})
}

// Timeouts and 429 are the API's faults: they open the flow's breaker like 5xx do.
func TestTimeoutsAnd429OpenTheBreaker(t *testing.T) {
	tests := []struct {
		name   string
		answer http.HandlerFunc
		is     func(t *testing.T, err error)
	}{
		{"timeout", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, errIs(personalize.ErrTimeout)},
		// Without Retry-After, so that only the breaker can hold the flow back.
		{"429", answerJSON(429, `{"status":429,"message":"slow down"}`), apiStatus(429)},
		{"500", answerJSON(500, `{"status":500,"message":"down"}`), apiStatus(500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newMemRecorder(t, tt.answer)
				c := memClient(t, rec.mem, personalize.WithTimeout(50*time.Millisecond),
					personalize.WithBreaker(personalize.BreakerSettings{Failures: 2, OpenFor: time.Minute}))
				for range 2 {
					_, err := c.CallFlow(context.Background(), flowOf("f"))
					tt.is(t, err)
				}
				start := time.Now()
				_, err := c.CallFlow(context.Background(), flowOf("f"))
				assert.ErrorIs(t, err, personalize.ErrBreakerOpen, "two faults in a row open the breaker")
				assert.Zero(t, time.Since(start), "and the flow fails fast")
				assert.Equal(t, int64(2), rec.hits.Load())
				_, err = c.CallFlow(context.Background(), flowOf("other"))
				assert.NotErrorIs(t, err, personalize.ErrBreakerOpen, "another flow has a breaker of its own")
				assert.Equal(t, int64(3), rec.hits.Load())
			})
		})
	}
}

func TestBreakerIgnoresErrorsCausedByTheRequest(t *testing.T) {
	for _, status := range []int{400, 401, 404, 422} {
		t.Run(itoa(status), func(t *testing.T) {
			rec := newRecorder(t, answerJSON(status, `{"status":`+itoa(status)+`,"message":"bad"}`))
			c := newClient(t, rec.srv.URL, personalize.WithBreaker(personalize.BreakerSettings{Failures: 2}))
			for range 5 {
				_, err := c.CallFlow(context.Background(), flowOf("f"))
				var apiErr *personalize.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, status, apiErr.StatusCode)
				_, _ = c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: ""})
				_, _ = c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f"}) // no identity
			}
			assert.Equal(t, int64(5), rec.hits.Load(), "every call reached the API: the breaker stayed closed")
		})
	}
}

func TestCreateBrowser(t *testing.T) {
	t.Run("returns Sitecore's ref", func(t *testing.T) {
		rec := newRecorder(t, answerJSON(200, `{"status":"OK","version":"1.2","client_key":"k","ref":"`+seedBrowserID+`","customer_ref":"x"}`))
		c := newClient(t, rec.srv.URL)
		id, err := c.CreateBrowser(context.Background())
		require.NoError(t, err)
		assert.Equal(t, seedBrowserID, id)
		r := rec.lastRequest(t)
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, apiPath(t, "/v1.2/browser/create.json"), r.URL.Path)
		if onEdge(t) {
			assert.Equal(t, "sitecoreContextId="+sandbox.DefaultContextID+"&client_key=", r.URL.RawQuery, "as the Cloud SDK asks")
			return
		}
		assert.Equal(t, seedClientKey, r.URL.Query().Get("client_key"))
		assert.Equal(t, "{}", r.URL.Query().Get("message"))
	})
	for name, tt := range map[string]struct {
		answer http.HandlerFunc
		apiErr *personalize.APIError // nil: ErrMalformedResponse
	}{
		"401":        {answerJSON(401, `{"status":401,"message":"unknown client key"}`), &personalize.APIError{StatusCode: 401, Status: 401, Message: "unknown client key"}},
		"no ref":     {answerJSON(200, `{"status":"OK"}`), nil},
		"bad ref":    {answerJSON(200, `{"ref":"<script>"}`), nil},
		"not JSON":   {answerJSON(200, `ok`), nil},
		"error body": {answerJSON(200, `{"status":500,"message":"down"}`), &personalize.APIError{StatusCode: 200, Status: 500, Message: "down"}},
	} {
		t.Run(name, func(t *testing.T) {
			rec := newRecorder(t, tt.answer)
			c := newClient(t, rec.srv.URL)
			id, err := c.CreateBrowser(context.Background())
			require.Error(t, err)
			assert.Empty(t, id)
			assert.True(t, strings.HasPrefix(err.Error(), "personalize: "), err.Error())
			apiErr, isAPIErr := errors.AsType[*personalize.APIError](err)
			if tt.apiErr != nil {
				require.True(t, isAPIErr, err.Error())
				assert.Equal(t, tt.apiErr, apiErr)
				assert.NotErrorIs(t, err, personalize.ErrMalformedResponse)
				assert.Equal(t, personalize.OutcomeAPIError, personalize.OutcomeOf(err))
			} else {
				assert.ErrorIs(t, err, personalize.ErrMalformedResponse)
				assert.False(t, isAPIErr, err.Error())
				assert.Equal(t, personalize.OutcomeError, personalize.OutcomeOf(err))
			}
		})
	}
}

func TestConnectionsAreReused(t *testing.T) {
	var conns, hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1)%2 == 0 {
			answerJSON(500, `{"status":500,"message":"`+strings.Repeat("x", 1000)+`"}`)(w, r)
			return
		}
		answerJSON(200, `[{"name":"a"}]`)(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, personalize.WithBreaker(personalize.BreakerSettings{Disabled: true}))
	for range 20 {
		_, _ = c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
	}
	assert.Equal(t, int64(20), hits.Load())
	assert.Equal(t, int64(1), conns.Load(), "answers, errors included, are read to the end so the connection is kept")
}
