package main

import (
	"bytes"
	"flag"
	"io"
	"net/http"
	"time"
)

// Defaults of the load flags.
const (
	defaultConcurrency = 8
	defaultTimeout     = 10 * time.Second
	defaultMaxWorkers  = 1024
	// defaultUserAgent is a desktop browser's: Go's own "Go-http-client" is a bot to crawler
	// detection, and a site serves bots without personalization.
	defaultUserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

// loadFlags are the flags run and compare share.
type loadFlags struct {
	rate        int
	concurrency int
	maxWorkers  uint64
	duration    time.Duration
	timeout     time.Duration
	headers     headerList
	cookieJar   bool
	allowRemote bool
	metricsURL  string
	json        bool
	jsonOut     string
	userAgent   string
	marker      string
}

func (l *loadFlags) register(fs *flag.FlagSet, durationHelp string) {
	fs.IntVar(&l.rate, "rate", 0, "requests per second (instead of -concurrency)")
	fs.IntVar(&l.concurrency, "concurrency", 0,
		"requests in flight at all times, sent as fast as they are answered (default 8 when -rate is not given)")
	fs.Uint64Var(&l.maxWorkers, "max-workers", defaultMaxWorkers, "with -rate: most requests in flight")
	fs.DurationVar(&l.duration, "duration", 0, durationHelp+" (required, at most 1h)")
	fs.DurationVar(&l.timeout, "timeout", defaultTimeout, "timeout of each request")
	fs.Var(&l.headers, "header", "request header 'Key: Value' (repeatable)")
	fs.BoolVar(&l.cookieJar, "cookie-jar", false, "keep the cookies targets set, like one browser")
	fs.BoolVar(&l.allowRemote, "allow-remote", false, "allow targets that are not loopback hosts")
	fs.StringVar(&l.metricsURL, "metrics-url", "", "JSON endpoint fetched and printed before, during and after the load")
	fs.StringVar(&l.userAgent, "user-agent", defaultUserAgent,
		"User-Agent of the requests: a browser's by default, since sites skip personalization for bots")
	fs.StringVar(&l.marker, "count-body", "", "count the answers whose body holds this string (e.g. a fallback marker)")
	fs.BoolVar(&l.json, "json", false, "print the result as JSON")
	fs.StringVar(&l.jsonOut, "json-out", "", "also write the result as JSON to this file")
}

// header returns the requests' header: the -header values and the User-Agent.
func (l *loadFlags) header() http.Header {
	h := buildHeader(l.headers)
	if h.Get("User-Agent") == "" && l.userAgent != "" {
		h.Set("User-Agent", l.userAgent)
	}
	return h
}

// pace checks the flags and returns the pace they ask for.
func (l *loadFlags) pace() (pace, error) {
	p := pace{rate: l.rate, concurrency: l.concurrency, maxWorkers: l.maxWorkers}
	if p.rate == 0 && p.concurrency == 0 {
		p.concurrency = defaultConcurrency
	}
	if err := p.validate(); err != nil {
		return pace{}, err
	}
	if p.maxWorkers == 0 {
		return pace{}, usagef("-max-workers must be positive")
	}
	switch {
	case l.duration <= 0:
		return pace{}, usagef("-duration is required (e.g. -duration 10s)")
	case l.duration > maxDuration:
		return pace{}, usagef("-duration %s is over %s", l.duration, maxDuration)
	case l.timeout <= 0:
		return pace{}, usagef("-timeout must be positive")
	}
	return p, nil
}

// output prints the result v, as text (with text) or as JSON, and writes it to -json-out.
func (l *loadFlags) output(w io.Writer, v any, text func(io.Writer)) error {
	if l.jsonOut != "" {
		var buf bytes.Buffer
		if err := writeJSON(&buf, v); err != nil {
			return err
		}
		if err := writeFileAtomic(l.jsonOut, buf.String()); err != nil {
			return err
		}
	}
	if l.json {
		return writeJSON(w, v)
	}
	text(w)
	return nil
}
