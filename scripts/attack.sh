#!/usr/bin/env bash
# attack.sh: the attacks of issue 13, re-run against the example site next to a normal load.
# A standalone sandbox is the API (the site's flows, and ancillary_offers answering about
# 1 MiB of small offers); the site runs in tenant mode against it. Each phase drives normal
# visitors (a returning browser, the home page) for $DURATION with $CONCURRENCY connections,
# alone or beside an attacker, and reports their requests/s and the site's peak RSS:
#
#   - a 60 KB User-Agent at $ATTACK_RATE requests/s (the volume of the attack as found: 4
#     connections at 250 ms of CPU each sent about 16/s); checked
#   - a 60 KB User-Agent from 4 connections as fast as the site answers (a flood: it takes its
#     share of the CPU whatever the requests are); reported, not checked
#   - /booking, whose flow answers ~1 MiB of small offers, at $ATTACK_RATE requests/s; checked
#   - /booking from 16, then 64, connections as fast as the site answers (memory)
#
# Checks: beside a checked attack, normal visitors keep at least 90% of their requests/s alone
# (the median of $PAIRS back-to-back pairs); the site's RSS stays under $MAX_RSS_MB MB in every
# run. Exit status 3 when a check fails.
#
#   scripts/attack.sh
#   DURATION=20s PAIRS=5 CONCURRENCY=8 ATTACK_RATE=20 scripts/attack.sh
set -euo pipefail

DURATION=${DURATION:-8s}
PAIRS=${PAIRS:-3}
CONCURRENCY=${CONCURRENCY:-8}
ATTACK_RATE=${ATTACK_RATE:-20}
MAX_RSS_MB=${MAX_RSS_MB:-200}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh" # $tmp, pids, cleanup on exit, log

log "building the example site and the load tool"
go build -o "$tmp/loadtest" ./example-site/loadtest
go build -o "$tmp/site" ./example-site
lt=$tmp/loadtest

client_key=sandbox-client-key
sandbox_port=$("$lt" freeport)
sandbox_url=http://127.0.0.1:$sandbox_port
"$lt" sandbox -addr "127.0.0.1:$sandbox_port" -flows example-site/flows.json -big-answer ancillary_offers >"$tmp/sandbox.log" 2>&1 &
pids+=($!)
"$lt" wait -url "$sandbox_url/v1.2/browser/create.json?client_key=$client_key&message=%7B%7D" -status 200 >/dev/null
bid=$(curl -fsS "$sandbox_url/v1.2/browser/create.json?client_key=$client_key&message=%7B%7D" |
	sed -n 's/.*"ref"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')

site_port=$("$lt" freeport)
site_url=http://127.0.0.1:$site_port
PERSONALIZE_CLIENT_KEY=$client_key PERSONALIZE_BASE_URL=$sandbox_url PERSONALIZE_POINT_OF_SALE=airline.example \
	SESSION_KEYS=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n') ADDR=127.0.0.1:$site_port LOG_LEVEL=warn \
	"$tmp/site" >"$tmp/site.log" 2>&1 &
site_pid=$!
pids+=("$site_pid")
"$lt" wait -url "$site_url/healthz" -status 200 >/dev/null
log "sandbox on $sandbox_url, example site on $site_url (pid $site_pid)"

long_ua="Mozilla/5.0 (X11; Linux x86_64) $(head -c 61440 /dev/zero | tr '\0' 'x')"
status=0

# rss_sampler FILE: writes the site's largest RSS (KiB) seen while it runs, until killed.
rss_sampler() {
	local max=0 kb
	while :; do
		kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$site_pid/status" 2>/dev/null || echo 0)
		((kb > max)) && max=$kb && echo "$max" >"$1"
		sleep 0.1
	done
}

# measure [URL attacker-flags...]: normal visitors for $DURATION, with an attacker beside them
# when a URL is given. Sets $rps (normal visitors' requests/s), $attack_rps and $peak_mb (the
# site's peak RSS during the run), and fails the RSS check when the peak is over the limit.
rps=0
attack_rps=-
peak_mb=0
n=0
measure() {
	n=$((n + 1))
	local name=run$n attacker= sampler
	echo 0 >"$tmp/rss"
	rss_sampler "$tmp/rss" &
	sampler=$!
	attack_rps=-
	if (($# > 0)); then
		"$lt" run -url "$1" -name attacker -duration "$DURATION" "${@:2}" -json-out "$tmp/$name-attacker.json" >/dev/null 2>&1 &
		attacker=$!
	fi
	"$lt" run -url "$site_url/" -name normal -concurrency "$CONCURRENCY" -duration "$DURATION" \
		-header "Cookie: bid_${client_key}=${bid}" -cookie-jar -json-out "$tmp/$name.json" >/dev/null
	if [[ -n $attacker ]]; then
		wait "$attacker" || true
		attack_rps=$(json_rps "$tmp/$name-attacker.json")
	fi
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	rps=$(json_rps "$tmp/$name.json")
	peak_mb=$(($(cat "$tmp/rss") / 1024))
	if ((peak_mb > MAX_RSS_MB)); then
		echo "check site RSS ${peak_mb} MB <= ${MAX_RSS_MB} MB: FAILED"
		status=3
	fi
}
json_rps() { sed -n 's/.*"requests_per_second":[[:space:]]*\([0-9.]*\).*/\1/p' "$1" | head -1; }
report() { # title
	printf '%-50s normal %7.0f req/s   attacker %7.0f req/s   site RSS peak %4d MB\n' "$1" "$rps" "${attack_rps/-/0}" "$peak_mb"
}

# attack TITLE URL attacker-flags...: reported beside normal visitors alone.
attack() {
	local title=$1
	shift
	measure "$@"
	report "$title"
}

# checked TITLE URL attacker-flags...: $PAIRS pairs of runs, normal visitors alone then beside
# the attacker; the median of the pairs' ratios must be at least 0.90. Pairing keeps the
# machine's drift (other work on a shared host, CPU boost) out of the ratio.
checked() {
	local title=$1 i base ratios=()
	shift
	for ((i = 1; i <= PAIRS; i++)); do
		measure
		base=$rps
		report "   normal visitors alone"
		measure "$@"
		report "   $title"
		ratios+=("$(awk -v a="$rps" -v b="$base" 'BEGIN {printf "%.3f", a/b}')")
	done
	local median
	median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{r[NR]=$1} END {print r[int((NR+1)/2)]}')
	if awk -v r="$median" 'BEGIN {exit !(r >= 0.9)}'; then
		echo "check $title: normal visitors at $median of alone (pairs ${ratios[*]}; >= 0.90): ok"
	else
		echo "check $title: normal visitors at $median of alone (pairs ${ratios[*]}; >= 0.90): FAILED"
		status=3
	fi
}

measure
report "normal visitors alone (warm-up)"
checked "+ 60 KB User-Agent at ${ATTACK_RATE}/s" "$site_url/" -rate "$ATTACK_RATE" -user-agent "$long_ua"
attack "+ 60 KB User-Agent, 4 connections flat out" "$site_url/" -concurrency 4 -user-agent "$long_ua"
checked "+ 1 MiB answers (/booking) at ${ATTACK_RATE}/s" "$site_url/booking" -rate "$ATTACK_RATE"
attack "+ 1 MiB answers, 16 connections flat out" "$site_url/booking" -concurrency 16
attack "+ 1 MiB answers, 64 connections flat out" "$site_url/booking" -concurrency 64
exit "$status"
