// Package bareref is the yardstick the library is measured against: the same flow calls made
// with nothing but net/http and encoding/json, no validation, no breaker, no session.
// CallFlow and CallFlows are the bare calls (benchmarks compare the client with them);
// NewHandler is the bare home page: the example site's home page, the same HTML byte for byte
// for the same flow answers, rendered with html/template (the load tool compares the example
// site with it, with the same 400 ms budget as the library's; a test of the example site,
// bareref_same_page_test.go, keeps the two pages equal). Comparisons run in one process or
// one run, so results are ratios.
package bareref

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// NewHTTPClient returns a plain client whose transport keeps as many idle connections per host
// as the library's, so the comparison is of code, not of connection reuse.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: t}
}

// Body is a callFlows request body.
type Body struct {
	ClientKey    string         `json:"clientKey"`
	Channel      string         `json:"channel"`
	Language     string         `json:"language"`
	CurrencyCode string         `json:"currencyCode"`
	PointOfSale  string         `json:"pointOfSale"`
	BrowserID    string         `json:"browserId"`
	FriendlyID   string         `json:"friendlyId"`
	Params       map[string]any `json:"params,omitempty"`
}

// CallFlow posts body to baseURL/v2/callFlows and decodes the answer.
func CallFlow(ctx context.Context, hc *http.Client, baseURL string, body Body) (any, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/v2/callFlows", bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("bareref: http %d", resp.StatusCode)
	}
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// CallFlows calls the flows in parallel and returns their answers in order (nil where a call
// failed), as a page with several slots would.
func CallFlows(ctx context.Context, hc *http.Client, baseURL string, base Body, friendlyIDs ...string) []any {
	out := make([]any, len(friendlyIDs))
	var wg sync.WaitGroup
	for i, id := range friendlyIDs {
		wg.Go(func() {
			b := base
			b.FriendlyID = id
			out[i], _ = CallFlow(ctx, hc, baseURL, b)
		})
	}
	wg.Wait()
	return out
}
