package memnet_test

import (
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/internal/memnet"
)

// In a bubble, a server that takes an hour answers at once, exactly an hour later.
func TestServeInABubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := memnet.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(time.Hour)
			_, _ = io.WriteString(w, "late")
		}))
		start := time.Now()
		resp, err := srv.Client.Get(srv.URL + "/")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, "late", string(body))
		assert.Equal(t, time.Hour, time.Since(start))
	})
}

func TestClosedListenerRefusesDials(t *testing.T) {
	srv := memnet.Serve(t, http.NotFoundHandler())
	srv.Close()
	_, err := srv.Client.Get(srv.URL + "/")
	assert.Error(t, err)
}
