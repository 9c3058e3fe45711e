#!/usr/bin/env bash
# perf.sh: what the example site's home page (3 flows, a returning visitor, every slot
# personalized) costs per page, measured from outside: each server under test is a process of
# its own, pinned to one core when it can be, and its CPU per page is read from its own /proc
# accounting (loadtest cpu), in interleaved rounds, next to the floor and the bare page:
#
#   limit        a server writing the same bytes as the page, no API calls (loadtest limit)
#   limit-calls  tuned net/http making the 3 flow calls, then writing the same bytes
#                (loadtest limit -api: pre-encoded bodies, a pool sized for the load, TLS
#                session resumption, HTTP/2 when offered, no decoding)
#   limit-view   limit-calls sending the page's VIEW event too (loadtest limit -api -view):
#                the four requests the site makes per page, at the least they cost; the
#                floor of the site, printed with what each target leaves above it
#   site-memory  the example site with its flows answered in memory (its test binary's
#                TestPerfServer: no network to the API)
#   site         the example site, in its default configuration (tenant mode: VIEW events
#                on, the decision cache on, an INFO line per request)
#   bare         the bare net/http + encoding/json + html/template page making the same calls
#                (example-site/internal/bareref, the same HTML byte for byte)
#
# The API is `loadtest api`, another process: the answers a sandbox holding flows.json gives
# the visitor, canned, every event accepted and counted, every new connection counted. The
# site, the bare page and limit-calls call it; it and the load generator share the other core.
#
# Phases (PHASES, default "1 2 3 4 5"):
#   1. 16 connections, the API over HTTP (loopback)     checks: site/bare <= 0.65,
#                                                               site/limit-calls <= 1.6
#   2. 256 connections, the API over HTTPS (HTTP/1.1 only unless API_HTTP2=1: one connection
#      per call in flight, where a pool too small churns)  checks: site/bare <= 0.6,
#                                                               new API connections per page of the site < 0.01
#   3. VIEW events delivered per page, the site alone at 16 connections, with the API's
#      events endpoint at each of EVENTS_LATENCIES      check: site events/page >= 0.99
#   4. the API's flows at LATENCY: site vs bare, interleaved (loadtest compare): the three
#      flows run in parallel       check: the site's p50 <= 75 ms
#   5. memory per page in flight: the site alone at CONCURRENCY_HIGH connections with the
#      API's flows at 200 ms (and a page budget of 2 s, so that no call gives up and every
#      page holds its three calls; with the default 400 ms the first seconds' overload
#      isolates flows and the pages call nothing); its heap and RSS (/_personalize/metrics)
#      before and in the middle of the load, the difference over the pages in flight
#                                                                    reported, not checked
#
# Everything binds 127.0.0.1 and is stopped on exit. Run from anywhere in the repository:
#
#   scripts/perf.sh                                # about five minutes
#   PHASES=1 DURATION=12s scripts/perf.sh          # the 16-connection table only, longer
#
# Environment:
#   DURATION          measured load per server and per phase (default 6s)
#   ROUNDS            interleaved slices per server (default 6)
#   WARMUP            load per server before measuring, not counted (default 1s)
#   WARMUP_HIGH       the same for phase 2 (default 4s): long enough for the servers' pools
#                     to fill at CONCURRENCY_HIGH, so that its connection check counts churn,
#                     not the connections a pool opens once
#   CONCURRENCY       connections of phases 1, 3 and 4 (default 16)
#   CONCURRENCY_HIGH  connections of phase 2 (default 256)
#   EVENTS_LATENCIES  the events endpoint's latencies of phase 3 (default "0ms 5ms 20ms 50ms")
#   EVENTS_DURATION   measured load per latency of phase 3 (default 4s)
#   LATENCY           the flows' latency of phase 4 (default 50ms)
#   API_HTTP2         1: the HTTPS API of phase 2 offers HTTP/2 too (default 0: HTTP/1.1 only)
#   PIN               1: pin the servers under test to CPU SERVER_CPU and the load tool and
#                     the API to the other CPUs (taskset); 0: do not; auto (default): pin when
#                     taskset exists and there are at least 2 CPUs
#   SERVER_CPU        the CPU the servers under test run on when pinned (default 0)
#   SITE_LOG_LEVEL    the site's LOG_LEVEL (default: none, the site's default: info, a line per
#                     request, written to a log file)
#   OUT               directory for the JSON results and, in logs-PHASE, the servers' logs (default: a temp
#                     dir, removed on exit unless OUT is given)
#   SOAK              when set (e.g. 60s), phase 6 runs the example site's fault soak
#                     (TestFaultSoak) with a fault phase that long
#
# Exit status: 0 when every check passed, 3 when a check failed (the targets of
# docs/performance.md that are not met yet), 1 on any other error.
set -euo pipefail

DURATION=${DURATION:-6s}
ROUNDS=${ROUNDS:-6}
WARMUP=${WARMUP:-1s}
WARMUP_HIGH=${WARMUP_HIGH:-4s}
CONCURRENCY=${CONCURRENCY:-16}
CONCURRENCY_HIGH=${CONCURRENCY_HIGH:-256}
EVENTS_LATENCIES=${EVENTS_LATENCIES:-0ms 5ms 20ms 50ms}
EVENTS_DURATION=${EVENTS_DURATION:-4s}
LATENCY=${LATENCY:-50ms}
API_HTTP2=${API_HTTP2:-0}
PHASES=${PHASES:-1 2 3 4 5}
PIN=${PIN:-auto}
SERVER_CPU=${SERVER_CPU:-0}
SITE_LOG_LEVEL=${SITE_LOG_LEVEL:-}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh" # $tmp, pids, cleanup on exit, log, wait_file, pin_servers
out=${OUT:-$tmp}
mkdir -p "$out"
pin_servers

log "building the load tool, the example site and its test binary (for the site with flows in memory)"
go build -o "$tmp/loadtest" ./example-site/loadtest
go build -o "$tmp/site" ./example-site
go test -c -o "$tmp/site.test" ./example-site
lt=$tmp/loadtest

# The visitor: a returning browser. The API's answers are recorded for it, as the site with
# flows in memory records them (example-site/perf_bench_test.go, recordedAnswers).
client_key=tenant-client-key
pos=goairways/nl
bid=a38b230c-11eb-4cf9-8d5d-274e9f344925
cookie="Cookie: bid_${client_key}=${bid}"
session_keys=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
fallback_marker='data-personalize-state="fallback"'

# start_api [FLAGS...]: the canned API, its stats on another port.
start_api() {
	rm -f "$tmp/api-stats.url"
	start api "${tool_pin[@]}" "$lt" api -addr 127.0.0.1:0 -url-file "$tmp/api.url" \
		-stats-url-file "$tmp/api-stats.url" -flows example-site/flows.json \
		-client-key "$client_key" -point-of-sale "$pos" -browser-id "$bid" "$@"
	wait_file "$tmp/api-stats.url"
	api_stats=$(head -n1 "$tmp/api-stats.url")
}

# start_site NAME [ENV...]: the example site in tenant mode, default configuration, on the API.
start_site() {
	local name=$1 port
	shift
	port=$("$lt" freeport)
	local env=(PERSONALIZE_CLIENT_KEY=$client_key PERSONALIZE_BASE_URL=$url_api
		PERSONALIZE_POINT_OF_SALE=$pos SESSION_KEYS=$session_keys ADDR=127.0.0.1:$port)
	[[ -n $SITE_LOG_LEVEL ]] && env+=(LOG_LEVEL=$SITE_LOG_LEVEL)
	env "${env[@]}" "$@" "${server_pin[@]}" "$tmp/site" >"$logs/$name.log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	printf -v "pid_$name" %s "$pid"
	printf -v "url_$name" %s "http://127.0.0.1:$port"
	"$lt" wait -url "http://127.0.0.1:$port/healthz" -status 200 >/dev/null
}

# start_all [ENV...]: the five servers under test against the running API (ENV: e.g.
# SSL_CERT_FILE for an HTTPS API).
start_all() {
	start bare env "$@" "${server_pin[@]}" "$lt" bare -addr 127.0.0.1:0 -url-file "$tmp/bare.url" \
		-api "$url_api" -client-key "$client_key" -point-of-sale "$pos"
	start limit "${server_pin[@]}" "$lt" limit -addr 127.0.0.1:0 -url-file "$tmp/limit.url" \
		-page-from "$url_bare/" -header "$cookie"
	start limit-calls env "$@" "${server_pin[@]}" "$lt" limit -addr 127.0.0.1:0 -url-file "$tmp/limit-calls.url" \
		-page-from "$url_bare/" -header "$cookie" -api "$url_api" -client-key "$client_key" -point-of-sale "$pos"
	start limit-view env "$@" "${server_pin[@]}" "$lt" limit -addr 127.0.0.1:0 -url-file "$tmp/limit-view.url" \
		-page-from "$url_bare/" -header "$cookie" -api "$url_api" -client-key "$client_key" -point-of-sale "$pos" -view
	start site-memory "${server_pin[@]}" "$tmp/site.test" -test.run '^TestPerfServer$' \
		-perf-serve 127.0.0.1:0 -perf-url-file "$tmp/site-memory.url"
	start_site site "$@"
	log "servers: limit $url_limit, limit-calls $url_limit_calls, limit-view $url_limit_view, site-memory $url_site_memory, site $url_site, bare $url_bare"
}

# cpu NAME CONCURRENCY [FLAGS...]: loadtest cpu over the six servers; the table on stdout,
# JSON in $out/NAME.json.
cpu() {
	local name=$1 conc=$2
	shift 2
	"${tool_pin[@]}" "$lt" cpu -concurrency "$conc" -duration "$DURATION" -rounds "$ROUNDS" -warmup "$WARMUP" \
		-target "limit:$pid_limit:$url_limit/" -target "limit-calls:$pid_limit_calls:$url_limit_calls/" \
		-target "limit-view:$pid_limit_view:$url_limit_view/" \
		-target "site-memory:$pid_site_memory:$url_site_memory/" -target "site:$pid_site:$url_site/" \
		-target "bare:$pid_bare:$url_bare/" -ref site -api-stats "$api_stats" \
		-header "$cookie" -cookie-jar -count-body "$fallback_marker" -json-out "$out/$name.json" "$@"
}

# floor NAME B<=X...: the site's floor, its four requests (limit-view, from the JSON of
# cpu NAME), and what each target site/B <= X leaves above it for everything else the site
# does, in CPU µs per page (needs jq; prints nothing without it).
floor() {
	local json=$out/$1.json
	shift
	command -v jq >/dev/null || return 0
	jq -r '(.servers | map({key: .name, value: .cpu_us_per_page}) | from_entries) as $c |
		def r1: . * 10 | round / 10;
		"floor: the site'"'"'s four requests (limit-view) cost \($c["limit-view"] | r1) µs/page, " +
		"\($c["limit-view"] / $c.bare * 1000 | round / 1000)× the bare page'"'"'s; the site spends " +
		"\($c.site - $c["limit-view"] | r1) µs/page above it",
		($ARGS.positional[] | split("<=") as [$b, $x] | ($x | tonumber) as $r |
			"floor: site/\($b) <= \($x) leaves \($r * $c[$b] - $c["limit-view"] | r1) µs/page above it")' \
		"$json" --args "$@" || true
}

# Keep the first failing status (3 for a failed check, else the tool's error).
status=0
keep() { status=$((status > 0 ? status : $1)); }

# start NAME CMD...: start a server writing its URL to $tmp/NAME.url; sets pid_NAME and
# url_NAME (with '_' for '-': url_limit_calls).
start() {
	local name=$1 var=${1//-/_}
	shift
	rm -f "$tmp/$name.url"
	"$@" >"$logs/$name.log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	printf -v "pid_$var" %s "$pid"
	wait_file "$tmp/$name.url"
	printf -v "url_$var" %s "$(head -n1 "$tmp/$name.url")"
}
# stop NAME...: stop servers started by start or start_site.
stop() {
	local name pid
	for name in "$@"; do
		pid=pid_${name//-/_}
		kill "${!pid}" 2>/dev/null || true
		wait "${!pid}" 2>/dev/null || true
	done
}

echo
echo "Servers under test: limit (the same bytes, no API calls), limit-calls (tuned net/http: the 3 calls,"
echo "then the same bytes), limit-view (limit-calls and the page's VIEW event: the site's four requests),"
echo "site-memory (the site, flows answered in memory), site (the example site, default configuration:"
echo "events on), bare (net/http + encoding/json + html/template, the same calls)."
echo "CPU µs/page: the server's CPU (utime + stime of its process) over the rounds, per page; vs site: over"
echo "the site's. new API conns/page: connections the API accepted during the server's slices, per page."

for phase in $PHASES; do
	logs=$out/logs-$phase # each phase's servers log here (phase 3: in logs-3/LATENCY)
	mkdir -p "$logs"
	case $phase in
	1)
		start_api
		start_all
		echo
		echo "## 1. $CONCURRENCY connections, 3 flows, the API over HTTP on loopback"
		cpu "cpu-$CONCURRENCY" "$CONCURRENCY" -check 'site/bare<=0.65' -check 'site/limit-calls<=1.6' || keep $?
		floor "cpu-$CONCURRENCY" 'bare<=0.65' 'limit-calls<=1.6'
		stop site bare limit limit-calls limit-view site-memory api
		;;
	2)
		http1=(-http1) protocols="HTTP/1.1 only"
		((API_HTTP2)) && http1=() protocols="HTTP/2 offered"
		start_api -tls -cert-file "$tmp/api-cert.pem" "${http1[@]}"
		start_all SSL_CERT_FILE="$tmp/api-cert.pem"
		echo
		echo "## 2. $CONCURRENCY_HIGH connections, 3 flows, the API over HTTPS ($protocols) on loopback"
		WARMUP=$WARMUP_HIGH cpu "cpu-$CONCURRENCY_HIGH-https" "$CONCURRENCY_HIGH" -check 'site/bare<=0.6' -check 'site:conns<0.01' || keep $?
		floor "cpu-$CONCURRENCY_HIGH-https" 'bare<=0.6'
		stop site bare limit limit-calls limit-view site-memory api
		;;
	3)
		echo
		echo "## 3. VIEW events delivered per page: the site alone, $CONCURRENCY connections, the events API at $EVENTS_LATENCIES"
		for lat in $EVENTS_LATENCIES; do
			logs=$out/logs-3/$lat
			mkdir -p "$logs"
			start_api -events-latency "$lat"
			start_site site
			echo
			echo "### events endpoint at $lat"
			"${tool_pin[@]}" "$lt" cpu -concurrency "$CONCURRENCY" -duration "$EVENTS_DURATION" -rounds 1 -warmup "$WARMUP" \
				-target "site:$pid_site:$url_site/" -api-stats "$api_stats" -header "$cookie" -cookie-jar \
				-count-body "$fallback_marker" -json-out "$out/events-$lat.json" -check 'site:events>=0.99' || keep $?
			grep -h "personalize client closed\|event dropped" "$logs/site.log" | tail -n 3 || true
			stop site api
		done
		;;
	4)
		start_api -latency "$LATENCY"
		start bare "${server_pin[@]}" "$lt" bare -addr 127.0.0.1:0 -url-file "$tmp/bare.url" \
			-api "$url_api" -client-key "$client_key" -point-of-sale "$pos"
		start_site site
		echo
		echo "## 4. The API's flows at $LATENCY: site vs bare, $CONCURRENCY connections (3 flows in parallel: a page ~ one flow, not three)"
		"${tool_pin[@]}" "$lt" compare -a "$url_site/" -b "$url_bare/" -name-a site -name-b bare \
			-concurrency "$CONCURRENCY" -duration "$EVENTS_DURATION" -rounds 4 -warmup "$WARMUP" \
			-header "$cookie" -cookie-jar -count-body "$fallback_marker" -max-marked 0 -max-p50-a 75ms \
			-json-out "$out/latency-$LATENCY.json" || keep $?
		stop site bare api
		;;
	5)
		start_api -latency 200ms
		debug_token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
		start_site site PERSONALIZE_DEBUG_TOKEN="$debug_token" PERSONALIZE_BUDGET=2s PERSONALIZE_TIMEOUT=2s
		echo
		echo "## 5. Memory per page in flight: the site alone, $CONCURRENCY_HIGH connections, the API's flows at 200 ms (budget 2 s)"
		"${tool_pin[@]}" "$lt" run -url "$url_site/" -concurrency "$CONCURRENCY_HIGH" -duration "$EVENTS_DURATION" \
			-header "$cookie" -cookie-jar -count-body "$fallback_marker" \
			-metrics-url "http://debug:$debug_token@${url_site#http://}/_personalize/metrics" \
			-json-out "$out/memory.json" >"$out/memory.txt" || keep $?
		cat "$out/memory.txt"
		# heap_alloc_bytes includes garbage not yet collected: an upper bound of what pages hold,
		# which moves with where the collector is. heap_live_bytes is what the last collection
		# found reachable: what the pages in flight hold. Goroutine stacks are outside the heap
		# (stack_inuse_bytes).
		metric() { sed -n "s/^metrics $1 .*\"$2\":\([0-9]*\).*/\1/p" "$out/memory.txt"; }
		for m in heap_alloc_bytes heap_live_bytes heap_inuse_bytes stack_inuse_bytes rss_bytes; do
			b=$(metric before "$m") d=$(metric during "$m")
			if [[ -n $b && -n $d ]]; then
				echo "$m: before $((b / 1024)) KiB, during $((d / 1024)) KiB: $(((d - b) / 1024 / CONCURRENCY_HIGH)) KiB per page in flight"
			fi
		done
		stop site api
		;;
	*)
		log "unknown phase $phase (want 1, 2, 3, 4 or 5)"
		keep 1
		;;
	esac
done

if [[ -n ${SOAK:-} ]]; then
	echo
	echo "## 6. The fault soak: the site under load while the API cycles through every fault ($SOAK)"
	if ! go test -count=1 -run '^TestFaultSoak$' -v ./example-site/ -soak="$SOAK"; then
		keep 1
	fi
fi

echo
if [[ -n ${OUT:-} ]]; then
	echo "results (JSON) in $out, the servers' logs in $out/logs-PHASE"
fi
exit "$status"
