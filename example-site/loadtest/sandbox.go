package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/go-personalize/sdk/personalize/sandbox"
)

func cmdSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sandbox", stderr)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on")
	latency := fs.Duration("latency", 0, "latency added to every callFlows, browser create and events call")
	flowsFile := fs.String("flows", "", "flows file (see personalize/sandbox LoadFlowsFile); default: the home page flows")
	urlFile := fs.String("url-file", "", "write the server's URL to this file once it listens")
	bigAnswer := fs.String("big-answer", "", "friendly ID of a flow that answers about 1 MiB of small offers (an attack's answer)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkListenAddr(*addr); err != nil {
		return err
	}
	if *latency < 0 || *latency > time.Minute {
		return usagef("-latency must be between 0 and 1m")
	}
	flows := homeFlows()
	if *flowsFile != "" {
		var err error
		if flows, err = sandbox.LoadFlowsFile(*flowsFile); err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
	}
	if *bigAnswer != "" {
		flows = append(flows, sandbox.Define(*bigAnswer).Returns(manyOffers(bigAnswerOffers)))
	}
	sb := sandbox.New(sandbox.WithFlows(flows...))
	if *latency > 0 {
		sb.SetFault(sandbox.Fault{Latency: *latency})
	}
	fmt.Fprintf(stdout, "sandbox: client key %q, flows %v, latency %s\n", sandbox.DefaultClientKey, sb.Flows(), *latency)
	return serve(ctx, stdout, "sandbox", *addr, *urlFile, sb, sb.Close)
}
