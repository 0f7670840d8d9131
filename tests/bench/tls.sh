#!/usr/bin/env bash
# tests/bench/tls.sh - Sidecar -> TLS upstream against nginx `proxy_pass https://` to the same upstream, in one
# interleaved run; then Sidecar's RSS with 4 TLS clusters against the same config over plain HTTP. Loopback only
# (127.0.0.1, ports BASE_PORT..BASE_PORT+9), every load run bounded (wrk -d), ~4 minutes with the defaults.
#
#   tests/bench/tls.sh                                  # publishes Sidecar (docker/publish.sh, Native AOT) first
#   SIDECAR_DIR=/tmp/pub tests/bench/tls.sh             # a published directory (sidecar, or sidecar.dll for JIT)
#
# The TLS upstream is nginx (1 worker, TLS 1.3, session cache and tickets on, keepalive_requests 1,000,000), with a
# CA and a localhost certificate made by openssl for the run. Peers, each on the same single core as the upstream:
#   sidecar  cluster with tls.ca_file and server_name localhost; /ok without a policy, /retry with max_attempts 2,
#            retry_on 503, 1 ms constant backoff, budget off (every request is retried once: a budget would refuse)
#   nginx    1 worker, proxy_pass https:// to an upstream block with keepalive 64, proxy_ssl_session_reuse on,
#            proxy_ssl_verify on (the same CA and name); /retry: proxy_next_upstream http_503 to a backup server
# Cases: ok (upstream always 200) and retry (the upstream answers the first attempt 503, the second 200: to Sidecar
# by its x-sidecar-attempt header, to nginx by port, its primary 503 and its backup 200).
# Per case and peer: req/s and p99 (wrk -t1 -cCONNS --latency, medians of REPS runs of DUR s, peers interleaved),
# and the TLS handshakes the upstream saw per 10,000 caller requests, from its access log ($connection_requests = 1
# is a connection's first request, i.e. one full or resumed handshake; $ssl_session_reused says which): "cold" counts
# the first run after start (the proxy opens its pool), "steady" the runs after it.
# RSS: VmRSS of Sidecar with 4 clusters over TLS against 4 over plain HTTP to the same nginx, each loaded the same way
# (RSS_DUR s of wrk on each cluster's route), read at the seconds RSS_AT after the load; ROUNDS times alternating.
# The defaults follow Sidecar's idle trimming (src/Sidecar/Overload/HeapTrimmer.cs), so no read races with it:
#   1 s   pool open, before the first idle trim (it comes after 2 s without a request)
#   5 s   pool open, after that trim (a compacting collection and glibc's malloc_trim)
#   26 s  pool closed (15 s idle timeout) and trimmed again by the follow-up trim 22 s after the load
# Reads 2 s and 18 s after the load raced with the trims (earlier runs of this script).
#
# Knobs (env): SECTIONS="proxy rss" DUR=5 REPS=3 CONNS=32 RSS_DUR=3 ROUNDS=2 RSS_AT="1 5 26"
#   SIDECAR_ENV="MALLOC_ARENA_MAX=2 ..." (extra environment for Sidecar, for experiments) BASE_PORT=18460 LOAD_CPU=0 SUT_CPU=1 MODE=pinned|unpinned
#   BENCH_OUT=/tmp/sidecar-tls-bench SIDECAR_DIR=<published dir>
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT=${BENCH_OUT:-/tmp/sidecar-tls-bench}
RESULTS="$HERE/results"
DUR=${DUR:-5}; REPS=${REPS:-3}; CONNS=${CONNS:-32}; RSS_DUR=${RSS_DUR:-3}; ROUNDS=${ROUNDS:-2}; RSS_AT=${RSS_AT:-"1 5 26"}
SECTIONS=${SECTIONS:-"proxy rss"}; SIDECAR_ENV=${SIDECAR_ENV:-}; BASE=${BASE_PORT:-18460}; LOAD_CPU=${LOAD_CPU:-0}; SUT_CPU=${SUT_CPU:-1}; MODE=${MODE:-pinned}
UP_A=$BASE; UP_B=$((BASE + 1)); UP_PLAIN=$((BASE + 2)); NGINX_PROXY=$((BASE + 3)); SC_PROXY=$((BASE + 4)); SC_ADMIN=$((BASE + 5))

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { echo "tls.sh: $*" >&2; exit 1; }
for tool in nginx wrk openssl curl python3; do command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y nginx wrk openssl curl python3)"; done

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for conf in "$OUT"/upstream.conf "$OUT"/proxy.conf; do
    [[ -f $conf.pid ]] && kill "$(cat "$conf.pid")" 2>/dev/null
  done
  wait 2>/dev/null
}
trap cleanup EXIT

sut() { if [[ $MODE == pinned ]]; then taskset -c "$SUT_CPU" "$@"; else "$@"; fi; }
load() { if [[ $MODE == pinned ]]; then taskset -c "$LOAD_CPU" "$@"; else "$@"; fi; }

rm -rf "$OUT" && mkdir -p "$OUT" "$RESULTS"

# ---------------------------------------------------------------- Sidecar
if [[ -z ${SIDECAR_DIR:-} ]]; then
  SIDECAR_DIR="$OUT/publish"
  log "publishing Sidecar (docker/publish.sh, Native AOT) into $SIDECAR_DIR"
  "$REPO/docker/publish.sh" "$SIDECAR_DIR" >"$OUT/publish.log" 2>&1 || die "publish failed: $OUT/publish.log"
fi
if [[ -x $SIDECAR_DIR/sidecar ]]; then SIDECAR=("$SIDECAR_DIR/sidecar"); else SIDECAR=(dotnet "$SIDECAR_DIR/sidecar.dll"); fi

# ---------------------------------------------------------------- certificates
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$OUT/ca.key" -out "$OUT/ca.crt" \
  -subj "/CN=Bench Root" -days 30 2>/dev/null || die "openssl CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$OUT/server.key" -out "$OUT/server.csr" -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$OUT/server.ext"
openssl x509 -req -in "$OUT/server.csr" -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" -CAcreateserial -days 30 \
  -extfile "$OUT/server.ext" -out "$OUT/server.crt" 2>/dev/null || die "openssl server certificate"

# ---------------------------------------------------------------- upstream nginx (TLS on A and B, plain on P)
cat >"$OUT/upstream.conf" <<EOF
worker_processes 1;
pid $OUT/upstream.conf.pid;
error_log $OUT/upstream-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  log_format hs '\$server_port \$connection \$connection_requests \$ssl_session_reused \$status';
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  ssl_protocols TLSv1.3;
  ssl_session_cache shared:BENCH:4m;
  ssl_session_tickets on;
  server {
    listen 127.0.0.1:$UP_A ssl;
    listen 127.0.0.1:$UP_B ssl;
    listen 127.0.0.1:$UP_PLAIN;
    ssl_certificate $OUT/server.crt;
    ssl_certificate_key $OUT/server.key;
    access_log $OUT/upstream-access.log hs;
    location /retry {
      # Sidecar's first attempt (x-sidecar-attempt: 1) and anything nginx sends to its primary (port A) get 503.
      set \$fail "\$server_port:\$http_x_sidecar_attempt";
      if (\$fail ~ "^$UP_A:1?\$") { return 503 "no\n"; }
      return 200 "ok\n";
    }
    location / { return 200 "ok\n"; }
  }
}
EOF
sut nginx -c "$OUT/upstream.conf" -p "$OUT" -g 'daemon on;' || die "upstream nginx did not start"

# ---------------------------------------------------------------- nginx proxy
cat >"$OUT/proxy.conf" <<EOF
worker_processes 1;
pid $OUT/proxy.conf.pid;
error_log $OUT/proxy-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream tls_ok { server 127.0.0.1:$UP_A max_fails=0; keepalive 64; keepalive_requests 1000000; }
  upstream tls_retry { server 127.0.0.1:$UP_A max_fails=0; server 127.0.0.1:$UP_B backup; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:$NGINX_PROXY;
    keepalive_requests 1000000;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_ssl_session_reuse on;
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate $OUT/ca.crt;
    proxy_ssl_name localhost;
    proxy_ssl_server_name on;
    proxy_ssl_protocols TLSv1.3;
    location /retry { proxy_pass https://tls_retry; proxy_next_upstream error timeout http_503; proxy_next_upstream_tries 2; }
    location / { proxy_pass https://tls_ok; }
  }
}
EOF

# ---------------------------------------------------------------- Sidecar configs
sidecar_config() { # $1 = tls|plain, $2 = number of clusters
  local kind=$1 n=$2 i
  echo "listen: { proxy: http://127.0.0.1:$SC_PROXY, admin: http://127.0.0.1:$SC_ADMIN }"
  echo "clusters:"
  for ((i = 1; i <= n; i++)); do
    if [[ $kind == tls ]]; then
      echo "  c$i: { destinations: [https://127.0.0.1:$UP_A], tls: { ca_file: $OUT/ca.crt, server_name: localhost } }"
    else
      echo "  c$i: { destinations: [http://127.0.0.1:$UP_PLAIN] }"
    fi
  done
  echo "policies:"
  echo "  once: { max_attempts: 2, retry_on: { status: [503] }, backoff: { algorithm: constant, base: 1ms, max: 1ms, jitter: none }, budget: off }"
  echo "routes:"
  echo "  - { name: retry, match: { path: \"/retry\" }, cluster: c1, policy: once }"
  for ((i = 1; i <= n; i++)); do echo "  - { name: r$i, match: { path: \"/c$i/{**rest}\" }, cluster: c$i }"; done
  echo "  - { name: ok, match: { path: \"/{**rest}\" }, cluster: c1 }"
}
sidecar_config tls 1 >"$OUT/sidecar-tls1.yaml"
sidecar_config tls 4 >"$OUT/sidecar-tls4.yaml"
sidecar_config plain 4 >"$OUT/sidecar-plain4.yaml"

SC_PID=""
start_sidecar() { # $1 = config
  # Not through sut(): a backgrounded function is a subshell, and $! would be its pid, not Sidecar's.
  if [[ $MODE == pinned ]]; then
    env $SIDECAR_ENV taskset -c "$SUT_CPU" "${SIDECAR[@]}" run --config "$1" >"$OUT/sidecar.log" 2>&1 &
  else
    env $SIDECAR_ENV "${SIDECAR[@]}" run --config "$1" >"$OUT/sidecar.log" 2>&1 &
  fi
  SC_PID=$!
  pids+=("$SC_PID")
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$SC_ADMIN/readyz" >/dev/null 2>&1 && return 0; sleep 0.05; done
  die "Sidecar did not become ready: $OUT/sidecar.log"
}
stop_sidecar() { kill "$SC_PID" 2>/dev/null; wait "$SC_PID" 2>/dev/null; SC_PID=""; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# One wrk run; appends "peer case phase req/s p99_ms handshakes resumed upstream_requests" to $OUT/runs.txt.
measure() { # $1 peer, $2 port, $3 case (ok|retry), $4 phase (cold|steady)
  local before after
  before=$(wc -l <"$OUT/upstream-access.log")
  load wrk -t1 -c"$CONNS" -d"${DUR}s" --timeout 5s --latency "http://127.0.0.1:$2/$3" >"$OUT/wrk.txt" 2>&1
  sleep 0.2
  after=$(wc -l <"$OUT/upstream-access.log")
  python3 - "$1" "$3" "$4" "$before" "$after" "$OUT/upstream-access.log" "$OUT/wrk.txt" <<'PY' >>"$OUT/runs.txt"
import re, sys
peer, case, phase, before, after, path = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
text = open(sys.argv[7]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", text)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
requests = int(re.search(r"(\d+) requests in", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
with open(path) as f:
    lines = f.readlines()[before:after]
handshakes = sum(1 for l in lines if l.split()[2] == "1")
resumed = sum(1 for l in lines if l.split()[2] == "1" and l.split()[3] == "r")
print(peer, case, phase, f"{rps:.0f}", f"{p99:.2f}", handshakes, resumed, requests, len(lines), bad.group(1) if bad else 0)
PY
}

# ---------------------------------------------------------------- 1. Sidecar vs nginx, interleaved
: >"$OUT/runs.txt"
: >"$OUT/rss.txt"
if [[ $SECTIONS == *proxy* ]]; then
log "sidecar vs nginx over TLS: cases ok and retry, $REPS x ${DUR}s each, interleaved"
start_sidecar "$OUT/sidecar-tls1.yaml"
sut nginx -c "$OUT/proxy.conf" -p "$OUT" -g 'daemon on;' || die "nginx proxy did not start"
for case in ok retry; do
  for rep in $(seq 1 "$REPS"); do
    phase=steady; [[ $rep == 1 ]] && phase=cold
    measure sidecar "$SC_PROXY" "$case" "$phase"
    measure nginx "$NGINX_PROXY" "$case" "$phase"
  done
  # The retry case's first run is cold for its upstream pool only in nginx (its own upstream block); Sidecar's
  # cluster is the same as ok's. Both "cold" runs are reported as measured.
done
stop_sidecar
kill "$(cat "$OUT/proxy.conf.pid")" 2>/dev/null
fi

# ---------------------------------------------------------------- 2. RSS: 4 TLS clusters vs 4 plain
if [[ $SECTIONS == *rss* ]]; then
log "RSS: 4 TLS clusters against 4 plain-HTTP clusters, $ROUNDS rounds"
for round in $(seq 1 "$ROUNDS"); do
  for kind in tls4 plain4; do
    start_sidecar "$OUT/sidecar-$kind.yaml"
    idle=$(rss_kib "$SC_PID")
    for i in 1 2 3 4; do load wrk -t1 -c"$CONNS" -d"${RSS_DUR}s" --timeout 5s "http://127.0.0.1:$SC_PROXY/c$i/x" >/dev/null 2>&1; done
    reads="" elapsed=0
    for at in $RSS_AT; do
      sleep $((at - elapsed)); elapsed=$at
      reads="$reads $(rss_kib "$SC_PID")"
    done
    echo "$kind $round $idle$reads" >>"$OUT/rss.txt"
    stop_sidecar
  done
done
fi

# ---------------------------------------------------------------- report
report="$RESULTS/tls-$(date +%Y%m%d-%H%M%S).txt"
python3 - "$OUT/runs.txt" "$OUT/rss.txt" "$MODE" "$CONNS" "$DUR" "$REPS" "$(uptime)" "$RSS_AT" <<'PY' | tee "$report"
import statistics, sys
runs = [l.split() for l in open(sys.argv[1])]
rss = [l.split() for l in open(sys.argv[2])]
mode, conns, dur, reps, uptime, rss_at = sys.argv[3:9]
print(f"tls.sh: wrk -t1 -c{conns}, {reps} x {dur}s per case and peer, interleaved; mode {mode}; {uptime.strip()}")
print("Shared machine: compare the ratios of one run, not absolute figures.\n")
print(f"{'case':6} {'peer':8} {'req/s':>8} {'p99 ms':>8} {'hs/10k cold':>12} {'hs/10k steady':>14} {'resumed':>8} {'non-2xx':>8} {'upstream req/caller req':>24}")
table = {}
for case in ("ok", "retry") if runs else ():
    for peer in ("sidecar", "nginx"):
        rows = [r for r in runs if r[0] == peer and r[1] == case]
        rps = statistics.median(float(r[3]) for r in rows)
        p99 = statistics.median(float(r[4]) for r in rows)
        cold = [r for r in rows if r[2] == "cold"]
        steady = [r for r in rows if r[2] == "steady"]
        per10k = lambda rs: 10000 * sum(int(r[5]) for r in rs) / max(1, sum(int(r[7]) for r in rs))
        resumed = sum(int(r[6]) for r in rows)
        handshakes = sum(int(r[5]) for r in rows)
        amp = sum(int(r[8]) for r in rows) / max(1, sum(int(r[7]) for r in rows))
        bad = sum(int(r[9]) for r in rows)
        table[(case, peer)] = (rps, p99)
        print(f"{case:6} {peer:8} {rps:8.0f} {p99:8.2f} {per10k(cold):12.2f} {per10k(steady):14.2f} {resumed:>3}/{handshakes:<4} {bad:8} {amp:24.3f}")
for case in ("ok", "retry") if runs else ():
    s, n = table[(case, "sidecar")], table[(case, "nginx")]
    print(f"{case}: sidecar/nginx req/s {s[0] / n[0]:.2f}x, p99 {s[1] / n[1]:.2f}x")
labels = ["idle"] + [f"{at} s after the load" for at in rss_at.split()]
print("\nRSS (KiB, VmRSS) " + " / ".join(labels) + ":")
for r in rss:
    print(f"  {r[0]:7} round {r[1]}: " + " / ".join(r[2:]))
for column, label in enumerate(labels, start=2) if rss else ():
    tls = statistics.median(int(r[column]) for r in rss if r[0] == "tls4")
    plain = statistics.median(int(r[column]) for r in rss if r[0] == "plain4")
    print(f"4 TLS clusters / 4 plain clusters, {label}: {tls / plain:.3f} ({(tls - plain) / 1024:+.1f} MiB)")
PY
log "report: $report"
