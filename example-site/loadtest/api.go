package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-personalize/sdk/example-site/internal/bareref"
	"github.com/go-personalize/sdk/internal/cannedapi"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// APIStats is what the api command's stats endpoint answers: what its API answered
// (cannedapi.Stats) and the connections it accepted.
type APIStats struct {
	cannedapi.Stats
	// Connections are the connections the API accepted; with -tls, FullHandshakes and
	// ResumedHandshakes are its TLS handshakes.
	Connections       uint64 `json:"connections"`
	FullHandshakes    uint64 `json:"full_handshakes"`
	ResumedHandshakes uint64 `json:"resumed_handshakes"`
}

// apiCounters count an API server's connections and handshakes.
type apiCounters struct {
	conns, full, resumed atomic.Uint64
}

func (c *apiCounters) connState(_ net.Conn, st http.ConnState) {
	if st == http.StateNew {
		c.conns.Add(1)
	}
}

// verifyConnection counts a server's TLS handshakes (tls.Config.VerifyConnection).
func (c *apiCounters) verifyConnection(cs tls.ConnectionState) error {
	if cs.DidResume {
		c.resumed.Add(1)
	} else {
		c.full.Add(1)
	}
	return nil
}

func cmdAPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("api", stderr)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on")
	urlFile := fs.String("url-file", "", "write the API's URL to this file once it listens")
	statsAddr := fs.String("stats-addr", "127.0.0.1:0", "loopback address of the stats endpoint (JSON)")
	statsURLFile := fs.String("stats-url-file", "", "write the stats endpoint's URL to this file once it listens")
	flowsFile := fs.String("flows", "", "flows file whose answers are recorded (see personalize/sandbox LoadFlowsFile); default: the home page flows")
	clientKey := fs.String("client-key", sandbox.DefaultClientKey, "client key the answers are recorded for")
	pos := fs.String("point-of-sale", "airline.example", "point of sale the answers are recorded for")
	browserID := fs.String("browser-id", bareref.FallbackBrowserID, "browser ID the answers are recorded for (a returning visitor's)")
	publicURL := fs.String("public-url", "http://personalize.test", "base of the tracking links in the answers")
	latency := fs.Duration("latency", 0, "latency of every flow call")
	eventsLatency := fs.Duration("events-latency", 0, "latency of every event")
	useTLS := fs.Bool("tls", false, "serve HTTPS (and HTTP/2) with a new self-signed certificate for 127.0.0.1 and localhost")
	certFile := fs.String("cert-file", "", "with -tls: write the certificate (PEM) here, e.g. for SSL_CERT_FILE (required with -tls)")
	http1 := fs.Bool("http1", false, "with -tls: offer HTTP/1.1 only, not HTTP/2")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkListenAddr(*addr); err != nil {
		return err
	}
	if err := checkListenAddr(*statsAddr); err != nil {
		return err
	}
	switch {
	case *latency < 0 || *latency > time.Minute || *eventsLatency < 0 || *eventsLatency > time.Minute:
		return usagef("-latency and -events-latency must be between 0 and 1m")
	case *useTLS && *certFile == "":
		return usagef("-tls needs -cert-file")
	case !*useTLS && (*certFile != "" || *http1):
		return usagef("-cert-file and -http1 need -tls")
	}
	flows := homeFlows()
	if *flowsFile != "" {
		var err error
		if flows, err = sandbox.LoadFlowsFile(*flowsFile); err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
	}
	answers, err := recordFlows(flows, *clientKey, *pos, *browserID, *publicURL)
	if err != nil {
		return err
	}
	api := cannedapi.New(cannedapi.Options{Flows: answers, Latency: *latency, EventsLatency: *eventsLatency})
	var counters apiCounters
	opts := serverOptions{connState: counters.connState, http1: *http1}
	if *useTLS {
		cert, pemBytes, err := selfSignedCert(time.Now())
		if err != nil {
			return err
		}
		if err := writeFileAtomic(*certFile, string(pemBytes)); err != nil {
			return err
		}
		opts.tls = &tls.Config{Certificates: []tls.Certificate{cert}, VerifyConnection: counters.verifyConnection}
	}
	stats := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(APIStats{Stats: api.Stats(), Connections: counters.conns.Load(),
			FullHandshakes: counters.full.Load(), ResumedHandshakes: counters.resumed.Load()})
	})
	ids := slices.Sorted(maps.Keys(answers))
	protocols := "HTTP/1.1"
	if *useTLS && !*http1 {
		protocols = "HTTP/1.1 and HTTP/2"
	}
	fmt.Fprintf(stdout, "api: canned answers of flows %v, latency %s, events latency %s, TLS %v, %s\n", ids, *latency, *eventsLatency, *useTLS, protocols)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	statsErr := make(chan error, 1)
	go func() {
		statsErr <- serve(ctx, io.Discard, "api stats", *statsAddr, *statsURLFile, stats, nil)
		cancel() // the API goes when its stats endpoint does
	}()
	err = serveWith(ctx, stdout, "api", *addr, *urlFile, api, nil, opts)
	cancel()
	return errors.Join(err, <-statsErr)
}

// recordFlows records each flow's answer from a sandbox holding flows, as a returning
// visitor (the browser ID's second call) gets it.
func recordFlows(flows []*sandbox.FlowDef, clientKey, pos, browserID, publicURL string) (map[string][]byte, error) {
	sb := sandbox.New(sandbox.WithClientKeys(clientKey), sandbox.WithFlows(flows...), sandbox.WithPublicURL(publicURL))
	defer sb.Close()
	visitor := map[string]any{"clientKey": clientKey, "channel": "WEB", "language": "EN", "currencyCode": "EUR",
		"pointOfSale": pos, "browserId": browserID}
	ids := sb.Flows()
	if _, err := cannedapi.Record(sb, visitor, ids...); err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	answers, err := cannedapi.Record(sb, visitor, ids...)
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	return answers, nil
}

// selfSignedCert makes a certificate for 127.0.0.1, ::1 and localhost valid for a day from
// now, its own issuer (so that a client trusts it as a root), and returns it with its PEM.
func selfSignedCert(now time.Time) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("loadtest: certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("loadtest: certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "loadtest api"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("loadtest: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
