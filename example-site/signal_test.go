package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecondSignalForcesExit: the first signal starts the graceful shutdown (the context
// ends) and does not exit; the second calls exit at once with 128+signal and says why.
// Signals come through a channel, as signal.Notify delivers them: none is sent to the test
// process.
func TestSecondSignalForcesExit(t *testing.T) {
	for _, tt := range []struct {
		sig  os.Signal
		code int
	}{{syscall.SIGTERM, 143}, {os.Interrupt, 130}} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				logs := &lockedBuffer{}
				sigs := make(chan os.Signal, 2)
				exits := make(chan int, 2)
				ctx, stop := shutdownOnSignal(context.Background(), sigs, slog.New(slog.NewTextHandler(logs, nil)), func(code int) { exits <- code })
				defer stop()

				sigs <- tt.sig
				<-ctx.Done() // the graceful shutdown starts
				synctest.Wait()
				require.Empty(t, exits, "the first signal does not exit")
				assert.Contains(t, logs.String(), "signal again to exit at once")

				sigs <- tt.sig
				assert.Equal(t, tt.code, <-exits, "the second signal exits at once, non-zero")
				assert.Contains(t, logs.String(), "second signal: exiting at once")
				assert.Contains(t, logs.String(), "exit_code="+strconv.Itoa(tt.code))
			})
		})
	}
}

// TestSignalAfterStopIsIgnored: once run has returned (stop), a signal neither exits nor
// blocks.
func TestSignalAfterStopIsIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sigs := make(chan os.Signal, 2)
		exits := make(chan int, 2)
		ctx, stop := shutdownOnSignal(context.Background(), sigs, slog.New(slog.DiscardHandler), func(code int) { exits <- code })
		sigs <- syscall.SIGTERM
		<-ctx.Done()
		stop()
		stop() // safe twice
		sigs <- syscall.SIGTERM
		synctest.Wait()
		assert.Empty(t, exits)
	})
}
