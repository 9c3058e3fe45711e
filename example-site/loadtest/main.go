package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitCheckFailed = 3
)

// errChecksFailed reports that compare's checks did not all pass.
var errChecksFailed = errors.New("loadtest: checks failed")

// usageError is a bad command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{msg: "loadtest: " + fmt.Sprintf(format, args...)}
}

const usage = `usage: loadtest <command> [flags]

commands:
  run       drive one URL at a fixed rate or concurrency and print its metrics
  compare   drive two URLs interleaved and print both and their ratios
  cpu       drive servers interleaved and print the CPU each spends per page (from /proc)
  sandbox   serve a standalone Personalize sandbox on loopback
  api       serve canned Personalize answers on loopback (HTTP or HTTPS), with stats
  bare      serve the bare reference page on loopback
  limit     serve a page's bytes, optionally after its three flow calls: the floor
  wait      wait until a URL answers
  freeport  print a free loopback TCP port

"loadtest <command> -h" lists a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// runMain runs the command in args and returns the exit status.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	commands := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"run":      cmdRun,
		"compare":  cmdCompare,
		"cpu":      cmdCPU,
		"sandbox":  cmdSandbox,
		"api":      cmdAPI,
		"bare":     cmdBare,
		"limit":    cmdLimit,
		"wait":     cmdWait,
		"freeport": cmdFreePort,
	}
	cmd, ok := commands[args[0]]
	if !ok {
		if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "loadtest: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errChecksFailed):
		fmt.Fprintln(stderr, err)
		return exitCheckFailed
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, err)
		return exitUsage
	default:
		fmt.Fprintln(stderr, err)
		return exitError
	}
}

// newFlagSet makes a command's flag set, reporting errors (not exiting) and printing its
// usage to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("loadtest "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, turning flag errors (already printed) into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{msg: "loadtest: " + err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}
