// Package personalizetest starts the sandbox for a test and points clients at it, with the
// same public options production uses; everything it starts is stopped when the test ends.
//
//	func TestHome(t *testing.T) {
//		srv := personalizetest.NewSandbox(t, sandbox.WithFlows(
//			sandbox.Define("home_page_banner").Returns(map[string]any{"title": "Fly for less"}),
//		))
//		client := personalizetest.NewClient(t, srv)
//		...
//	}
//
// Like net/http/httptest, it is for tests only: package sandbox itself does not import
// testing, so a site that mounts the sandbox for local development does not link it.
//
// # Both ways of answering what the documentation leaves open
//
// Sitecore does not document what the API answers to an unknown flow, an unknown client key, a
// missing point of sale and more; the sandbox refuses them by default and accepts them with
// sandbox.AnswerLenient (see the sandbox's "Assumptions"). Tests that should pass whichever
// way a tenant answers run under both, with EachAnswers:
//
//	func TestFlow(t *testing.T) {
//		personalizetest.EachAnswers(t, func(t *testing.T, answers sandbox.Answers) {
//			srv := personalizetest.NewSandbox(t, flows...) // answers as the subtest says
//			...
//		})
//	}
//
// or run the whole package a second time with PERSONALIZE_SANDBOX_ANSWERS=lenient (AnswersEnv),
// which every NewSandbox outside EachAnswers honours.
//
// # Both transports
//
// A client reaches Personalize directly (a regional API host, a client key) or through the
// Sitecore Edge proxy (personalize.WithEdge, a context ID and a site); the sandbox serves
// both. NewClient and Endpoint make clients over the transport TransportEnv names
// (PERSONALIZE_TEST_TRANSPORT=edge), so a package's page, fault and component tests run over
// either without being copied; EachTransport runs one test over both, and DirectOnly skips a
// test of the regional wire format over the Edge.
package personalizetest

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

// PointOfSale is the point of sale NewClient's clients send.
const PointOfSale = "personalizetest"

// NewSandbox starts a sandbox made with opts on a loopback port, closed when the test ends.
// It answers what the documentation leaves open as Answers(t) says, unless opts say otherwise
// (sandbox.WithUndocumentedAnswers).
func NewSandbox(t testing.TB, opts ...sandbox.Option) *sandbox.Server {
	t.Helper()
	opts = append([]sandbox.Option{sandbox.WithUndocumentedAnswers(Answers(t))}, opts...)
	srv := sandbox.NewServer(sandbox.New(opts...))
	t.Cleanup(srv.Close)
	return srv
}

// AnswersEnv is the environment variable that chooses how the sandboxes of NewSandbox answer
// what the documentation leaves open, outside EachAnswers: "strict" (or unset) for
// sandbox.AnswerStrict, "lenient" for sandbox.AnswerLenient.
const AnswersEnv = "PERSONALIZE_SANDBOX_ANSWERS"

var (
	answersMu sync.Mutex
	answersOf = map[string]sandbox.Answers{} // EachAnswers subtest name -> its answers
)

// Answers returns how a sandbox started for t answers what the documentation leaves open: the
// answers of the EachAnswers subtest t is (or runs in), else those AnswersEnv sets. An unknown
// value of AnswersEnv fails the test. Give it to a sandbox made without NewSandbox:
// sandbox.New(sandbox.WithUndocumentedAnswers(personalizetest.Answers(t)), ...).
func Answers(t testing.TB) sandbox.Answers {
	t.Helper()
	name := t.Name()
	answersMu.Lock()
	best, found := "", false
	var answers sandbox.Answers
	for n, a := range answersOf {
		if (name == n || strings.HasPrefix(name, n+"/")) && len(n) >= len(best) {
			best, answers, found = n, a, true
		}
	}
	answersMu.Unlock()
	if found {
		return answers
	}
	switch v := os.Getenv(AnswersEnv); strings.ToLower(strings.TrimSpace(v)) {
	case "", "strict":
		return sandbox.AnswerStrict
	case "lenient":
		return sandbox.AnswerLenient
	default:
		t.Fatalf("personalizetest: %s=%q: want strict or lenient", AnswersEnv, v)
		return sandbox.AnswerStrict
	}
}

// EachAnswers runs f in a subtest per way the sandbox can answer what the documentation leaves
// open, named "strict" and "lenient", so that a test checks the client works whichever way a
// tenant answers. Within f (and its subtests) NewSandbox and Answers follow the subtest's
// answers, which f also gets, e.g. to expect an error with one and an empty result with the
// other.
func EachAnswers(t *testing.T, f func(t *testing.T, answers sandbox.Answers)) {
	t.Helper()
	for _, a := range []sandbox.Answers{sandbox.AnswerStrict, sandbox.AnswerLenient} {
		t.Run(a.String(), func(t *testing.T) {
			name := t.Name()
			answersMu.Lock()
			answersOf[name] = a
			answersMu.Unlock()
			t.Cleanup(func() {
				answersMu.Lock()
				delete(answersOf, name)
				answersMu.Unlock()
			})
			f(t, a)
		})
	}
}

// NewClient makes a client of the sandbox srv over the test's transport (Transport): directly,
// with the client key sandbox.DefaultClientKey and the point of sale PointOfSale, or through
// the sandbox's Edge endpoints with sandbox.DefaultContextID and sandbox.DefaultSiteName. Then
// opts apply (a later option wins). The client is closed when the test ends, after delivering
// its queued events; a failure to make it fails the test.
func NewClient(t testing.TB, srv *sandbox.Server, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	key, base := Endpoint(t, srv.URL)
	c, err := personalize.New(key, append(base, opts...)...)
	if err != nil {
		t.Fatalf("personalizetest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Logf("personalizetest: closing the client: %v", err)
		}
	})
	return c
}

// TransportEnv is the environment variable that chooses the transport of the clients of
// NewClient and Endpoint, outside EachTransport: "direct" (or unset) for the regional API's
// endpoints, "edge" for the Sitecore Edge proxy's (personalize.WithEdge). Running a package's
// tests once with each runs its suites over both transports without copying them.
const TransportEnv = "PERSONALIZE_TEST_TRANSPORT"

var (
	transportMu sync.Mutex
	transportOf = map[string]string{} // EachTransport subtest name -> its transport
)

// Transport returns the transport a client made for t uses: personalize.TransportDirect or
// personalize.TransportEdge, as the EachTransport subtest t runs in says, else as TransportEnv
// says. An unknown value of TransportEnv fails the test.
func Transport(t testing.TB) string {
	t.Helper()
	name := t.Name()
	transportMu.Lock()
	best, found, tr := "", false, ""
	for n, v := range transportOf {
		if (name == n || strings.HasPrefix(name, n+"/")) && len(n) >= len(best) {
			best, tr, found = n, v, true
		}
	}
	transportMu.Unlock()
	if found {
		return tr
	}
	switch v := os.Getenv(TransportEnv); strings.ToLower(strings.TrimSpace(v)) {
	case "", personalize.TransportDirect:
		return personalize.TransportDirect
	case personalize.TransportEdge:
		return personalize.TransportEdge
	default:
		t.Fatalf("personalizetest: %s=%q: want direct or edge", TransportEnv, v)
		return personalize.TransportDirect
	}
}

// EachTransport runs f in a subtest per transport, named "direct" and "edge"; within f,
// Transport, Endpoint and NewClient follow the subtest's.
func EachTransport(t *testing.T, f func(t *testing.T, transport string)) {
	t.Helper()
	for _, tr := range []string{personalize.TransportDirect, personalize.TransportEdge} {
		t.Run(tr, func(t *testing.T) {
			name := t.Name()
			transportMu.Lock()
			transportOf[name] = tr
			transportMu.Unlock()
			t.Cleanup(func() {
				transportMu.Lock()
				delete(transportOf, name)
				transportMu.Unlock()
			})
			f(t, tr)
		})
	}
}

// Endpoint returns what personalize.New needs to reach a sandbox at baseURL over t's
// transport (Transport): the client key and the options (the base URL, and the point of sale
// PointOfSale or WithEdge with sandbox.DefaultContextID and sandbox.DefaultSiteName). For
// clients a test makes itself, with options of its own after these.
func Endpoint(t testing.TB, baseURL string) (clientKey string, opts []personalize.Option) {
	t.Helper()
	if Transport(t) == personalize.TransportEdge {
		return "", []personalize.Option{personalize.WithBaseURL(baseURL),
			personalize.WithEdge(sandbox.DefaultContextID, sandbox.DefaultSiteName)}
	}
	return sandbox.DefaultClientKey, []personalize.Option{personalize.WithBaseURL(baseURL), personalize.WithPointOfSale(PointOfSale)}
}

// DirectOnly skips t when it runs over the Edge transport: for tests of what only the
// regional API's wire format has (a client key, a point of sale, its paths). why says so in
// the skip message.
func DirectOnly(t testing.TB, why string) {
	t.Helper()
	if Transport(t) != personalize.TransportDirect {
		t.Skipf("direct transport only: %s", why)
	}
}
