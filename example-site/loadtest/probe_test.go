package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProbeFetch(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   Sample
	}{
		{"json", 200, `{"heap": 1}`, Sample{When: "before", Body: json.RawMessage(`{"heap": 1}`)}},
		{"text", 200, "heap 1\n", Sample{When: "before", Text: "heap 1"}},
		{"error status", 404, "no\n", Sample{When: "before", Error: "status 404", Text: "no"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			p, err := newProbe(srv.URL, false)
			require.NoError(t, err)
			t.Cleanup(p.close)

			got := p.fetch(context.Background(), "before")

			assert.False(t, got.At.IsZero())
			got.At = time.Time{}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestProbeDuringEndsWithTheRun(t *testing.T) {
	p, err := newProbe("http://127.0.0.1:1/", false)
	require.NoError(t, err)
	t.Cleanup(p.close)

	wait := p.during(context.Background(), time.Hour)
	start := time.Now()

	assert.Nil(t, wait(), "no sample when the run ends before the delay")
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestNoProbeWithoutURL(t *testing.T) {
	p, err := newProbe("", false)
	assert.NoError(t, err)
	assert.Nil(t, p)
}
