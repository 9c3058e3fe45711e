package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Limits of a -metrics-url fetch.
const (
	probeTimeout = 5 * time.Second
	maxProbeBody = 1 << 20
)

// probe fetches a target's own metrics endpoint (-metrics-url), which answers JSON (e.g.
// memory and goroutines of the site), before, during and after a run.
type probe struct {
	url    string
	client *http.Client
}

// Sample is what the metrics endpoint answered at one point of a run. Body holds the answer
// when it is JSON, Text when it is not, Error when the fetch failed.
type Sample struct {
	When  string          `json:"when"` // before, during or after
	At    time.Time       `json:"at"`
	Body  json.RawMessage `json:"body,omitempty"`
	Text  string          `json:"text,omitempty"`
	Error string          `json:"error,omitempty"`
}

// newProbe returns a probe for rawURL, or nil when rawURL is empty.
func newProbe(rawURL string, allowRemote bool) (*probe, error) {
	if rawURL == "" {
		return nil, nil
	}
	if _, err := checkTargetURL(rawURL, allowRemote); err != nil {
		return nil, err
	}
	return &probe{url: rawURL, client: &http.Client{
		Timeout:   probeTimeout,
		Transport: &http.Transport{DisableKeepAlives: true},
	}}, nil
}

// fetch gets the metrics once.
func (p *probe) fetch(ctx context.Context, when string) Sample {
	s := Sample{When: when, At: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	switch {
	case err != nil:
		s.Error = err.Error()
	case resp.StatusCode != http.StatusOK:
		s.Error = fmt.Sprintf("status %d", resp.StatusCode)
		s.Text = strings.TrimSpace(string(body))
	case json.Valid(body):
		s.Body = json.RawMessage(body)
	default:
		s.Text = strings.TrimSpace(string(body))
	}
	return s
}

// during fetches the metrics after delay, in its own goroutine, unless the run is over (or
// ctx ends) first; the returned function ends the wait and returns the sample, nil when
// none was taken. A fetch already under way is finished.
func (p *probe) during(ctx context.Context, delay time.Duration) (wait func() *Sample) {
	over := make(chan struct{})
	out := make(chan *Sample, 1)
	go func() {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			s := p.fetch(ctx, "during")
			out <- &s
		case <-over:
			out <- nil
		case <-ctx.Done():
			out <- nil
		}
	}()
	return func() *Sample {
		close(over)
		return <-out
	}
}

// close closes the probe's connections.
func (p *probe) close() { p.client.CloseIdleConnections() }

// writeSamples prints the samples raw, one line each.
func writeSamples(w io.Writer, samples []Sample) {
	for _, s := range samples {
		switch {
		case s.Error != "":
			fmt.Fprintf(w, "metrics %-7s error: %s %s\n", s.When, s.Error, s.Text)
		case s.Body != nil:
			fmt.Fprintf(w, "metrics %-7s %s\n", s.When, compactJSON(s.Body))
		default:
			fmt.Fprintf(w, "metrics %-7s %s\n", s.When, s.Text)
		}
	}
}

// compactJSON returns b on one line.
func compactJSON(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}
