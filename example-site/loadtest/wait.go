package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// waitPoll is how often wait tries the URL.
const waitPoll = 50 * time.Millisecond

func cmdWait(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("wait", stderr)
	rawURL := fs.String("url", "", "URL to wait for (required)")
	status := fs.Int("status", 0, "status to wait for (default: any answer below 500)")
	timeout := fs.Duration("timeout", 15*time.Second, "give up after this long")
	allowRemote := fs.Bool("allow-remote", false, "allow a URL that is not on a loopback host")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, err := checkTargetURL(*rawURL, *allowRemote); err != nil {
		return err
	}
	if *timeout <= 0 || *timeout > maxDuration {
		return usagef("-timeout must be between 0 and %s", maxDuration)
	}
	got, err := waitFor(ctx, *rawURL, *status, *timeout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s answered %d\n", *rawURL, got)
	return nil
}

// waitFor polls rawURL until it answers want (any status below 500 when want is 0) and
// returns the status, or fails after timeout.
func waitFor(ctx context.Context, rawURL string, want int, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	last := "no answer"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return 0, fmt.Errorf("loadtest: %w", err)
		}
		resp, err := hc.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if resp.StatusCode == want || want == 0 && resp.StatusCode < 500 {
				return resp.StatusCode, nil
			}
			last = "status " + strconv.Itoa(resp.StatusCode)
		} else if ctx.Err() == nil || last == "no answer" {
			// An attempt cut short by the overall deadline says nothing
			// about the server: keep the last real answer for the error.
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("loadtest: %s did not answer in %s (last: %s)", rawURL, timeout, last)
		case <-time.After(waitPoll):
		}
	}
}

func cmdFreePort(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("freeport", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	fmt.Fprintln(stdout, port)
	return nil
}
