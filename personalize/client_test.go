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
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-personalize/sdk/internal/seam"
	"github.com/go-personalize/sdk/personalize"
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
	rec := newRecorder(t, answerJSON(200, `{}`))
	c := newClient(t, rec.srv.URL, personalize.WithChannel("MOBILE_WEB"), personalize.WithLanguage("fr"),
		personalize.WithCurrency("CHF"), personalize.WithPointOfSale("site/ch"))

	_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
	require.NoError(t, err)
	assert.JSONEq(t, `{"clientKey":"`+seedClientKey+`","channel":"MOBILE_WEB","language":"fr","currencyCode":"CHF",
		"pointOfSale":"site/ch","browserId":"`+seedBrowserID+`","friendlyId":"f"}`, string(rec.lastBody(t)))

	_, err = c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID),
		Channel: "KIOSK", Language: "de", Currency: "EUR", PointOfSale: "site/de"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"clientKey":"`+seedClientKey+`","channel":"KIOSK","language":"de","currencyCode":"EUR",
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
	assert.Equal(t, "/v2/callFlows", r.URL.Path)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.Equal(t, "go-personalize/"+personalize.Version+" (+https://github.com/go-personalize/sdk)", r.Header.Get("User-Agent"))

	visitor := "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"
	_, err = c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID), UserAgent: visitor})
	require.NoError(t, err)
	ua := rec.lastRequest(t).Header.Get("User-Agent")
	assert.True(t, strings.HasPrefix(ua, visitor), "the visitor's agent is forwarded first: %q", ua)
	assert.Contains(t, ua, "go-personalize/"+personalize.Version)
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

func TestResponseSizeCap(t *testing.T) {
	big := `[` + strings.Repeat(`{"name":"x"},`, 200) + `{"name":"x"}]`
	tests := []struct {
		name   string
		answer http.HandlerFunc
	}{
		{"announced by Content-Length", answerJSON(200, big)},
		{"chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			for i := 0; i < len(big); i += 100 {
				_, _ = io.WriteString(w, big[i:min(i+100, len(big))])
				w.(http.Flusher).Flush()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, tt.answer)
			c := newClient(t, rec.srv.URL, personalize.WithMaxResponseSize(1000))
			_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
			assert.ErrorIs(t, err, personalize.ErrResponseTooLarge)

			c = newClient(t, rec.srv.URL, personalize.WithMaxResponseSize(int64(len(big))))
			res, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
			require.NoError(t, err, "an answer at the cap is accepted")
			assert.Len(t, res.Offers(), 201)
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
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hang := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}

	t.Run("the per-call timeout ends it", func(t *testing.T) {
		rec := newRecorder(t, hang)
		c := newClient(t, rec.srv.URL, personalize.WithTimeout(50*time.Millisecond))
		start := time.Now()
		_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
		assert.ErrorIs(t, err, personalize.ErrTimeout)
		assert.Equal(t, personalize.OutcomeTimeout, personalize.OutcomeOf(err))
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("the context's deadline ends it", func(t *testing.T) {
		rec := newRecorder(t, hang)
		c := newClient(t, rec.srv.URL)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.CallFlow(ctx, personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
		assert.ErrorIs(t, err, personalize.ErrTimeout)
	})
	t.Run("cancelling the context ends it at once", func(t *testing.T) {
		rec := newRecorder(t, hang)
		c := newClient(t, rec.srv.URL, personalize.WithTimeout(time.Minute))
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for rec.hits.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		start := time.Now()
		_, err := c.CallFlow(ctx, personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
		assert.ErrorIs(t, err, personalize.ErrCanceled)
		assert.Equal(t, personalize.OutcomeCanceled, personalize.OutcomeOf(err))
		assert.Less(t, time.Since(start), 5*time.Second, "not held until the one-minute timeout")
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
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(60 * time.Millisecond)
			answerJSON(503, `{"status":503,"message":"down"}`)(w, r)
		})
		c := newClient(t, rec.srv.URL, personalize.WithTimeout(100*time.Millisecond))
		_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
		require.Error(t, err)
		assert.Equal(t, int64(1), rec.hits.Load(), "a second 60ms attempt cannot fit in the 40ms left")
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
	var failing atomic.Bool
	failing.Store(true)
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			answerJSON(500, `{"status":500,"message":"down"}`)(w, r)
			return
		}
		answerJSON(200, `[{"name":"back"}]`)(w, r)
	})
	var outcomes []personalize.Outcome
	c := newClient(t, rec.srv.URL,
		personalize.WithBreaker(personalize.BreakerSettings{Failures: 3, OpenFor: 100 * time.Millisecond}),
		personalize.WithHook(func(info personalize.CallInfo) { outcomes = append(outcomes, info.Outcome) }))
	call := func() error {
		_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
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
	time.Sleep(150 * time.Millisecond)
	require.NoError(t, call(), "a trial call goes through after OpenFor and succeeds")
	require.NoError(t, call())
	assert.Equal(t, int64(5), rec.hits.Load(), "the closed breaker lets calls through")
	assert.Equal(t, []personalize.Outcome{personalize.OutcomeAPIError, personalize.OutcomeAPIError, personalize.OutcomeAPIError,
		personalize.OutcomeBreakerOpen, personalize.OutcomeDecision, personalize.OutcomeDecision}, outcomes)
}

func TestBreakerIgnoresErrorsCausedByTheRequest(t *testing.T) {
	rec := newRecorder(t, answerJSON(400, `{"status":400,"message":"bad"}`))
	c := newClient(t, rec.srv.URL, personalize.WithBreaker(personalize.BreakerSettings{Failures: 2}))
	for range 5 {
		_, err := c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: "f", Identity: personalize.ByBrowserID(seedBrowserID)})
		var apiErr *personalize.APIError
		require.ErrorAs(t, err, &apiErr)
		_, _ = c.CallFlow(context.Background(), personalize.FlowRequest{FriendlyID: ""})
	}
	assert.Equal(t, int64(5), rec.hits.Load(), "every call reached the API: the breaker stayed closed")
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
		assert.Equal(t, "/v1.2/browser/create.json", r.URL.Path)
		assert.Equal(t, seedClientKey, r.URL.Query().Get("client_key"))
		assert.Equal(t, "{}", r.URL.Query().Get("message"))
	})
	for name, answer := range map[string]http.HandlerFunc{
		"401":        answerJSON(401, `{"status":401,"message":"unknown client key"}`),
		"no ref":     answerJSON(200, `{"status":"OK"}`),
		"bad ref":    answerJSON(200, `{"ref":"<script>"}`),
		"not JSON":   answerJSON(200, `ok`),
		"error body": answerJSON(200, `{"status":500,"message":"down"}`),
	} {
		t.Run(name, func(t *testing.T) {
			rec := newRecorder(t, answer)
			c := newClient(t, rec.srv.URL)
			id, err := c.CreateBrowser(context.Background())
			require.Error(t, err)
			assert.Empty(t, id)
			assert.True(t, strings.HasPrefix(err.Error(), "personalize: "), err.Error())
			var apiErr *personalize.APIError
			assert.True(t, errors.As(err, &apiErr) || errors.Is(err, personalize.ErrMalformedResponse), err.Error())
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
