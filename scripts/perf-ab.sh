#!/usr/bin/env bash
# perf-ab.sh: the example site at two commits, measured from outside in the same run: what a
# change did to the CPU per page, with the noise of a shared machine on both sides.
#
#   scripts/perf-ab.sh OLD [NEW]     # OLD, NEW: commits (NEW: the working tree when omitted)
#
# Both builds of the example site (tenant mode, default configuration: events on, an INFO
# line per request), the bare page and limit-calls (see scripts/perf.sh) run against one
# canned API (`loadtest api`), and `loadtest cpu` loads them in interleaved rounds at
# CONCURRENCY connections, reading each server's CPU from its own /proc accounting. The servers
# under test are pinned to CPU SERVER_CPU, the API and the load tool to the others, as PIN
# says (auto: when taskset exists and there are at least 2 CPUs). The table's "vs site-new" column is the ratio
# to compare; the values move with the machine's load.
#
# Environment: DURATION (measured load per server, default 12s), ROUNDS (default 6), WARMUP
# (default 1s), CONCURRENCY (default 16), PIN and SERVER_CPU (as for scripts/perf.sh).
#
# Exit status: 0 when the run completed, 1 on an error (2 on a usage error).
set -euo pipefail

if (($# < 1 || $# > 2)); then
	echo "usage: scripts/perf-ab.sh OLD [NEW]" >&2
	exit 2
fi
old_rev=$1
new_rev=${2:-}

DURATION=${DURATION:-12s}
ROUNDS=${ROUNDS:-6}
WARMUP=${WARMUP:-1s}
CONCURRENCY=${CONCURRENCY:-16}
SERVER_CPU=${SERVER_CPU:-0}
PIN=${PIN:-auto}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh" # $tmp, pids, cleanup on exit, log, wait_file, pin_servers
worktrees=()
remove_worktrees() {
	local wt
	for wt in "${worktrees[@]}"; do
		git worktree remove --force "$wt" 2>/dev/null || true
	done
}
cleanup_hooks+=(remove_worktrees)
pin_servers

# build_site NAME REV: the example site of commit REV (the working tree when REV is empty).
build_site() {
	local name=$1 rev=$2 dir=$root
	if [[ -n $rev ]]; then
		dir=$tmp/src-$name
		git worktree add --quiet --detach "$dir" "$rev"
		worktrees+=("$dir")
	fi
	log "building the site $name (${rev:-working tree})"
	(cd "$dir" && go build -o "$tmp/$name" ./example-site)
}

log "building the load tool"
go build -o "$tmp/loadtest" ./example-site/loadtest
lt=$tmp/loadtest
build_site site-old "$old_rev"
build_site site-new "$new_rev"

client_key=tenant-client-key
pos=goairways/nl
bid=a38b230c-11eb-4cf9-8d5d-274e9f344925
cookie="Cookie: bid_${client_key}=${bid}"
session_keys=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

"${tool_pin[@]}" "$lt" api -addr 127.0.0.1:0 -url-file "$tmp/api.url" -flows example-site/flows.json \
	-client-key "$client_key" -point-of-sale "$pos" -browser-id "$bid" >"$tmp/api.log" 2>&1 &
pids+=($!)
wait_file "$tmp/api.url"
url_api=$(head -n1 "$tmp/api.url")

declare -A pid url
for name in site-old site-new; do
	port=$("$lt" freeport)
	env PERSONALIZE_CLIENT_KEY=$client_key PERSONALIZE_BASE_URL="$url_api" PERSONALIZE_POINT_OF_SALE=$pos \
		SESSION_KEYS="$session_keys" ADDR=127.0.0.1:$port "${server_pin[@]}" "$tmp/$name" >"$tmp/$name.log" 2>&1 &
	pid[$name]=$!
	pids+=($!)
	url[$name]=http://127.0.0.1:$port
	"$lt" wait -url "${url[$name]}/healthz" -status 200 >/dev/null
done
"${server_pin[@]}" "$lt" bare -addr 127.0.0.1:0 -url-file "$tmp/bare.url" -api "$url_api" \
	-client-key "$client_key" -point-of-sale "$pos" >"$tmp/bare.log" 2>&1 &
pid[bare]=$!
pids+=($!)
wait_file "$tmp/bare.url"
url[bare]=$(head -n1 "$tmp/bare.url")
"${server_pin[@]}" "$lt" limit -addr 127.0.0.1:0 -url-file "$tmp/limit-calls.url" -page-from "${url[bare]}/" \
	-header "$cookie" -api "$url_api" -client-key "$client_key" -point-of-sale "$pos" >"$tmp/limit-calls.log" 2>&1 &
pid[limit-calls]=$!
pids+=($!)
wait_file "$tmp/limit-calls.url"
url[limit-calls]=$(head -n1 "$tmp/limit-calls.url")

echo "site-old: ${old_rev}; site-new: ${new_rev:-the working tree}"
"${tool_pin[@]}" "$lt" cpu -concurrency "$CONCURRENCY" -duration "$DURATION" -rounds "$ROUNDS" -warmup "$WARMUP" \
	-target "limit-calls:${pid[limit-calls]}:${url[limit-calls]}/" \
	-target "site-old:${pid[site-old]}:${url[site-old]}/" \
	-target "site-new:${pid[site-new]}:${url[site-new]}/" \
	-target "bare:${pid[bare]}:${url[bare]}/" \
	-ref site-new -header "$cookie" -cookie-jar -count-body 'data-personalize-state="fallback"'
