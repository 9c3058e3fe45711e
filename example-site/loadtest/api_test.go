package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/example-site/internal/bareref"
	"github.com/go-personalize/sdk/personalize"
)

// readURLFile waits for a server's URL in path.
func readURLFile(t *testing.T, path string) string {
	t.Helper()
	var url string
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(path)
		url = strings.TrimSpace(string(b))
		return err == nil && url != ""
	}, 10*time.Second, 10*time.Millisecond)
	return url
}

func apiStats(t *testing.T, url string) APIStats {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var st APIStats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

// The api command answers the home page's flows as the sandbox would, accepts events and
// counts them and its connections, over HTTP and over HTTPS with HTTP/2.
func TestAPICommand(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tls, http1 bool
	}{{"http", false, false}, {"https", true, false}, {"https-http1", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"api", "-addr", "127.0.0.1:0", "-stats-url-file", filepath.Join(dir, "stats")}
			var hc *http.Client
			if tc.tls {
				args = append(args, "-tls", "-cert-file", filepath.Join(dir, "cert.pem"))
			}
			if tc.http1 {
				args = append(args, "-http1")
			}
			url, out := startCmd(t, args...)
			assert.Contains(t, out.String(), "TLS "+map[bool]string{false: "false", true: "true"}[tc.tls])
			statsURL := readURLFile(t, filepath.Join(dir, "stats"))
			if tc.tls {
				require.True(t, strings.HasPrefix(url, "https://127.0.0.1:"), url)
				pemBytes, err := os.ReadFile(filepath.Join(dir, "cert.pem"))
				require.NoError(t, err)
				roots := x509.NewCertPool()
				require.True(t, roots.AppendCertsFromPEM(pemBytes))
				tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
				t.Cleanup(tr.CloseIdleConnections)
				hc = &http.Client{Transport: tr}
			}
			opts := []personalize.Option{personalize.WithBaseURL(url), personalize.WithPointOfSale("airline.example")}
			if hc != nil {
				opts = append(opts, personalize.WithHTTPClient(hc))
			}
			c, err := personalize.New("sandbox-client-key", opts...)
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close(context.Background()) })
			ctx := context.Background()
			for _, flow := range []string{bareref.FlowBanner, bareref.FlowDestinations, bareref.FlowNewsletter} {
				res, err := c.CallFlow(ctx, personalize.FlowRequest{FriendlyID: flow, Identity: personalize.ByBrowserID(bareref.FallbackBrowserID)})
				require.NoError(t, err, flow)
				assert.NotEmpty(t, res.Offers(), flow)
			}
			res, err := c.CallFlow(ctx, personalize.FlowRequest{FriendlyID: bareref.FlowDestinations, Identity: personalize.ByBrowserID(bareref.FallbackBrowserID)})
			require.NoError(t, err)
			assert.Contains(t, res.Offers()[0].TrackingURL(), "http://personalize.test/v3/trackers/", "the recorded answer's links")
			require.NoError(t, c.SendEvent(ctx, personalize.Event{Type: personalize.EventView, BrowserID: bareref.FallbackBrowserID, Page: "/"}))

			st := apiStats(t, statsURL)
			assert.Equal(t, uint64(4), st.Calls)
			assert.Equal(t, uint64(1), st.Views)
			assert.Equal(t, uint64(1), st.Connections, "the calls reuse one connection")
			if tc.tls {
				assert.Equal(t, uint64(1), st.FullHandshakes)
				resp, err := hc.Get(url + "/nothing")
				require.NoError(t, err)
				resp.Body.Close()
				want := map[bool]string{false: "HTTP/2.0", true: "HTTP/1.1"}[tc.http1]
				assert.Equal(t, want, resp.Proto, "HTTP/2 is offered unless -http1")
			}
		})
	}
}

func TestAPICommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"api", "-addr", "0.0.0.0:0"},
		{"api", "-stats-addr", ":0"},
		{"api", "-tls"},
		{"api", "-cert-file", "x.pem"},
		{"api", "-http1"},
		{"api", "-latency", "-1s"},
		{"api", "-events-latency", "2m"},
	} {
		code, _, errOut := runCmd(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
	code, _, errOut := runCmd(t, "api", "-flows", filepath.Join(t.TempDir(), "missing.json"))
	assert.Equal(t, exitError, code)
	assert.Contains(t, errOut, "missing.json")
}

func TestSelfSignedCert(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cert, pemBytes, err := selfSignedCert(now)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(pemBytes))
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	require.NoError(t, err)
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, CurrentTime: now.Add(time.Hour)})
		assert.NoError(t, err, host)
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1", CurrentTime: now.Add(25 * time.Hour)})
	assert.Error(t, err, "valid for a day")
}
