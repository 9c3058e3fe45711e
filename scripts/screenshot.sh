#!/usr/bin/env bash
# Takes docs/screenshot.png: the example site's home page as a visitor landing from the summer
# sale campaign sees it, rendered by headless Chromium. Needs Go and chromium (Debian's
# package) or chromium-browser / google-chrome on PATH; makes no outside network request.
#
#   scripts/screenshot.sh [output.png] [path and query]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshot.png}
page=${2:-/?utm_campaign=summer_sale}

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
[ -n "$browser" ] || { echo "screenshot: no chromium, chromium-browser or google-chrome on PATH" >&2; exit 1; }

work=$(mktemp -d)
site_pid=""
cleanup() {
  if [ -n "$site_pid" ] && kill -0 "$site_pid" 2>/dev/null; then
    kill -TERM "$site_pid" 2>/dev/null || true
    wait "$site_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/example-site" ./example-site
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
ADDR="127.0.0.1:$port" "$work/example-site" >"$work/site.log" 2>&1 &
site_pid=$!

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { echo "screenshot: the site did not start:" >&2; cat "$work/site.log" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
# Headless Chromium says "HeadlessChrome" in its User-Agent, which the middleware treats as a
# crawler (no personalization): present an ordinary desktop Chrome instead.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size="${WINDOW_SIZE:-1280,1600}" \
  --user-agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36" \
  --disable-quic --no-first-run --disable-background-networking --disable-component-update \
  --disable-sync --disable-default-apps --disable-extensions --disable-features=MediaRouter,OptimizationHints \
  --user-data-dir="$work/profile" \
  --screenshot="$out" "http://127.0.0.1:$port$page" 2>"$work/chromium.log" || {
  echo "screenshot: chromium failed:" >&2; cat "$work/chromium.log" >&2; exit 1; }

echo "wrote $out"
