#!/usr/bin/env bash
# perf.sh: measure the example site's 3-slot home page against the bare reference page
# (internal/bareref), interleaved in one run, with a standalone sandbox as the API: first
# with the sandbox answering at once, then with 50 ms of latency on every flow call.
#
# Everything binds 127.0.0.1 and is stopped on exit. Run from anywhere in the repository:
#
#   scripts/perf.sh                          # defaults below
#   DURATION=30s CONCURRENCY=32 scripts/perf.sh
#
# Environment:
#   DURATION     measured load per target and per phase (default 20s)
#   ROUNDS       interleaved slices per target (default: one per second of DURATION)
#   WARMUP       load per target before measuring, not counted (default 2s)
#   CONCURRENCY  requests in flight (default 16)
#   LATENCY      sandbox latency of the second phase (default 50ms)
#   FLOWS        sandbox flows file (default: example-site/flows.json, else built-in flows)
#   SITE_LOG_LEVEL  the site's LOG_LEVEL (default warn: no line per request, as the bare
#                page writes none)
#   OUT          directory for the JSON results and the servers' logs (default: a temp dir,
#                removed on exit unless OUT is given)
#   MAX_FALLBACK largest share of answers (0-1) in which a slot fell back to its default
#                content, per target (default 0)
#   METRICS_PATH site path fetched before, during and after each run, e.g. a debug endpoint
#                answering JSON (default: none)
#
# The load tool sends a browser's User-Agent (the site serves bots without personalization)
# and counts the answers in which a slot fell back to its default content.
#
# Exit status: 0 when every check passed (page >= 90% of bare's requests/s and p99 <= 1.2x
# at 0 ms; page p50 <= 75 ms at 50 ms; no fallback), 3 when a check failed, 1 on any other
# error.
set -euo pipefail

DURATION=${DURATION:-20s}
ROUNDS=${ROUNDS:-0}
WARMUP=${WARMUP:-2s}
CONCURRENCY=${CONCURRENCY:-16}
LATENCY=${LATENCY:-50ms}
SITE_LOG_LEVEL=${SITE_LOG_LEVEL:-warn}
METRICS_PATH=${METRICS_PATH:-}
MAX_FALLBACK=${MAX_FALLBACK:-0}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
FLOWS=${FLOWS:-}
if [[ -z $FLOWS && -f example-site/flows.json ]]; then
	FLOWS=example-site/flows.json
fi

tmp=$(mktemp -d)
out=${OUT:-$tmp}
mkdir -p "$out"
pids=()

cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf '== %s\n' "$*" >&2; }

log "building the example site and the load tool"
go build -o "$tmp/loadtest" ./example-site/loadtest
lt=$tmp/loadtest
site_built=1
if ! go build -o "$tmp/site" ./example-site 2>"$out/site-build.log"; then
	site_built=0
	log "the example site does not build (see $out/site-build.log); comparing bare with bare to check the pipeline"
fi

# A returning visitor: the same browser ID cookie on every request to both targets, so the
# site creates no browser per request. The sandbox accepts any well-formed browser ID.
client_key=sandbox-client-key
bid=5d2c1f0e-8a9b-4c3d-9e1f-0a1b2c3d4e5f
cookie="Cookie: bid_${client_key}=${bid}"
session_keys=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

sandbox_port=$("$lt" freeport)
sandbox_url=http://127.0.0.1:$sandbox_port
sandbox_pid=

start_sandbox() { # latency
	local flows_args=()
	[[ -n $FLOWS ]] && flows_args=(-flows "$FLOWS")
	"$lt" sandbox -addr "127.0.0.1:$sandbox_port" -latency "$1" "${flows_args[@]}" >>"$out/sandbox.log" 2>&1 &
	sandbox_pid=$!
	pids+=("$sandbox_pid")
	"$lt" wait -url "$sandbox_url/v1.2/browser/create.json?client_key=$client_key&message=%7B%7D" -status 200 >/dev/null
}

stop_sandbox() {
	kill "$sandbox_pid" 2>/dev/null || true
	wait "$sandbox_pid" 2>/dev/null || true
}

log "sandbox on $sandbox_url (latency 0ms, flows: ${FLOWS:-built-in})"
start_sandbox 0ms

bare_port=$("$lt" freeport)
"$lt" bare -addr "127.0.0.1:$bare_port" -api "$sandbox_url" -client-key "$client_key" \
	-point-of-sale airline.example >"$out/bare.log" 2>&1 &
pids+=($!)
bare_url=http://127.0.0.1:$bare_port
"$lt" wait -url "$bare_url/" -status 200 >/dev/null
log "bare reference on $bare_url"

if ((site_built)); then
	site_port=$("$lt" freeport)
	PERSONALIZE_CLIENT_KEY=$client_key \
		PERSONALIZE_BASE_URL=$sandbox_url \
		PERSONALIZE_POINT_OF_SALE=airline.example \
		SESSION_KEYS=$session_keys \
		ADDR=127.0.0.1:$site_port \
		LOG_LEVEL=$SITE_LOG_LEVEL \
		"$tmp/site" >"$out/site.log" 2>&1 &
	pids+=($!)
	page_url=http://127.0.0.1:$site_port
	"$lt" wait -url "$page_url/healthz" -status 200 >/dev/null
	log "example site on $page_url"
else
	# Stand-in so the script runs end to end: a second bare server as target A.
	site_port=$("$lt" freeport)
	"$lt" bare -addr "127.0.0.1:$site_port" -api "$sandbox_url" >"$out/site.log" 2>&1 &
	pids+=($!)
	page_url=http://127.0.0.1:$site_port
	"$lt" wait -url "$page_url/" -status 200 >/dev/null
fi

# Both pages mark a slot that shows its default content; measuring pages that fell back would
# measure nothing, so answers holding the marker are counted and checked.
fallback_marker='data-personalize-state="fallback"'

# compare NAME [flags...]: page against bare, the table on stdout, JSON in $out/NAME.json.
compare() {
	local name=$1
	shift
	local metrics_args=()
	[[ -n $METRICS_PATH ]] && metrics_args=(-metrics-url "$page_url$METRICS_PATH")
	"$lt" compare -a "$page_url/" -b "$bare_url/" -name-a page -name-b bare \
		-concurrency "$CONCURRENCY" -duration "$DURATION" -rounds "$ROUNDS" -warmup "$WARMUP" \
		-header "$cookie" -count-body "$fallback_marker" -max-marked "$MAX_FALLBACK" \
		"${metrics_args[@]}" -json-out "$out/$name.json" "$@"
}

status=0
echo
echo "## API at 0 ms: page vs bare, concurrency $CONCURRENCY, $DURATION per target"
compare latency-0ms -min-rps-ratio 0.9 -max-p99-ratio 1.2 || status=$((status > 0 ? status : $?))

log "restarting the sandbox with latency $LATENCY"
stop_sandbox
start_sandbox "$LATENCY"

echo
echo "## API at $LATENCY: page vs bare (3 flows in parallel: page ~ one flow, not three)"
compare "latency-$LATENCY" -max-p50-a 75ms || status=$((status > 0 ? status : $?))

echo
if ((!site_built)); then
	echo "the example site did not build: target A was a second bare server, not the site" >&2
	status=1
fi
if [[ -n ${OUT:-} ]]; then
	echo "results: $out/latency-0ms.json, $out/latency-$LATENCY.json; logs in $out"
fi
exit "$status"
