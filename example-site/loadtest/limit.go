package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-personalize/sdk/example-site/internal/bareref"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// maxPageSize bounds the page a limit server fetches and serves.
const maxPageSize = 8 << 20

// limitServer is the floor a page is measured against: it answers "/" with bytes it fetched
// once (the page of another server: the same status, headers and body), and, when it has an
// API, makes the page's three flow calls first, in parallel, with a tuned net/http client
// (pre-encoded bodies, a pool sized for the load, TLS session resumption, HTTP/2 when the
// API offers it), reading each answer to its end and decoding none of them. With view, it
// also sends the page's VIEW event, as the site in its default configuration does: the
// fourth request of every page, in parallel with the calls.
type limitServer struct {
	header http.Header
	body   []byte

	hc         *http.Client // nil: no calls
	api        string       // callFlows URL
	events     string       // events URL; "": no VIEW events
	cookie     string       // the browser ID cookie's name
	prefix     [3][]byte    // each flow's body up to the browser ID
	suffix     []byte       // the bodies after it
	viewPrefix []byte       // the VIEW event's body up to the browser ID
	viewSuffix []byte       // after it, up to the time it is sent
	buffers    sync.Pool    // *bytes.Buffer for the request bodies and answers
}

// newTunedClient is net/http tuned for many concurrent pages calling one host: idle
// connections for every call in flight, TLS sessions resumed, HTTP/2 when offered.
func newTunedClient(maxConns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = maxConns
	t.MaxIdleConnsPerHost = maxConns
	t.IdleConnTimeout = 90 * time.Second
	t.TLSClientConfig = &tls.Config{ClientSessionCache: tls.NewLRUClientSessionCache(maxConns)}
	return &http.Client{Transport: t}
}

// newLimitServer makes a limit server serving page (fetched from another server), calling
// the three home page flows on api (its base URL) as clientKey and pointOfSale when api is
// not empty, for the browser ID of the bid_<clientKey> cookie, and sending a VIEW event of
// the page to api's events endpoint as well when view is true.
func newLimitServer(page *http.Response, body []byte, api, clientKey, pointOfSale string, maxConns int, view bool) *limitServer {
	h := page.Header.Clone()
	for _, k := range []string{"Date", "Content-Length", "Set-Cookie", "Server-Timing", "Transfer-Encoding"} {
		h.Del(k)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	ls := &limitServer{header: h, body: body}
	ls.buffers.New = func() any { return new(bytes.Buffer) }
	if api == "" {
		return ls
	}
	ls.hc, ls.api, ls.cookie = newTunedClient(maxConns), api+sandbox.PathCallFlows, "bid_"+clientKey
	flows := [3]string{bareref.FlowBanner, bareref.FlowDestinations, bareref.FlowNewsletter}
	for i, id := range flows {
		ls.prefix[i] = fmt.Appendf(nil, `{"clientKey":%q,"channel":"WEB","language":"EN","currencyCode":"EUR","pointOfSale":%q,"friendlyId":%q,"browserId":"`,
			clientKey, pointOfSale, id)
	}
	ls.suffix = []byte(`"}`)
	if view {
		ls.events = api + sandbox.PathEvents
		ls.viewPrefix = []byte(`{"type":"VIEW","browser_id":"`)
		ls.viewSuffix = fmt.Appendf(nil, `","client_key":%q,"channel":"WEB","language":"EN","currency":"EUR","page":"/","pos":%q,"requested_at":"`,
			clientKey, pointOfSale)
	}
	return ls
}

func (ls *limitServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	if ls.hc != nil {
		bid := bareref.FallbackBrowserID
		if c, err := r.Cookie(ls.cookie); err == nil && c.Value != "" && len(c.Value) <= 64 {
			bid = c.Value
		}
		ctx, cancel := context.WithTimeout(r.Context(), bareref.Budget)
		var wg sync.WaitGroup
		for i := range ls.prefix {
			wg.Go(func() { ls.call(ctx, i, bid) })
		}
		if ls.events != "" {
			wg.Go(func() { ls.view(ctx, bid) })
		}
		wg.Wait()
		cancel()
	}
	h := w.Header()
	for k, v := range ls.header {
		h[k] = v
	}
	_, _ = w.Write(ls.body)
}

// call makes flow i's call for bid and reads its answer to the end (a failed call is only
// a slower page: the limit shows what the calls cost, not their answers).
func (ls *limitServer) call(ctx context.Context, i int, bid string) {
	buf := ls.buffers.Get().(*bytes.Buffer)
	defer ls.buffers.Put(buf)
	buf.Reset()
	buf.Write(ls.prefix[i])
	buf.WriteString(bid)
	buf.Write(ls.suffix)
	ls.post(ctx, ls.api, buf)
}

// view sends the page's VIEW event for bid, like call.
func (ls *limitServer) view(ctx context.Context, bid string) {
	buf := ls.buffers.Get().(*bytes.Buffer)
	defer ls.buffers.Put(buf)
	buf.Reset()
	buf.Write(ls.viewPrefix)
	buf.WriteString(bid)
	buf.Write(ls.viewSuffix)
	buf.Write(time.Now().UTC().AppendFormat(buf.AvailableBuffer(), time.RFC3339Nano))
	buf.WriteString(`"}`)
	ls.post(ctx, ls.events, buf)
}

// post sends buf's bytes to url and reads the answer to its end into buf.
func (ls *limitServer) post(ctx context.Context, url string, buf *bytes.Buffer) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(buf.Bytes()))
	if err != nil {
		return
	}
	req.Header["Content-Type"] = []string{"application/json"}
	resp, err := ls.hc.Do(req)
	if err != nil {
		return
	}
	buf.Reset()
	_, _ = buf.ReadFrom(io.LimitReader(resp.Body, maxPageSize))
	resp.Body.Close()
}

// fetchPage gets the page a limit server serves.
func fetchPage(ctx context.Context, rawURL string, header http.Header) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("loadtest: %w", err)
	}
	req.Header = header.Clone()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("loadtest: fetching the page: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageSize+1))
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("loadtest: fetching the page: %w", err)
	case len(body) > maxPageSize:
		return nil, nil, fmt.Errorf("loadtest: the page of %s is over %d bytes", rawURL, maxPageSize)
	case resp.StatusCode != http.StatusOK:
		return nil, nil, fmt.Errorf("loadtest: the page of %s answered %d", rawURL, resp.StatusCode)
	}
	return resp, body, nil
}

func cmdLimit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("limit", stderr)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on")
	urlFile := fs.String("url-file", "", "write the server's URL to this file once it listens")
	pageFrom := fs.String("page-from", "", "URL of the page to serve, fetched once at start (required)")
	var headers headerList
	fs.Var(&headers, "header", "header of the page's fetch 'Key: Value' (repeatable), e.g. the visitor's cookie")
	api := fs.String("api", "", "base URL of the Personalize API: make the home page's three flow calls before answering")
	clientKey := fs.String("client-key", sandbox.DefaultClientKey, "client key of the calls")
	pos := fs.String("point-of-sale", "airline.example", "point of sale of the calls")
	view := fs.Bool("view", false, "with -api: also send the page's VIEW event, as the site does (a fourth request per page)")
	maxConns := fs.Int("max-idle-conns", 1024, "idle connections the client keeps to the API")
	allowRemote := fs.Bool("allow-remote", false, "allow a page or an API that is not on a loopback host")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkListenAddr(*addr); err != nil {
		return err
	}
	if _, err := checkTargetURL(*pageFrom, *allowRemote); err != nil {
		return err
	}
	if *api != "" {
		if _, err := checkTargetURL(*api, *allowRemote); err != nil {
			return err
		}
	} else if *view {
		return usagef("-view needs -api")
	}
	if *maxConns < 1 || *maxConns > 1<<16 {
		return usagef("-max-idle-conns must be between 1 and 65536")
	}
	header := buildHeader(headers)
	if header.Get("User-Agent") == "" {
		header.Set("User-Agent", defaultUserAgent)
	}
	resp, body, err := fetchPage(ctx, *pageFrom, header)
	if err != nil {
		return err
	}
	ls := newLimitServer(resp, body, *api, *clientKey, *pos, *maxConns, *view)
	if ls.hc != nil {
		defer ls.hc.CloseIdleConnections()
	}
	calls := "no API calls"
	if *api != "" {
		calls = "3 flow calls to " + *api
		if *view {
			calls += " and a VIEW event"
		}
	}
	fmt.Fprintf(stdout, "limit: %d bytes from %s, %s\n", len(body), *pageFrom, calls)
	return serve(ctx, stdout, "limit", *addr, *urlFile, ls, nil)
}
