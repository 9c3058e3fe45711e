package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// maxRedirects is how many redirects a request follows.
const maxRedirects = 10

// target is a URL under load, with its own HTTP client (and so its own connections and
// cookie jar), kept across the slices of a run so connections are reused as a browser would.
type target struct {
	name   string
	url    string
	header http.Header
	client *http.Client
	// marker, when set, is counted in answers' bodies (e.g. the page's fallback marker).
	marker []byte
}

// newTarget makes a target. The client follows redirects only to loopback hosts unless
// allowRemote, and keeps cookies the target sets when jar is true.
func newTarget(name, rawURL string, header http.Header, jar, allowRemote bool, timeout time.Duration) (*target, error) {
	if _, err := checkTargetURL(rawURL, allowRemote); err != nil {
		return nil, err
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: vegeta.DefaultConnections,
		IdleConnTimeout:     90 * time.Second,
	}
	if allowRemote {
		tr.Proxy = http.ProxyFromEnvironment
	}
	hc := &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("loadtest: stopped after %d redirects", maxRedirects)
			}
			if !allowRemote && !isLoopbackHost(req.URL.Hostname()) {
				return fmt.Errorf("loadtest: refusing a redirect to %s: not a loopback host", req.URL.Host)
			}
			return nil
		},
	}
	if jar {
		j, err := cookiejar.New(nil)
		if err != nil {
			return nil, fmt.Errorf("loadtest: cookie jar: %w", err)
		}
		hc.Jar = j
	}
	return &target{name: name, url: rawURL, header: header, client: hc}, nil
}

// close closes the target's idle connections.
func (t *target) close() { t.client.CloseIdleConnections() }

// pace is how hard a target is driven: rate requests per second, or concurrency requests in
// flight at all times (as fast as they are answered).
type pace struct {
	rate        int
	concurrency int
	maxWorkers  uint64
}

// String describes the pace, e.g. "concurrency 16" or "rate 200/s".
func (p pace) String() string {
	if p.concurrency > 0 {
		return fmt.Sprintf("concurrency %d", p.concurrency)
	}
	return fmt.Sprintf("rate %d/s", p.rate)
}

// attacker returns a vegeta attacker and pacer for one slice. Vegeta's Rate{Freq: 0} sends
// the next request as soon as a worker is free, so with exactly C workers (Workers =
// MaxWorkers = C) C requests are in flight at all times. An attacker serves one attack
// (it is stopped when the attack ends), so each slice gets a new one on the target's client.
func (p pace) attacker(t *target) (*vegeta.Attacker, vegeta.Pacer) {
	opts := []func(*vegeta.Attacker){vegeta.Client(t.client)}
	if p.concurrency > 0 {
		n := uint64(p.concurrency)
		return vegeta.NewAttacker(append(opts, vegeta.Workers(n), vegeta.MaxWorkers(n))...),
			vegeta.Rate{Freq: 0, Per: time.Second}
	}
	workers := min(uint64(p.rate), vegeta.DefaultWorkers, p.maxWorkers)
	return vegeta.NewAttacker(append(opts, vegeta.Workers(workers), vegeta.MaxWorkers(p.maxWorkers))...),
		vegeta.Rate{Freq: p.rate, Per: time.Second}
}

// tally accumulates a target's results over the slices of a run.
type tally struct {
	metrics vegeta.Metrics
	elapsed time.Duration // wall time of the slices, in-flight requests' ends included
	slices  int
	marked  uint64 // answers whose body holds the target's marker
}

// attack drives t for d at pace p and adds the results to tl. It returns early, with the
// results so far, when ctx ends.
func (p pace) attack(ctx context.Context, t *target, d time.Duration, tl *tally) {
	if ctx.Err() != nil || d <= 0 {
		return
	}
	atk, pacer := p.attacker(t)
	stopped := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			atk.Stop()
		case <-done:
		}
	}()
	tgt := vegeta.Target{Method: http.MethodGet, URL: t.url, Header: t.header}
	start := time.Now()
	for res := range atk.Attack(vegeta.NewStaticTargeter(tgt), pacer, d, t.name) {
		if len(t.marker) > 0 && bytes.Contains(res.Body, t.marker) {
			tl.marked++
		}
		res.Body = nil // not kept
		tl.metrics.Add(res)
	}
	tl.elapsed += time.Since(start)
	tl.slices++
	close(done)
	<-stopped
}

// validate checks a pace given on the command line.
func (p pace) validate() error {
	switch {
	case p.rate > 0 && p.concurrency > 0:
		return usagef("give -rate or -concurrency, not both")
	case p.rate < 0 || p.concurrency < 0:
		return usagef("-rate and -concurrency must be positive")
	case p.rate == 0 && p.concurrency == 0:
		return errors.New("loadtest: no pace") // callers fill a default first
	case p.concurrency > maxConcurrency:
		return usagef("-concurrency %d is over %d", p.concurrency, maxConcurrency)
	case p.rate > maxRate:
		return usagef("-rate %d is over %d", p.rate, maxRate)
	}
	return nil
}

// Limits of a run, so that no run is unbounded.
const (
	maxConcurrency = 4096
	maxRate        = 1_000_000
	maxDuration    = time.Hour
)
