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

// NewClient makes a client of the sandbox srv: its client key is sandbox.DefaultClientKey and
// its point of sale PointOfSale, then opts apply (a later option wins, so they may replace
// either). The client is closed when the test ends, after delivering its queued events; a
// failure to make it fails the test.
func NewClient(t testing.TB, srv *sandbox.Server, opts ...personalize.Option) *personalize.Client {
	t.Helper()
	all := append([]personalize.Option{personalize.WithBaseURL(srv.URL), personalize.WithPointOfSale(PointOfSale)}, opts...)
	c, err := personalize.New(sandbox.DefaultClientKey, all...)
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
