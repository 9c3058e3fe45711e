package personalizeredis

import (
	"context"
	"testing"
	"time"

	"github.com/go-personalize/sdk/personalizeredis/redistest"
)

// newTestStore returns a store on srv through NewFromURL, closed when the test ends.
func newTestStore(t testing.TB, srv *redistest.Server, opts Options) *Store {
	t.Helper()
	st, err := NewFromURL(srv.URL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// bounded returns a context for one operation of a test: far longer than any OpTimeout, so
// that an operation returning before it has returned within its own bound.
func bounded(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}
