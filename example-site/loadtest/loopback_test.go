package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckTargetURL(t *testing.T) {
	tests := []struct {
		url         string
		allowRemote bool
		ok          bool
	}{
		{"http://127.0.0.1:8080/", false, true},
		{"http://127.1.2.3/", false, true},
		{"https://localhost/x", false, true},
		{"http://LOCALHOST:1/", false, true},
		{"http://[::1]:8080/", false, true},
		{"http://192.0.2.1/", false, false},
		{"http://example.com/", false, false},
		{"http://localhost.example.com/", false, false},
		{"http://0.0.0.0:8080/", false, false},
		{"http://[::]:8080/", false, false},
		{"http://192.0.2.1/", true, true},
		{"ftp://127.0.0.1/", false, false},
		{"127.0.0.1:8080", false, false},
		{"", false, false},
		{"http:///path", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := checkTargetURL(tt.url, tt.allowRemote)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestCheckListenAddr(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:8080", true},
		{"[::1]:0", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"192.0.2.1:80", false},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := checkListenAddr(tt.addr)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestCommandsRefuseRemoteTargets(t *testing.T) {
	tests := [][]string{
		{"run", "-url", "http://192.0.2.1/", "-duration", "1s"},
		{"compare", "-a", "http://127.0.0.1:1/", "-b", "http://example.com/", "-duration", "1s"},
		{"run", "-url", "http://127.0.0.1:1/", "-duration", "1s", "-metrics-url", "http://192.0.2.1/m"},
		{"bare", "-api", "http://192.0.2.1"},
		{"bare", "-addr", "0.0.0.0:0", "-api", "http://127.0.0.1:1"},
		{"sandbox", "-addr", ":0"},
		{"wait", "-url", "http://192.0.2.1/"},
	}
	for _, args := range tests {
		t.Run(args[0], func(t *testing.T) {
			code, out, errOut := runCmd(t, args...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, out)
			assert.Contains(t, errOut, "loopback")
		})
	}
}

func TestRedirectsStayOnLoopback(t *testing.T) {
	srv := httptest.NewServer(http.RedirectHandler("http://192.0.2.1/elsewhere", http.StatusFound))
	t.Cleanup(srv.Close)
	tg, err := newTarget("t", srv.URL, nil, false, false, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(tg.close)
	var tl tally

	pace{concurrency: 1}.attack(t.Context(), tg, 30*time.Millisecond, &tl)

	s := tl.summary(tg)
	require.Positive(t, s.Requests)
	assert.Equal(t, map[string]int{"0": int(s.Requests)}, s.StatusCodes)
	require.Len(t, s.Errors, 1)
	assert.Contains(t, s.Errors[0], "refusing a redirect to 192.0.2.1")
}
