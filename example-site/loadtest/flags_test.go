package main

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/x-way/crawlerdetect"
)

func TestDefaultUserAgentIsNotABot(t *testing.T) {
	assert.False(t, crawlerdetect.IsCrawler(defaultUserAgent))
	assert.True(t, crawlerdetect.IsCrawler("Go-http-client/1.1"), "why the default matters")
}

func TestHeaderCarriesTheUserAgent(t *testing.T) {
	tests := []struct {
		name string
		lf   loadFlags
		want string
	}{
		{"default", loadFlags{userAgent: defaultUserAgent}, defaultUserAgent},
		{"flag", loadFlags{userAgent: "ua/1"}, "ua/1"},
		{"header wins", loadFlags{userAgent: "ua/1", headers: headerList{"User-Agent: ua/2"}}, "ua/2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, []string{tt.want}, tt.lf.header().Values("User-Agent"))
		})
	}
}

func TestCountBody(t *testing.T) {
	var mu sync.Mutex
	var n, fallbacks uint64
	agents := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		odd := n%2 == 1
		if odd {
			fallbacks++
		}
		agents[r.UserAgent()] = true
		mu.Unlock()
		if odd {
			_, _ = w.Write([]byte(`<div data-personalize-state="fallback"></div>`))
			return
		}
		_, _ = w.Write([]byte(`<div data-personalize-state="decision"></div>`))
	}))
	t.Cleanup(srv.Close)
	lf := loadFlags{userAgent: defaultUserAgent}
	tg, err := newTarget("t", srv.URL, lf.header(), false, false, 5*time.Second)
	assert.NoError(t, err)
	t.Cleanup(tg.close)
	tg.marker = []byte(`data-personalize-state="fallback"`)

	res := runLoad(t.Context(), tg, pace{concurrency: 2}, 50*time.Millisecond, nil)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, n, res.Target.Requests)
	assert.Equal(t, fallbacks, res.Target.Marked)
	assert.Equal(t, map[string]bool{defaultUserAgent: true}, agents)
}
