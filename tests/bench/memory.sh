#!/usr/bin/env bash
# Bounded-memory check (issue: 1,000 concurrent 60 KiB POSTs against a slow upstream).
# Loopback only, bounded in count and time. Prints Sidecar's peak RSS, buffered bytes and outcomes.
#   bash tests/bench/memory.sh            # builds Release, ~30 s
# Knobs: REQUESTS=1000 CONCURRENCY=1000 BODY_KIB=60 UPSTREAM_DELAY=2 MAX_BUFFERED=64MiB
set -euo pipefail
cd "$(dirname "$0")/../.."
REQUESTS=${REQUESTS:-1000}; CONCURRENCY=${CONCURRENCY:-1000}; BODY_KIB=${BODY_KIB:-60}
UPSTREAM_DELAY=${UPSTREAM_DELAY:-2}; MAX_BUFFERED=${MAX_BUFFERED:-64MiB}
command -v hey >/dev/null || { apt-get update -qq && apt-get install -y -qq hey >/dev/null; }

work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

dotnet publish src/Sidecar/Sidecar.csproj -c Release -o "$work/sidecar" -p:DebugType=none >/dev/null

# The slow upstream: 503 to each request's first attempt, so every body is replayed once (see the script).
python3 tests/bench/slow_upstream.py 18401 "$UPSTREAM_DELAY" & pids+=($!)

cat >"$work/sidecar.yaml" <<YAML
listen: { proxy: http://127.0.0.1:18400, admin: http://127.0.0.1:18409 }
clusters:
  slow: { destinations: [http://127.0.0.1:18401] }
policies:
  p:
    max_attempts: 2
    backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
    methods: [POST]
    timeout: 30s
    budget: off
    max_concurrent_retries: 5000
limits: { max_buffered_bytes: $MAX_BUFFERED, max_waiting_retries: 5000 }
routes:
  - name: upload
    cluster: slow
    policy: p
YAML
dotnet "$work/sidecar/sidecar.dll" run --config "$work/sidecar.yaml" >"$work/sidecar.log" 2>&1 & sidecar=$!; pids+=($sidecar)
for _ in $(seq 100); do curl -sf http://127.0.0.1:18409/readyz >/dev/null && break; sleep 0.1; done

head -c $((BODY_KIB * 1024)) /dev/urandom >"$work/body.bin"
peak=0
( while kill -0 "$sidecar" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' /proc/$sidecar/status 2>/dev/null || echo 0)
    echo "$rss"; sleep 0.1
  done ) >"$work/rss.txt" & pids+=($!)
idle=$(awk '/VmRSS/ {print $2}' /proc/$sidecar/status)
timeout 120 hey -n "$REQUESTS" -c "$CONCURRENCY" -t 60 -m POST -D "$work/body.bin" -T application/octet-stream "http://127.0.0.1:18400/upload" >"$work/hey.txt" || true
peak=$(sort -n "$work/rss.txt" | tail -1)
metrics=$(curl -s http://127.0.0.1:18409/metrics)

echo "memory check: $REQUESTS POSTs of $BODY_KIB KiB, $CONCURRENCY concurrent, upstream ${UPSTREAM_DELAY}s per answer, max_buffered_bytes $MAX_BUFFERED"
echo "  Sidecar RSS idle:  $((idle / 1024)) MiB"
echo "  Sidecar RSS peak:  $((peak / 1024)) MiB"
grep -E "^\s+\[[0-9]{3}\]" "$work/hey.txt" | sed 's/^/  status /' || true
grep -E "Requests/sec|Average" "$work/hey.txt" | sed 's/^/ /' || true
echo "$metrics" | grep -E '^sidecar_requests_total|^sidecar_retries_skipped_total|^sidecar_buffered_bytes' | sed 's/^/  /'
