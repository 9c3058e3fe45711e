package personalizeredis

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalizeredis/redistest"
)

// benchDecision is an answer of a typical size: a banner flow's JSON, about 1 KiB.
func benchDecision() personalize.CachedDecision {
	e := decision("home_page_banner")
	e.Raw = []byte(`{"title":"Summer sale","subtitle":"` + strings.Repeat("Fly for less. ", 60) + `","image":"https://cdn.example/summer.jpg"}`)
	e.Stored = time.Now()
	return e
}

// latencies records each operation's duration and reports the median and the 99th
// percentile beside ns/op.
type latencies []time.Duration

func (l *latencies) report(b *testing.B) {
	if len(*l) == 0 {
		return
	}
	slices.Sort(*l)
	at := func(q float64) float64 { return float64((*l)[int(q*float64(len(*l)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkGet: a hit, one HGET over loopback, decoded.
func BenchmarkGet(b *testing.B) {
	st := newTestStore(b, redistest.Start(b), generous)
	ctx := context.Background()
	if err := st.Set(ctx, visitorA, keyHome, benchDecision(), time.Hour); err != nil {
		b.Fatal(err)
	}
	lat := make(latencies, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		_, ok, err := st.Get(ctx, visitorA, keyHome)
		lat = append(lat, time.Since(start))
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
	lat.report(b)
}

// BenchmarkSet: one transaction of HSET and two PEXPIREs over loopback.
func BenchmarkSet(b *testing.B) {
	st := newTestStore(b, redistest.Start(b), generous)
	ctx := context.Background()
	e := benchDecision()
	lat := make(latencies, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		err := st.Set(ctx, visitorA, keyHome, e, time.Hour)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	lat.report(b)
}
