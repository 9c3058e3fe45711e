package components_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/a-h/templ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/personalize"
)

// captureDefaultLog sends slog.Default to a JSON handler at debug level until the test ends,
// and returns a function that reads the records logged so far. The test must not be parallel:
// slog.Default is the process's.
func captureDefaultLog(t *testing.T) func() []map[string]any {
	t.Helper()
	prev, prevOut, prevFlags := slog.Default(), log.Writer(), log.Flags()
	var (
		mu  sync.Mutex
		buf bytes.Buffer
	)
	slog.SetDefault(slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() {
		slog.SetDefault(prev)
		// SetDefault also pointed the log package's output at the handler; restoring the
		// default slog logger does not undo that.
		log.SetOutput(prevOut)
		log.SetFlags(prevFlags)
	})
	return func() []map[string]any {
		mu.Lock()
		defer mu.Unlock()
		var recs []map[string]any
		for line := range strings.Lines(buf.String()) {
			var rec map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &rec), "a JSON record: %s", line)
			recs = append(recs, rec)
		}
		return recs
	}
}

// noPageWarnings are the records of the warning about slots without a page.
func noPageWarnings(recs []map[string]any) []map[string]any {
	var out []map[string]any
	for _, r := range recs {
		if msg, _ := r["msg"].(string); strings.Contains(msg, "without a page") {
			out = append(out, r)
		}
	}
	return out
}

// TestSlotWithoutPageWarnsOnce: a slot rendered without a page in its context (no middleware,
// no personalize.StartPage) shows its fallback and says why once per process, at warn, through
// slog.Default, however many slots and requests repeat the mistake, one after the other or at
// once. A slot with a page that falls back is not that mistake and does not warn.
//
// The warning's sync.Once is process-wide and other tests of this binary render slots without
// a page first, in any order under -shuffle (TestGolden, TestSlotWriteError, TestSlotFallback).
// Asserting "at most one" would pass with the warning gone whenever one of them ran before, so
// the test re-arms the Once (ResetNoPageWarning, export_test.go) and asserts exactly one, every
// run. It is not parallel: it replaces slog.Default and re-arms the Once, both process-wide.
func TestSlotWithoutPageWarnsOnce(t *testing.T) {
	records := captureDefaultLog(t)
	components.ResetNoPageWarning()

	// A page whose flow has no decision: the slot falls back, without the warning. The client
	// logs through slog.Default too (no WithLogger).
	synctest.Test(t, func(t *testing.T) {
		e := newMemEnv(t, nil, personalize.WithBudget(slowBudget))
		doc := renderDoc(t, e.pageContext(t), components.Slot(components.SlotProps{FriendlyID: "no_such_flow", Fallback: fallback}))
		assert.Equal(t, components.StateFallback, attr(slotRoot(t, doc, "no_such_flow"), "data-personalize-state"))
	})
	assert.Empty(t, noPageWarnings(records()), "a slot with a page does not warn about a missing one")

	slot := func(id string) templ.Component {
		return components.Slot(components.SlotProps{FriendlyID: id, Fallback: fallback})
	}
	page := templ.Join(slot("first_slot"), slot("second_slot"), slot("third_slot"))
	for range 3 { // three requests of a page with three slots
		doc := renderDoc(t, context.Background(), page)
		for _, id := range []string{"first_slot", "second_slot", "third_slot"} {
			root := slotRoot(t, doc, id)
			assert.Equal(t, components.StateFallback, attr(root, "data-personalize-state"))
			assert.Equal(t, "Default offers", text(one(t, root, "p.default")))
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var b bytes.Buffer
			assert.NoError(t, slot("concurrent_slot").Render(context.Background(), &b))
			assert.Contains(t, b.String(), `data-personalize-state="fallback"`)
		})
	}
	wg.Wait()

	warnings := noPageWarnings(records())
	require.Len(t, warnings, 1, "one warning for 3×3 + 8 slots without a page; records: %v", records())
	w := warnings[0]
	assert.Equal(t, slog.LevelWarn.String(), w["level"])
	assert.Equal(t, "first_slot", w["friendly_id"], "the first slot without a page is named")
	msg, _ := w["msg"].(string)
	assert.Contains(t, msg, "middleware", "the warning says how to fix it")
}
