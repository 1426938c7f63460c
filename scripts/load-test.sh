#!/usr/bin/env bash
# Load test of the HTTP API on loopback with wrk (Debian's `wrk` package), against a release
# build: /v1/lint and /v1/suggest at 4 connections (a busy team's workbenches: one wrk thread,
# so the client leaves the server a core), then at 16, then /v1/suggest with every question new
# (no question's meaning kept from before) and /v1/lint beside that load, then /v1/lint at 64
# connections, then
# /v1/suggest with every question unanswered and recorded (serve --index). After each of the
# first five runs, the server's own handling time from its /metrics histogram.
# Usage: scripts/load-test.sh [SECONDS]   (default 20; the recorded figures used 60 for the 64-connection run)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/serve-lib.sh
secs="${1:-20}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet
tmp="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
serve

# What every wrk script prints at the end.
report='done = function(summary, latency, requests)
  io.write(string.format("p50 %.0f us  p99 %.0f us  max %.0f us  requests %d  errors %d\n",
    latency:percentile(50), latency:percentile(99), latency.max, summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end'
post() { # FILE BODY
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$2'
$report
LUA
}
# The server's own handling time (its /metrics histogram, from request to response, without
# the client and the kernel's part): where 99% and 99.9% of ROUTE's requests since the last
# call ended, from the difference of two readings of the cumulative buckets.
declare -A seen=()
server_side() { # ROUTE
  local now
  now="$(curl -fsS "$url/metrics" | grep "^kefu_request_duration_seconds_bucket{route=\"$1\"")"
  awk -v before="${seen[$1]:-}" '
    BEGIN { n = split(before, b, "\n"); for (i = 1; i <= n; i++) { split(b[i], f, " "); old[f[1]] = f[2] } }
    { le[NR] = $1; c[NR] = $2 - old[$1] }
    END {
      total = c[NR]; p99 = ""; p999 = ""
      for (i = 1; i <= NR; i++) {
        match(le[i], /le="[^"]*"/); bound = substr(le[i], RSTART + 4, RLENGTH - 5)
        if (p99 == "" && c[i] >= 0.99 * total) p99 = bound
        if (p999 == "" && c[i] >= 0.999 * total) p999 = bound
      }
      printf "server side: %d requests, p99 <= %s s, p99.9 <= %s s\n", total, p99, p999
    }' <<<"$now"
  seen[$1]="$now"
}
post "$tmp/lint.lua" '{"text":"亲，你好！您的订单已经发货了，单号稍后发你，不知道的话自己去查，有问题随时联系我们。"}'
post "$tmp/suggest.lua" '{"question":"我拍下了还没付款，订单怎么就关闭了","k":3}'

for route in lint suggest; do
  echo "== /v1/$route, 4 connections, ${secs}s"
  wrk -t1 -c4 -d"${secs}s" --latency -s "$tmp/$route.lua" "$url/v1/$route" | grep -E "Requests/sec|p50"
  server_side "/v1/$route"
done
echo "== /v1/lint, 16 connections, ${secs}s"
wrk -t2 -c16 -d"${secs}s" --latency -s "$tmp/lint.lua" "$url/v1/lint" | grep -E "Requests/sec|p50"
server_side /v1/lint
echo "== /v1/suggest, 16 connections, ${secs}s"
wrk -t2 -c16 -d"${secs}s" --latency -s "$tmp/suggest.lua" "$url/v1/suggest" | grep -E "Requests/sec|p50"
server_side /v1/suggest
# Every question new (a number appended): the question's meaning is embedded for each request,
# none comes from the recent questions kept.
cat >"$tmp/suggest-new.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"question":"我拍下了还没付款，订单' .. n .. '怎么就关闭了","k":3}')
end
$report
LUA
echo "== /v1/suggest, every question new, 16 connections, ${secs}s"
wrk -t2 -c16 -d"${secs}s" --latency -s "$tmp/suggest-new.lua" "$url/v1/suggest" | grep -E "Requests/sec|p50"
server_side /v1/suggest
echo "== /v1/lint while every suggest question is new (16 suggest connections), ${secs}s"
wrk -t1 -c16 -d"$((secs + 2))s" -s "$tmp/suggest-new.lua" "$url/v1/suggest" >/dev/null &
sleep 1
wrk -t1 -c4 -d"${secs}s" --latency -s "$tmp/lint.lua" "$url/v1/lint" | grep -E "Requests/sec|p50"
wait
echo "== /v1/lint, 64 connections, ${secs}s"
wrk -t2 -c64 -d"${secs}s" --latency -s "$tmp/lint.lua" "$url/v1/lint" | grep -E "Requests/sec|p50"
server_side /v1/lint
echo "== resident memory of the server"
grep VmRSS "/proc/$pid/status"

# A service that records unanswered questions (an on-disk index of the shipped knowledge base),
# asked only a question it cannot answer: every request queues a line for the gap file.
./target/release/kefu kb import lexicons/kb.jsonl --index "$tmp/idx" >/dev/null
kill "$pid"; wait "$pid" 2>/dev/null || true
serve --index "$tmp/idx"
post "$tmp/gap.lua" '{"question":"你们卖不卖自行车头盔"}'
echo "== /v1/suggest, unanswered and recorded, 16 connections, ${secs}s"
wrk -t2 -c16 -d"${secs}s" --latency -s "$tmp/gap.lua" "$url/v1/suggest" | grep -E "Requests/sec|p50"
curl -fsS "$url/metrics" | grep '^kefu_gaps'
grep Threads "/proc/$pid/status"
