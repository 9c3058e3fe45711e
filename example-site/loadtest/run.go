package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// RunResult is what run measured.
type RunResult struct {
	Pace     string   `json:"pace"`
	Duration Millis   `json:"duration_ms"`
	Target   Summary  `json:"target"`
	Metrics  []Sample `json:"metrics,omitempty"`
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	var lf loadFlags
	lf.register(fs, "how long to drive the URL")
	rawURL := fs.String("url", "", "URL to drive (required)")
	name := fs.String("name", "target", "name of the target in the output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := lf.pace()
	if err != nil {
		return err
	}
	t, err := newTarget(*name, *rawURL, lf.header(), lf.cookieJar, lf.allowRemote, lf.timeout)
	if err != nil {
		return err
	}
	t.marker = []byte(lf.marker)
	defer t.close()
	pr, err := newProbe(lf.metricsURL, lf.allowRemote)
	if err != nil {
		return err
	}
	res := runLoad(ctx, t, p, lf.duration, pr)
	if err := lf.output(stdout, res, func(w io.Writer) {
		fmt.Fprintf(w, "load        %s for %s\n", res.Pace, lf.duration)
		writeSummary(w, res.Target)
		writeSamples(w, res.Metrics)
	}); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("loadtest: interrupted: %w", ctx.Err())
	}
	return nil
}

// runLoad drives t at pace p for d, with the probe's samples when there is a probe.
func runLoad(ctx context.Context, t *target, p pace, d time.Duration, pr *probe) RunResult {
	res := RunResult{Pace: p.String(), Duration: Millis(d)}
	var wait func() *Sample
	if pr != nil {
		defer pr.close()
		res.Metrics = append(res.Metrics, pr.fetch(ctx, "before"))
		wait = pr.during(ctx, d/2)
	}
	var tl tally
	p.attack(ctx, t, d, &tl)
	res.Target = tl.summary(t)
	if pr != nil {
		if s := wait(); s != nil {
			res.Metrics = append(res.Metrics, *s)
		}
		res.Metrics = append(res.Metrics, pr.fetch(context.WithoutCancel(ctx), "after"))
	}
	return res
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("loadtest: writing JSON: %w", err)
	}
	return nil
}
