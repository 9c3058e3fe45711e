package personalize

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-personalize/sdk/internal/browserid"
)

// Client calls Sitecore Personalize. It is safe for concurrent use; make one per site and
// share it.
type Client struct {
	clientKey string
	cfg       config
	hc        *http.Client
	ownsHC    bool
	// direct: the client's requests go straight to its RoundTripper rather than through
	// http.Client.Do, which for a client without a cookie jar or a timeout of its own (and
	// redirects refused) adds nothing but a copy of every request's headers.
	direct    bool
	logger    *slog.Logger
	isolation *isolation // nil when BreakerSettings.Disabled
	events    eventQueue
	hooks     clientHooks
	cache     *decisionCache // nil without WithCaching
	limits    *limits        // nil without WithLimits
	finishing finishing      // abandoned calls finishing in the background

	transport    string // TransportDirect or TransportEdge
	callFlowsURL string
	createURL    string
	eventsURL    string
	parsed       map[string]*url.URL // the URLs above, parsed once (see newRequest)
	showURL      [2]string           // the Edge proxy's show.json URL, before and after the browser ID
}

// New makes a client for the tenant with the given public client key. Invalid options are
// reported here, not on the first call. Close the client when the site shuts down: it
// delivers the events still queued.
//
// With WithEdge the client key is empty: the Sitecore Edge context ID names the tenant.
func New(clientKey string, opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.applyOption(&cfg); err != nil {
			return nil, err
		}
	}
	switch {
	case cfg.edge != nil:
		if err := cfg.checkEdge(clientKey); err != nil {
			return nil, err
		}
	case strings.TrimSpace(clientKey) == "":
		return nil, fmt.Errorf("%w: empty client key (or give WithEdge to go through the Sitecore Edge proxy)", ErrInvalidConfig)
	case strings.ContainsAny(clientKey, " \t\r\n;,/?#&="):
		return nil, fmt.Errorf("%w: client key contains characters a client key never has", ErrInvalidConfig)
	}
	if err := cfg.checkTransport(); err != nil {
		return nil, err
	}
	// Flows and events send the language upper case, as the SDKs do: upper-cased once here,
	// their strings.ToUpper finds nothing to change and allocates nothing on a page.
	cfg.language = strings.ToUpper(cfg.language)
	c := &Client{clientKey: clientKey, cfg: cfg, hc: cfg.httpClient, logger: cfg.logger}
	if c.hc == nil {
		c.hc = &http.Client{Transport: newTransport(cfg.maxIdleConns)}
		c.ownsHC = true
	} else {
		hc := *c.hc // the caller's client is theirs: redirects are refused on a copy
		c.hc = &hc
	}
	// The API has no reason to redirect, and following one would send the request's body (the
	// client key, a browser ID, an IDENTITY event's email) to another host and render its
	// answer: a redirect is an *APIError, like any answer that is not 2xx.
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.direct = c.hc.Jar == nil && c.hc.Timeout == 0
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if !cfg.breaker.Disabled {
		c.isolation = newIsolation(cfg.breaker, c.logger)
	}
	c.endpoints()
	c.events.init(c, cfg.events)
	c.cache = newDecisionCache(c, cfg.caching)
	c.limits = newLimits(cfg.limits, c.logger)
	if len(cfg.hooks) > 0 {
		c.hooks.set.Store(newHookSet(slices.Clip(cfg.hooks)))
	}
	return c, nil
}

// Close delivers the events still queued (Track, Identify, page views), waiting until they are
// sent or ctx ends, and closes the client's idle connections to the API (when the client made
// its own HTTP client). It also waits, within ctx, for the decision cache's background
// refreshes and writes (WithCaching). It returns an *UndeliveredError when queued events could
// not be delivered. Events given to the client after Close are dropped (ErrClosed); flow calls still
// work. Calling Close again returns nil.
func (c *Client) Close(ctx context.Context) error {
	if c.zero() {
		return nil // nothing was started
	}
	err := c.events.close(ctx)
	if cerr := c.cache.close(ctx); err == nil && cerr != nil {
		err = fmt.Errorf("%w: refreshes of the decision cache still running: %w", ErrClosed, cerr)
	}
	c.finishing.close()
	if c.ownsHC {
		c.hc.CloseIdleConnections()
	}
	return err
}

// EventStats returns the counters of the client's events.
func (c *Client) EventStats() EventStats {
	if c.zero() {
		return EventStats{}
	}
	return c.events.stats()
}

// errZeroClient is what a zero (or nil) Client's calls return.
var errZeroClient = fmt.Errorf("%w: a zero Client: make one with personalize.New", ErrInvalidConfig)

// zero reports whether c is nil or was not made by New.
func (c *Client) zero() bool { return c == nil || c.callFlowsURL == "" }

// CallFlow runs one flow. On any failure it returns a nil result and an error that says why:
// errors.Is with the package's sentinels, or *APIError. Invalid requests fail before any
// network call.
func (c *Client) CallFlow(ctx context.Context, req FlowRequest) (*Result, error) {
	if c.zero() {
		return nil, errZeroClient
	}
	res, info := c.call(ctx, &req, false)
	return res, info.servedErr()
}

// call runs one flow and reports it to the hooks and the logger; paged says the call is a
// page's, under the page's budget.
func (c *Client) call(ctx context.Context, req *FlowRequest, paged bool) (*Result, CallInfo) {
	start := time.Now()
	var budgetLeft time.Duration
	if d, ok := ctx.Deadline(); ok && paged {
		budgetLeft = max(d.Sub(start), 0)
	}
	if pol := c.cache.policy(req.FriendlyID); pol.mode != cacheOff {
		return c.cachedCall(ctx, req, pol, start, budgetLeft)
	}
	var (
		res  *Result
		info CallInfo
	)
	if payload, err := c.payload(req); err != nil {
		info = CallInfo{FriendlyID: req.FriendlyID, Outcome: OutcomeOf(err), Identity: req.Identity.kind, Err: err}
	} else {
		res, info = c.apiCall(ctx, req, payload)
	}
	info.Start, info.Duration, info.BudgetLeft = start, time.Since(start), budgetLeft
	if res != nil {
		res.Duration = info.Duration
	}
	c.report(ctx, info)
	return res, info
}

// payload is the request's body, checked: ErrInvalidRequest before any network traffic.
func (c *Client) payload(req *FlowRequest) ([]byte, error) {
	body, err := c.body(req)
	if err != nil {
		return nil, err
	}
	return c.encodeBody(body, req)
}

// encodeBody adds the request's parameters to its checked body, and encodes it.
func (c *Client) encodeBody(body *callFlowsBody, req *FlowRequest) ([]byte, error) {
	body.Params = c.params(req)
	payload, err := body.appendJSON(nil)
	if err != nil {
		return nil, invalidf("params cannot be encoded as JSON: %v", err)
	}
	return payload, nil
}

// apiCall sends one flow call (payload is its body) through the limits and the flow's
// breaker, and describes it; the caller reports it.
func (c *Client) apiCall(ctx context.Context, req *FlowRequest, payload []byte) (*Result, CallInfo) {
	start := time.Now()
	correlationID := newCorrelationID()
	var (
		res              *Result
		status, attempts int
		iso              IsolationState
		err              error
	)
	if shed := c.limits.acquire(); shed != nil {
		err, iso = shed, c.isolationState(req.FriendlyID)
	} else {
		iso, err = c.guard(req.FriendlyID, func() error {
			var raw []byte
			raw, status, attempts, err = c.send(ctx, http.MethodPost, c.callFlowsURL, payload, callHeaders{userAgent: req.UserAgent, correlationID: correlationID})
			if err != nil {
				return err
			}
			tree, err := checkFlowBody(status, raw)
			if err != nil {
				return err
			}
			res = &Result{FriendlyID: req.FriendlyID, StatusCode: status, Raw: raw, tree: tree}
			return nil
		})
		c.limits.release()
	}
	if err != nil {
		res, err = nil, redact(err, req.Identity)
	}
	info := CallInfo{
		FriendlyID:    req.FriendlyID,
		Outcome:       OutcomeOf(err),
		Identity:      req.Identity.kind,
		Start:         start,
		Duration:      time.Since(start),
		StatusCode:    status,
		Attempts:      attempts,
		Isolation:     iso,
		Transport:     c.transport,
		CorrelationID: correlationID,
		Err:           err,
	}
	if attempts == 0 {
		info.CorrelationID, info.Transport = "", "" // nothing was sent
	}
	if res != nil {
		res.Duration = info.Duration
	}
	return res, info
}

// CreateBrowser asks Sitecore for a new browser ID (GET /v1.2/browser/create.json, or the
// Edge proxy's /v1/events/v1.2/browser/create.json with WithEdge) and returns it. Browser IDs
// are Sitecore's to create: the API may not know a locally minted one.
func (c *Client) CreateBrowser(ctx context.Context) (string, error) {
	if c.zero() {
		return "", errZeroClient
	}
	b, err := c.createBrowser(ctx)
	return b.Ref, err
}

// createBrowser creates a browser; through the Edge proxy the answer also names the browser's
// new guest (CustomerRef, "" when the answer has none that is valid).
func (c *Client) createBrowser(ctx context.Context) (browserAnswer, error) {
	var b browserAnswer
	err := c.browserCall(ctx, browserKey, c.createURL, false, "personalize: creating a browser ID failed", func(status int, raw []byte) error {
		var body browserAnswer
		if err := json.Unmarshal(raw, &body); err != nil {
			return fmt.Errorf("%w: browser/create.json: %v", ErrMalformedResponse, err)
		}
		if apiErr := errorObject(status, raw); apiErr != nil {
			return apiErr
		}
		if !browserid.Valid(body.Ref) {
			return fmt.Errorf("%w: browser/create.json returned no valid browser ID", ErrMalformedResponse)
		}
		b.Ref = body.Ref
		if browserid.ValidGuestRef(body.CustomerRef) {
			b.CustomerRef = body.CustomerRef
		}
		return nil
	})
	if err != nil {
		return browserAnswer{}, err
	}
	return b, nil
}

// browserCall makes one GET of a browser endpoint (create.json, or the Edge proxy's show.json:
// guestRef) through the breaker of key, reads its answer with read, tells the hooks
// (BrowserInfo) and logs a failure at debug as msg: a failing API shows once, at warn, when
// its breaker opens.
func (c *Client) browserCall(ctx context.Context, key, url string, guestRef bool, msg string, read func(status int, raw []byte) error) error {
	start := time.Now()
	var status, attempts int
	iso, err := c.guard(key, func() error {
		var raw []byte
		var err error
		raw, status, attempts, err = c.send(ctx, http.MethodGet, url, nil, callHeaders{})
		if err != nil {
			return err
		}
		return read(status, raw)
	})
	if s := c.hooks.load(); s.browsers > 0 {
		info := BrowserInfo{GuestRef: guestRef, Outcome: OutcomeOf(err), Start: start, Duration: time.Since(start),
			StatusCode: status, Attempts: attempts, Isolation: iso, Err: err}
		if attempts > 0 {
			info.Transport = c.transport
		}
		c.browserHooks(ctx, info)
	}
	if err != nil {
		c.logger.LogAttrs(ctx, slog.LevelDebug, msg, slog.Any("error", err))
	}
	return err
}

// callHeaders are a request's headers that vary per call.
type callHeaders struct {
	// userAgent is the visitor's User-Agent, forwarded unchanged (cut to maxForwardedAgent
	// bytes), as the Cloud SDK forwards it; "" sends the library's own.
	userAgent string
	// correlationID, when set, goes out as x-sc-correlation-id (the Cloud SDK's header for
	// tracing one call across both sides); a retry sends the same one.
	correlationID string
	// event marks an event's request: through the Edge proxy it names the client software in
	// X-Client-Software-ID, as the Cloud SDK's events do
	// (packages/events/src/lib/events/send-event/sendEvent.ts).
	event bool
}

// send makes the HTTP request, retrying once when the connection failed before the request
// was sent or the API answered 503, and only while the deadline leaves room for it. It
// returns the body of a 2xx answer.
func (c *Client) send(ctx context.Context, method, url string, payload []byte, hdr callHeaders) (raw []byte, status, attempts int, err error) {
	// The call's own timeout, unless the context ends sooner anyway (a page's budget): a
	// context per call would change nothing then but cost a timer.
	callCtx := ctx
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > c.cfg.timeout {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
		defer cancel()
	}
	for {
		attempts++
		began := time.Now()
		raw, status, err = c.once(ctx, callCtx, method, url, payload, hdr)
		if err == nil || attempts > 1 || !retryable(err, status) || !roomFor(callCtx, time.Since(began)) {
			return raw, status, attempts, err
		}
	}
}

func (c *Client) once(ctx, callCtx context.Context, method, url string, payload []byte, hdr callHeaders) ([]byte, int, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	ex := newExchange(callCtx)
	req, err := c.newRequest(ex.ctx, method, url, body)
	if err != nil {
		ex.cancel()
		return nil, 0, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	h := req.Header
	if payload != nil {
		h["Content-Type"] = jsonHeader
	}
	h["Accept"] = jsonHeader
	// The library names itself in a header of its own, with a bare version as the SDKs do:
	// anything appended to the visitor's User-Agent would make it read as a bot's.
	h["X-Library-Version"] = libraryHeader
	if ua := bounded(hdr.userAgent, maxForwardedAgent); ua != "" {
		h["User-Agent"] = []string{ua}
	} else {
		h["User-Agent"] = libraryUAHeader
	}
	if hdr.correlationID != "" {
		h["X-Sc-Correlation-Id"] = []string{hdr.correlationID}
	}
	if hdr.event && c.cfg.edge != nil {
		h["X-Client-Software-Id"] = softwareIDHeader
	}
	return c.exchange(ctx, callCtx, ex, req)
}

// answer sends req and reads its answer whole (so that its connection can be reused), in the
// goroutine of its exchange (see Client.exchange).
func (c *Client) answer(ctx, callCtx context.Context, req *http.Request) ([]byte, int, error) {
	resp, err := c.roundTrip(req)
	if err != nil {
		return nil, 0, transportError(ctx, callCtx, err)
	}
	defer closeBody(resp.Body)
	if resp.ContentLength > c.cfg.maxResponseSize {
		return nil, resp.StatusCode, fmt.Errorf("%w: %d bytes, cap %d", ErrResponseTooLarge, resp.ContentLength, c.cfg.maxResponseSize)
	}
	raw, err := readLimited(resp.Body, resp.ContentLength, c.cfg.maxResponseSize)
	if err != nil {
		if errors.Is(err, ErrResponseTooLarge) {
			return nil, resp.StatusCode, err
		}
		return nil, resp.StatusCode, transportError(ctx, callCtx, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := newAPIError(resp.StatusCode, raw)
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
			apiErr.Excerpt = "a redirect, not followed, to " + excerpt([]byte(loc))
		}
		apiErr.RetryAfter = retryAfter(resp.StatusCode, resp.Header, time.Now())
		return nil, resp.StatusCode, apiErr
	}
	return raw, resp.StatusCode, nil
}

// newRequest is http.NewRequestWithContext, with the client's own URLs parsed once (New)
// rather than per request: each request gets a copy of its parsed URL.
func (c *Client) newRequest(ctx context.Context, method, rawURL string, body io.Reader) (*http.Request, error) {
	u, ok := c.parsed[rawURL]
	if !ok {
		return http.NewRequestWithContext(ctx, method, rawURL, body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "", body)
	if err != nil {
		return nil, err
	}
	own := *u
	req.URL, req.Host = &own, own.Host
	return req, nil
}

// parseEndpoints parses the client's fixed URLs once, for newRequest; a URL that does not
// parse is left to fail per request, as before.
func (c *Client) parseEndpoints() {
	c.parsed = make(map[string]*url.URL, 3)
	for _, raw := range []string{c.callFlowsURL, c.createURL, c.eventsURL} {
		if u, err := url.Parse(raw); err == nil {
			c.parsed[raw] = u
		}
	}
}

// roundTrip sends req as the client's http.Client.Do would: straight to its RoundTripper when
// it is direct (redirects are refused anyway, and it has no jar or timeout), its errors
// wrapped in a *url.Error as Do wraps them.
func (c *Client) roundTrip(req *http.Request) (*http.Response, error) {
	if !c.direct {
		return c.hc.Do(req)
	}
	rt := c.hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	switch {
	case err != nil:
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return nil, &url.Error{Op: urlErrorOp(req.Method), URL: req.URL.Redacted(), Err: err}
	case resp == nil:
		return nil, &url.Error{Op: urlErrorOp(req.Method), URL: req.URL.Redacted(),
			Err: fmt.Errorf("http: RoundTripper implementation (%T) returned a nil *Response with a nil error", rt)}
	case resp.Body == nil:
		resp.Body = http.NoBody
	}
	return resp, nil
}

// urlErrorOp is the Op of a *url.Error for method, as net/http's client names it: "Get",
// "Post".
func urlErrorOp(method string) string {
	if method == "" {
		return "Get"
	}
	if lower := strings.ToLower(method); len(lower) > 1 {
		return method[:1] + lower[1:]
	}
	return method
}

// Bounds of what a visitor's request puts into an API call: a User-Agent is cut to
// maxForwardedAgent bytes (browsers send a few hundred), a referrer over maxReferrer bytes
// is left out; a visitor's headers must not make the API refuse, or reset, the site's calls.
const (
	maxForwardedAgent = 512
	maxReferrer       = 1024
)

// bounded cuts s to at most n bytes, at a character boundary.
func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

var (
	jsonHeader      = []string{"application/json"}
	libraryHeader   = []string{Version}
	libraryUAHeader = []string{userAgent}
	// softwareIDHeader is X-Client-Software-ID: the library's name and version, as the Cloud
	// SDK sends "@sitecore-cloudsdk/events 0.6.1".
	softwareIDHeader = []string{"go-personalize " + Version}
)

// readLimited reads a body of at most max bytes. Its buffer grows as bytes arrive: a
// Content-Length is a promise, not an allocation (one under the cap is checked before, one
// over it cannot be kept). A body whose length is known, and kept, is read into one buffer
// of that length and a byte more, where the end of the body is seen.
func readLimited(r io.Reader, length, max int64) ([]byte, error) {
	if length < 0 || length > 64<<10 {
		length = 512
	}
	buf := make([]byte, 0, length+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow
		}
		n, err := r.Read(buf[len(buf):min(int64(cap(buf)), max+1)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			return nil, fmt.Errorf("%w: over %d bytes", ErrResponseTooLarge, max)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// closeBody drains a little of what is left so the connection can be reused, then closes.
func closeBody(b io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, b, 4<<10)
	_ = b.Close()
}

// checkFlowBody rejects 2xx answers that are no flow response: empty, not JSON, or Sitecore's
// error object. It checks the answer once, for this check and for Empty and Offers.
func checkFlowBody(status int, raw []byte) (answer, error) {
	a, err := checkAnswer(raw)
	if err != nil {
		return answer{}, err
	}
	if a.errorObject {
		return answer{}, newAPIError(status, bytes.TrimSpace(raw))
	}
	return a, nil
}

// errorBody is Sitecore's error object. Status and code are numbers or strings depending on
// the service, so they are decoded loosely.
type errorBody struct {
	Status           json.RawMessage `json:"status"`
	Code             json.RawMessage `json:"code"`
	Message          string          `json:"message"`
	DeveloperMessage string          `json:"developerMessage"`
	MoreInfoURL      string          `json:"moreInfoUrl"`
	// The shape of the browser endpoints' errors (show.json, create.json): {error_msg, moreInfo}.
	ErrorMsg string `json:"error_msg"`
	MoreInfo string `json:"moreInfo"`
}

// errorObject returns an *APIError when raw is Sitecore's error object, else nil.
func errorObject(status int, raw []byte) *APIError {
	if len(raw) == 0 || raw[0] != '{' || !bytes.Contains(raw, []byte(`"status"`)) {
		return nil
	}
	if m, ok := firstValue(raw).(map[string]any); !ok || !isErrorObject(m) {
		return nil
	}
	return newAPIError(status, raw)
}

func newAPIError(status int, raw []byte) *APIError {
	e := &APIError{StatusCode: status}
	var b errorBody
	if len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, &b) == nil &&
		(b.Message != "" || b.DeveloperMessage != "" || len(b.Code) > 0 || b.ErrorMsg != "") {
		e.Status = statusNumber(looseString(b.Status))
		e.Code = looseString(b.Code)
		e.Message = cmp.Or(b.Message, b.ErrorMsg)
		e.DeveloperMessage = b.DeveloperMessage
		e.MoreInfoURL = cmp.Or(b.MoreInfoURL, b.MoreInfo)
		return e
	}
	e.Excerpt = excerpt(raw)
	return e
}

func looseString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

func excerpt(raw []byte) string {
	const max = 120
	s := strings.ToValidUTF8(string(bytes.TrimSpace(raw)), "?")
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "..."
	}
	return s
}

// transportError says why a request got no answer, in this package's terms, wrapping the
// cause: errors.Is works for ErrCanceled or ErrTimeout, and for context.Canceled or
// context.DeadlineExceeded (or the context's own cause).
func transportError(ctx, callCtx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return contextError(ctx)
	case callCtx.Err() != nil:
		return fmt.Errorf("%w: no answer within the call's timeout: %w", ErrTimeout, context.Cause(callCtx))
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// contextError says why a context ended in this package's terms, wrapping its error
// (context.Canceled or context.DeadlineExceeded) and its cause when it was given one of its own
// (context.WithCancelCause, WithTimeoutCause).
func contextError(ctx context.Context) error {
	sentinel, why := ErrCanceled, ""
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		sentinel, why = ErrTimeout, "no answer within the deadline: "
	}
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		return fmt.Errorf("%w: %s%w (%w)", sentinel, why, ctx.Err(), cause)
	}
	return fmt.Errorf("%w: %s%w", sentinel, why, ctx.Err())
}

// retryable: the connection failed before the request was sent (so the API never saw it), or
// the API said 503 ("try again immediately as servers are clustered") without asking to wait
// (Retry-After).
func retryable(err error, status int) bool {
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		return apiErr.StatusCode == http.StatusServiceUnavailable && apiErr.RetryAfter == 0
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial" && errors.Is(err, ErrUnavailable)
}

// roomFor reports whether the deadline leaves time for another attempt as long as the last.
func roomFor(ctx context.Context, last time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > last+5*time.Millisecond
}

// redact removes an email address or identifier value from an error the API may have echoed
// it in.
func redact(err error, id Identity) error {
	var apiErr *APIError
	if id.kind == BrowserIDIdentity || id.value == "" || !errors.As(err, &apiErr) {
		return err
	}
	r := strings.NewReplacer(id.value, "[redacted]")
	apiErr.Message = r.Replace(apiErr.Message)
	apiErr.DeveloperMessage = r.Replace(apiErr.DeveloperMessage)
	apiErr.Excerpt = redactCut(r.Replace(apiErr.Excerpt), id.value)
	return err
}

// redactCut removes the start of value from the end of an excerpt cut short ("...") inside it:
// the rest of the value was in the part cut off, so replacing whole values misses it.
func redactCut(excerpt, value string) string {
	cut, ok := strings.CutSuffix(excerpt, "...")
	if !ok {
		return excerpt
	}
	for n := min(len(value)-1, len(cut)); n > 0; n-- {
		if strings.HasSuffix(cut, value[:n]) {
			return cut[:len(cut)-n] + "[redacted]..."
		}
	}
	return excerpt
}

func (c *Client) report(ctx context.Context, info CallInfo) {
	c.flowHooks(ctx, info)
	// Per call, at debug: a flow that keeps failing shows once, at warn, when it is isolated
	// (its breaker opens), and again when it recovers.
	level, msg := slog.LevelDebug, "personalize: flow decision"
	switch info.Outcome {
	case OutcomeDecision:
	case OutcomeNoVisitor, OutcomeCanceled:
		// Not failures: a visitor without consent, a bot, or one who went away.
		msg = "personalize: flow not called"
	default:
		msg = "personalize: flow call failed"
	}
	if !c.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("friendly_id", info.FriendlyID),
		slog.String("outcome", info.Outcome.String()),
		slog.Duration("duration", info.Duration),
		slog.Int("status", info.StatusCode),
		slog.String("identity", info.Identity.String()),
	}
	if info.CorrelationID != "" {
		attrs = append(attrs, slog.String("correlation_id", info.CorrelationID))
	}
	if info.Err != nil {
		attrs = append(attrs, slog.String("error", info.Err.Error()))
	}
	c.logger.LogAttrs(ctx, level, msg, attrs...)
}
