package personalize

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
)

// TrustRoots makes the client's own transport trust roots (an httptest TLS server's
// certificate), so that the tests of the transport can reach an HTTPS stand-in with the
// transport New made. Call it before the client's first call.
func TrustRoots(c *Client, roots *x509.CertPool) {
	t := c.hc.Transport.(*http.Transport)
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.RootCAs = roots
}

// WriteBufferSize is the write buffer of each connection of the client's own transport.
const WriteBufferSize = writeBufferSize

// SetRunnable makes the client read the goroutines waiting for a CPU from f (see
// finishing.cpuStarved), so that a test says whether the process is short of CPU when a call
// times out, whatever else runs in the test binary.
func SetRunnable(c *Client, f func() uint64) { c.finishing.runnable = f }

// StarvedPerCPU is how many goroutines waiting for a CPU, per GOMAXPROCS, make the process
// short of CPU.
const StarvedPerCPU = starvedPerCPU
