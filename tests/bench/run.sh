#!/usr/bin/env bash
# tests/bench/run.sh - Sidecar against direct upstream, nginx, HAProxy and bare YARP, in one interleaved run.
# Loopback only (127.0.0.1, ports 18000-19999), every load run bounded (wrk -d and `timeout`), ~8 min in total.
#
#   tests/bench/run.sh                      # everything; report in tests/bench/results/bench-*.txt (gitignored)
#   SCENARIOS=success TARGETS="nginx yarp sidecar" REPS=3 tests/bench/run.sh    # a quick tuning loop
#
# Scenarios (wrk -t1 -c32, tiny bodies unless said):
#   success  GET, upstream always 200; Sidecar route without a policy        REPS x DUR s, interleaved, medians
#   post     POST with a BODY_KIB (32) KiB body, same upstream and routes     POST_REPS x SHORT_DUR s, interleaved
#   flaky    upstream answers 503 (+ Retry-After: 0) w.p. 0.2 per attempt   one SHORT_DUR s run per target
#   down     upstream always answers 503                                      one SHORT_DUR s run per target
#   rate     GET at a fixed rate, each of RATES (300 1000 5000) req/s (h2load --rps over CONNS connections), upstream
#            always 200: added latency over direct, next to nginx's            RATE_REPS x RATE_DUR s, interleaved, medians
# Retrying peers in flaky/down: nginx with the host listed 3x (max_fails=0, 3 tries), HAProxy `retries 3`
# (4 attempts), bare YARP (no retries), Sidecar policy max_attempts 3 / retry_on 503 / default budget / 1-10 ms backoff.
# Upstream attempts are counted from the upstream's access log; success = 2xx/3xx answers seen by wrk.
# Sidecar's RSS (VmRSS) is sampled every 0.5 s while it is under load; startup = exec to the first 200 on /readyz.
#
# The peers (upstream nginx 18081/18082, nginx proxy 18091/18093, HAProxy 18101/18102, bare YARP sources) are
# ../shared/bench's, relative to the repository root (PEERS_DIR overrides); conf/ here adds the hard-down peers.
# Sidecar is published with docker/publish.sh, i.e. exactly as the container image ships it (Native AOT, target
# "sidecar"), and a second time with SIDECAR_BUILD=jit (target "sidecar-jit", run by `dotnet sidecar.dll`).
# Bare YARP is built twice from the same sources too: JIT (target "yarp", as the peer baseline builds it) and Native
# AOT (target "yarp-aot"). A layer's cost is a build against bare YARP compiled the same way: Native AOT has no
# dynamic PGO, which costs any ASP.NET Core server 10-30 % of CPU per request whatever runs in it.
#
# Knobs (env): MODE=pinned|unpinned (pinned: wrk on cpu LOAD_CPU=0; upstreams and proxies on SUT_CPU=1, one worker
#   each) DUR=7 REPS=3 SHORT_DUR=5 POST_REPS=2 CONNS=32 BODY_KIB=32 PREWARM=10 WARMUP=3 WARMUP_DOTNET_MAX_CYCLES=6
#   STARTS=3 SCENARIOS="success post flaky down rate" TARGETS="direct nginx haproxy yarp yarp-aot sidecar"
#   RATES="300 1000 5000" RATE_DUR=10 RATE_REPS=3 RATE_WARMUP=2 (rate scenario: h2load's unmeasured warm-up, s)
#   BENCH_OUT=/tmp/sidecar-bench (runtime files, publish output) SIDECAR_DIR=<published dir> (skip publishing)
#   SIDECAR_ENV="DOTNET_X=1 ..." (extra environment for Sidecar, for experiments) SKIP_INSTALL=1
#   SIDECAR_BUDGET="{ ratio: 0.25 }" (the retry policy's budget; default: Sidecar's default budget)
#   SIDECAR_B_DIR=<published dir> and/or SIDECAR_B_ENV="..." make the second Sidecar target "sidecar-b" instead of
#   the JIT build: A/B comparisons of tuning that the machine's noise between runs would otherwise swamp.
#   SIDECAR_JIT=no leaves the second Sidecar out.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PEERS=${PEERS_DIR:-$REPO/../shared/bench}
OUT=${BENCH_OUT:-/tmp/sidecar-bench}
RUN="$OUT/run"
RESULTS="$HERE/results"

MODE=${MODE:-pinned}; DUR=${DUR:-7}; REPS=${REPS:-3}; SHORT_DUR=${SHORT_DUR:-5}; POST_REPS=${POST_REPS:-2}
CONNS=${CONNS:-32}; BODY_KIB=${BODY_KIB:-32}; PREWARM=${PREWARM:-10}; WARMUP=${WARMUP:-3}
WARMUP_DOTNET_MAX_CYCLES=${WARMUP_DOTNET_MAX_CYCLES:-6}; STARTS=${STARTS:-3}; LOAD_CPU=${LOAD_CPU:-0}; SUT_CPU=${SUT_CPU:-1}
SCENARIOS=${SCENARIOS:-"success post flaky down rate"}; TARGETS=${TARGETS:-"direct nginx haproxy yarp yarp-aot sidecar"}
SIDECAR_ENV=${SIDECAR_ENV:-}
RATES=${RATES:-"300 1000 5000"}; RATE_DUR=${RATE_DUR:-10}; RATE_REPS=${RATE_REPS:-3}; RATE_WARMUP=${RATE_WARMUP:-2}

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites
for f in conf/upstream-nginx.conf conf/proxy-nginx.conf conf/proxy-haproxy.cfg yarp/Program.cs yarp/YarpBare.csproj; do
  [[ -f $PEERS/$f ]] || die "peer file $PEERS/$f not found: the shared peer baseline is expected in ../shared/bench beside the repository (set PEERS_DIR)"
done
missing=()
for tool in nginx haproxy wrk curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
command -v h2load >/dev/null || missing+=(nghttp2-client)   # h2load: the fixed-rate scenario
if ((${#missing[@]})); then
  [[ -n ${SKIP_INSTALL:-} ]] && die "missing ${missing[*]}"
  [[ $(id -u) == 0 ]] || die "missing ${missing[*]}: run as root or apt-get install -y nginx haproxy wrk curl nghttp2-client"
  log "installing nginx haproxy wrk curl nghttp2-client with apt"
  timeout 300 apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq nginx haproxy wrk curl nghttp2-client >/dev/null \
    || die "apt-get install failed"
fi
for tool in taskset setsid python3 dotnet; do command -v "$tool" >/dev/null || die "missing $tool"; done

mkdir -p "$RESULTS"
rm -rf "$RUN"; mkdir -p "$RUN"
STAMP=$(date +%Y%m%d-%H%M%S)
T0=$(date +%s)

# ---------------------------------------------------------------- process control (by pid only)
declare -a PIDS=()
declare -A PNAME=() PIDOF=()
start_bg() {   # start_bg NAME PIN(yes|no) CMD...   -> own session/process group, pid recorded
  local name=$1 pin=$2; shift 2
  if [[ $pin == yes ]]; then set -- taskset -c "$SUT_CPU" "$@"; fi
  setsid "$@" >"$RUN/$name.out" 2>&1 </dev/null &
  local pid=$!
  PIDS+=("$pid"); PNAME[$pid]=$name; PIDOF[$name]=$pid
  log "started $name pid=$pid"
}
stop_pids() {  # stop_pids PID... : TERM, up to 5 s, then KILL of the process group we created
  local pid alive i
  (($#)) || return 0
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null; done
  for ((i = 0; i < 50; i++)); do
    alive=0; for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break; sleep 0.1
  done
  for pid in "$@"; do
    if kill -0 "$pid" 2>/dev/null; then log "force-killing ${PNAME[$pid]:-$pid}"; kill -KILL -- "-$pid" 2>/dev/null; fi
    wait "$pid" 2>/dev/null
  done
}
stop_all() { stop_pids "${PIDS[@]}"; PIDS=(); }
trap stop_all EXIT
trap 'log interrupted; exit 130' INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_http() {  # wait_http URL: up to 20 s for any HTTP answer
  local i code
  for ((i = 0; i < 200; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" 2>/dev/null)
    [[ $code != 000 && -n $code ]] && return 0
    sleep 0.1
  done
  die "$1 never answered"
}

# ---------------------------------------------------------------- builds
SIDECAR_DIR=${SIDECAR_DIR:-}
if [[ -z $SIDECAR_DIR ]]; then
  SIDECAR_DIR="$OUT/sidecar"
  log "publishing Sidecar (docker/publish.sh) to $SIDECAR_DIR"
  rm -rf "$SIDECAR_DIR"
  timeout 600 bash "$REPO/docker/publish.sh" "$SIDECAR_DIR" >"$RUN/sidecar-publish.log" 2>&1 \
    || { tail -30 "$RUN/sidecar-publish.log" >&2; die "publish failed"; }
fi
[[ -f $SIDECAR_DIR/sidecar.dll || -x $SIDECAR_DIR/sidecar ]] || die "no sidecar.dll or sidecar executable in $SIDECAR_DIR"
SIDECAR_B_DIR=${SIDECAR_B_DIR:-}; SIDECAR_B_ENV=${SIDECAR_B_ENV:-}; B=sidecar-b
if [[ -z $SIDECAR_B_DIR && -z $SIDECAR_B_ENV && ${SIDECAR_JIT:-yes} != no ]]; then
  B=sidecar-jit; SIDECAR_B_DIR="$OUT/sidecar-jit"
  log "publishing Sidecar (SIDECAR_BUILD=jit docker/publish.sh) to $SIDECAR_B_DIR"
  rm -rf "$SIDECAR_B_DIR"
  SIDECAR_BUILD=jit timeout 600 bash "$REPO/docker/publish.sh" "$SIDECAR_B_DIR" >"$RUN/sidecar-jit-publish.log" 2>&1 \
    || { tail -30 "$RUN/sidecar-jit-publish.log" >&2; die "JIT publish failed"; }
fi
# A published directory runs as `dotnet sidecar.dll` (JIT build) or as its native `sidecar` executable.
sidecar_exe() { if [[ -f $1/sidecar.dll ]]; then echo "dotnet $1/sidecar.dll"; else echo "$1/sidecar"; fi; }

YARP_DIR="$OUT/yarp-build"; YARP_BIN="$YARP_DIR/bin/Release/net10.0/YarpBare"
mkdir -p "$YARP_DIR"
cp -p "$PEERS/yarp/Program.cs" "$PEERS/yarp/YarpBare.csproj" "$YARP_DIR/"
if [[ ! -x $YARP_BIN || $YARP_DIR/Program.cs -nt $YARP_BIN || $YARP_DIR/YarpBare.csproj -nt $YARP_BIN ]]; then
  log "building bare YARP (Release)"
  (cd "$YARP_DIR" && timeout 300 dotnet build -c Release -nologo -v q) >"$RUN/yarp-build.log" 2>&1 \
    || { tail -30 "$RUN/yarp-build.log" >&2; die "bare YARP build failed"; }
fi
# The same sources as a Native AOT executable (needs clang and zlib1g-dev, as docker/publish.sh's native build).
YARP_AOT_BIN="$YARP_DIR/aot/YarpBare"
if [[ " $TARGETS " == *" yarp-aot "* ]] && [[ ! -x $YARP_AOT_BIN || $YARP_DIR/Program.cs -nt $YARP_AOT_BIN || $YARP_DIR/YarpBare.csproj -nt $YARP_AOT_BIN ]]; then
  log "publishing bare YARP (Native AOT)"
  (cd "$YARP_DIR" && timeout 600 dotnet publish -c Release --use-current-runtime \
      -p:PublishAot=true -o "$YARP_DIR/aot" -nologo -v q) >"$RUN/yarp-aot-build.log" 2>&1 \
    || { tail -30 "$RUN/yarp-aot-build.log" >&2; die "bare YARP Native AOT publish failed (clang and zlib1g-dev installed?)"; }
fi

# ---------------------------------------------------------------- Sidecar's config
SIDECAR_PORT=18121; SIDECAR_ADMIN=19121; SIDECAR_B_PORT=18131; SIDECAR_B_ADMIN=19131
sidecar_config() {  # sidecar_config PROXY_PORT ADMIN_PORT > FILE
  cat <<EOF
# Generated by tests/bench/run.sh: one Sidecar, three routes.
listen:
  proxy: http://127.0.0.1:$1
  admin: http://127.0.0.1:$2
clusters:
  ok: { destinations: [http://127.0.0.1:18081] }
  flaky: { destinations: [http://127.0.0.1:18082] }
  down: { destinations: [http://127.0.0.1:18083] }
policies:
  bench:
    max_attempts: 3
    retry_on: { status: [503] }
    backoff: { algorithm: exponential, base: 1ms, max: 10ms, jitter: full }${SIDECAR_BUDGET:+
    budget: $SIDECAR_BUDGET}
routes:
  - { name: flaky, match: { path: "/flaky/{**rest}" }, cluster: flaky, policy: bench }
  - { name: down, match: { path: "/down/{**rest}" }, cluster: down, policy: bench }
  - { name: ok, cluster: ok }
limits: { drain_delay: 0s, drain_timeout: 2s }
EOF
}
sidecar_config $SIDECAR_PORT $SIDECAR_ADMIN >"$RUN/sidecar.yaml"
# shellcheck disable=SC2046
SIDECAR_CMD=(env $SIDECAR_ENV $(sidecar_exe "$SIDECAR_DIR") run --config "$RUN/sidecar.yaml")
# The second Sidecar (the JIT build, or "sidecar-b" for A/B tuning in the same interleaved run).
if [[ -n $SIDECAR_B_DIR || -n $SIDECAR_B_ENV ]]; then
  sidecar_config $SIDECAR_B_PORT $SIDECAR_B_ADMIN >"$RUN/sidecar-b.yaml"
  # shellcheck disable=SC2046
  SIDECAR_B_CMD=(env $SIDECAR_B_ENV $(sidecar_exe "${SIDECAR_B_DIR:-$SIDECAR_DIR}") run --config "$RUN/sidecar-b.yaml")
  [[ " $TARGETS " == *" $B "* ]] || TARGETS="$TARGETS $B"
fi

# ---------------------------------------------------------------- startup to ready (unpinned, nothing else running)
STARTUP="$RUN/startup.tsv"; : >"$STARTUP"
startups() {  # startups TARGET ADMIN_PORT COMMAND...: STARTS times exec -> first 200 on /readyz, one "TARGET ms" line each
  local target=$1 admin=$2 s i t_start spid ready; shift 2
  for ((s = 1; s <= STARTS; s++)); do
    port_busy "$admin" && die "port $admin already in use"
    t_start=$(date +%s%N)
    start_bg "$target-start$s" no "$@"
    spid=${PIDOF[$target-start$s]}; ready=""
    for ((i = 0; i < 1000; i++)); do
      if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 0.5 "http://127.0.0.1:$admin/readyz" 2>/dev/null) == 200 ]]; then
        ready=$(( ($(date +%s%N) - t_start) / 1000000 )); break
      fi
      kill -0 "$spid" 2>/dev/null || break
      sleep 0.005
    done
    [[ -n $ready ]] || { cat "$RUN/$target-start$s.out" >&2; die "$target never became ready"; }
    echo "$target $ready" >>"$STARTUP"; log "startup $target $s: ready after $ready ms"
    stop_all
  done
}
startups sidecar $SIDECAR_ADMIN "${SIDECAR_CMD[@]}"
[[ -n ${SIDECAR_B_CMD+x} ]] && startups "$B" $SIDECAR_B_ADMIN "${SIDECAR_B_CMD[@]}"

# ---------------------------------------------------------------- the stack
pin=no; workers=2
[[ $MODE == pinned ]] && { pin=yes; workers=1; }
for p in 18081 18082 18083 18091 18093 18095 18101 18102 18103 18109 18111 18112 18113 18114 18115 18116 $SIDECAR_PORT $SIDECAR_ADMIN $SIDECAR_B_PORT $SIDECAR_B_ADMIN; do
  port_busy "$p" && die "port $p already in use - refusing to measure a stranger"
done
start_bg upstream "$pin" nginx -p "$OUT/" -e "$RUN/upstream.error.log" -c "$PEERS/conf/upstream-nginx.conf" \
  -g "daemon off; pid $RUN/upstream.nginx.pid;"
start_bg upstream-down "$pin" nginx -p "$OUT/" -e "$RUN/down.error.log" -c "$HERE/conf/down-upstream-nginx.conf" \
  -g "daemon off; pid $RUN/down.nginx.pid; worker_processes 1;"
start_bg nginx-proxy "$pin" nginx -p "$OUT/" -e "$RUN/proxy.error.log" -c "$PEERS/conf/proxy-nginx.conf" \
  -g "daemon off; pid $RUN/proxy.nginx.pid; worker_processes $workers;"
start_bg nginx-proxy-down "$pin" nginx -p "$OUT/" -e "$RUN/proxy-down.error.log" -c "$HERE/conf/down-proxy-nginx.conf" \
  -g "daemon off; pid $RUN/proxy-down.nginx.pid; worker_processes $workers;"
NBTHREAD=$workers start_bg haproxy "$pin" haproxy -db -f "$PEERS/conf/proxy-haproxy.cfg"
NBTHREAD=$workers start_bg haproxy-down "$pin" haproxy -db -f "$HERE/conf/down-haproxy.cfg"
start_bg yarp "$pin" "$YARP_BIN" --Map "18111=http://127.0.0.1:18081/;18112=http://127.0.0.1:18082/;18113=http://127.0.0.1:18083/"
[[ " $TARGETS " == *" yarp-aot "* ]] && start_bg yarp-aot "$pin" "$YARP_AOT_BIN" \
  --Map "18114=http://127.0.0.1:18081/;18115=http://127.0.0.1:18082/;18116=http://127.0.0.1:18083/"
start_bg sidecar "$pin" "${SIDECAR_CMD[@]}"
[[ -n ${SIDECAR_B_CMD+x} ]] && start_bg "$B" "$pin" "${SIDECAR_B_CMD[@]}"
for u in 18081 18082 18083 18091 18093 18095 18101 18102 18103 18111 18112 18113; do wait_http "http://127.0.0.1:$u/"; done
[[ " $TARGETS " == *" yarp-aot "* ]] && for u in 18114 18115 18116; do wait_http "http://127.0.0.1:$u/"; done
wait_http "http://127.0.0.1:$SIDECAR_ADMIN/readyz"
[[ -n ${SIDECAR_B_CMD+x} ]] && wait_http "http://127.0.0.1:$SIDECAR_B_ADMIN/readyz"

# ---------------------------------------------------------------- load
url_of() {  # url_of SCENARIO TARGET
  case "$1:$2" in
    success:direct|post:direct) echo http://127.0.0.1:18081/;;
    success:nginx|post:nginx) echo http://127.0.0.1:18091/;;
    success:haproxy|post:haproxy) echo http://127.0.0.1:18101/;;
    success:yarp|post:yarp) echo http://127.0.0.1:18111/;;
    success:yarp-aot|post:yarp-aot) echo http://127.0.0.1:18114/;;
    success:sidecar|post:sidecar) echo "http://127.0.0.1:$SIDECAR_PORT/";;
    "success:$B"|"post:$B") echo "http://127.0.0.1:$SIDECAR_B_PORT/";;
    "flaky:$B") echo "http://127.0.0.1:$SIDECAR_B_PORT/flaky/";;
    "down:$B") echo "http://127.0.0.1:$SIDECAR_B_PORT/down/";;
    flaky:direct) echo http://127.0.0.1:18082/;;
    flaky:nginx) echo http://127.0.0.1:18093/;;
    flaky:haproxy) echo http://127.0.0.1:18102/;;
    flaky:yarp) echo http://127.0.0.1:18112/;;
    flaky:yarp-aot) echo http://127.0.0.1:18115/;;
    flaky:sidecar) echo "http://127.0.0.1:$SIDECAR_PORT/flaky/";;
    down:direct) echo http://127.0.0.1:18083/;;
    down:nginx) echo http://127.0.0.1:18095/;;
    down:haproxy) echo http://127.0.0.1:18103/;;
    down:yarp) echo http://127.0.0.1:18113/;;
    down:yarp-aot) echo http://127.0.0.1:18116/;;
    down:sidecar) echo "http://127.0.0.1:$SIDECAR_PORT/down/";;
  esac
}
attempt_log() { case $1 in flaky) echo "$RUN/flaky_access.log";; down) echo "$RUN/down_access.log";; *) echo "";; esac; }
lines() { [[ -f $1 ]] && wc -l <"$1" || echo 0; }
rss_kib() { awk '/^VmRSS/{r=$2} /^RssAnon/{a=$2} END{print r+0, a+0}' "/proc/$1/status" 2>/dev/null || echo 0 0; }
# CPU ticks (user + system) of every process in a process group: each start_bg process leads its own (setsid).
pg_ticks() { [[ -n $1 ]] || { echo 0; return; }; cat /proc/[0-9]*/stat 2>/dev/null | awk -v g="$1" '{ sub(/^.*\) /, ""); if ($3 == g) t += $12 + $13 } END { print t + 0 }'; }
owner_of() {  # owner_of SCENARIO TARGET -> the start_bg name of the process serving it
  case "$1:$2" in
    down:direct) echo upstream-down;; *:direct) echo upstream;;
    down:nginx) echo nginx-proxy-down;; *:nginx) echo nginx-proxy;;
    down:haproxy) echo haproxy-down;; *:haproxy) echo haproxy;;
    *) echo "$2";;
  esac
}
kv() { local v; v=$(sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"); echo "${v:-0}"; }

wrk_cmd() {  # wrk_cmd SECONDS URL -> the command line
  local pre=()
  [[ $MODE == pinned ]] && pre=(taskset -c "$LOAD_CPU")
  echo timeout -k 2 $(($1 + 20)) "${pre[@]}" wrk -t1 "-c$CONNS" --timeout 5s --latency -s "$HERE/conf/wrk.lua" "-d$1s" "$2"
}

TSV="$RUN/results.tsv"
printf 'scenario\ttarget\trep\trequests\trps\tp50_us\tp99_us\tnon2xx\tsockerr\tupstream\trss_kib\tanon_kib\tcpu_ticks\tp999_us\n' >"$TSV"
measure() {  # measure SCENARIO TARGET REP SECONDS [BODY_BYTES]
  local scenario=$1 target=$2 rep=$3 secs=$4 body=${5:-0} url out alog l0 up pid wpid rss=0 anon=0 r a line owner c0 c1
  url=$(url_of "$scenario" "$target"); out="$RUN/wrk-$scenario-$target-$rep.txt"; alog=$(attempt_log "$scenario")
  pid=""; [[ $target == yarp* || $target == sidecar* ]] && pid=${PIDOF[$target]}
  l0=$(lines "$alog")
  owner=${PIDOF[$(owner_of "$scenario" "$target")]:-}; c0=$(pg_ticks "$owner")
  # shellcheck disable=SC2046
  BODY_BYTES=$body $(wrk_cmd "$secs" "$url") >"$out" 2>&1 &
  wpid=$!
  while kill -0 "$wpid" 2>/dev/null; do
    if [[ -n $pid ]]; then read -r r a < <(rss_kib "$pid"); ((r > rss)) && rss=$r; ((a > anon)) && anon=$a; fi
    sleep 0.5
  done
  wait "$wpid"
  c1=$(pg_ticks "$owner")
  up=-
  if [[ -n $alog ]]; then sleep 1.5; up=$(( $(lines "$alog") - l0 )); fi   # access logs flush every 1 s
  line=$(grep -m1 '^WRKRESULT' "$out" || echo "WRKRESULT requests=0 rps=0 p50_us=0 p99_us=0 non2xx3xx=0 sock_connect=1")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\n' "$scenario" "$target" "$rep" "$(kv requests "$line")" "$(kv rps "$line")" \
    "$(kv p50_us "$line")" "$(kv p99_us "$line")" "$(kv non2xx3xx "$line")" \
    "$(( $(kv sock_connect "$line") + $(kv sock_read "$line") + $(kv sock_write "$line") + $(kv sock_timeout "$line") ))" \
    "$up" "$rss" "$anon" "$((c1 - c0))" >>"$TSV"
  log "$scenario $target rep $rep: $(kv rps "$line") req/s p50=$(kv p50_us "$line")us p99=$(kv p99_us "$line")us non2xx=$(kv non2xx3xx "$line") upstream=$up rss=${rss}KiB"
}

# Fixed rate: h2load (HTTP/1.1, CONNS connections, each at RATE/CONNS req/s) for RATE_DUR s after an unmeasured
# RATE_WARMUP s. Latencies are the 2xx answers of the measured part, from h2load's per-request log.
measure_rate() {  # measure_rate RATE TARGET REP
  local rate=$1 target=$2 rep=$3 scenario="rate$1" url out pid owner c0 c1 rss=0 anon=0 r a hpid line pre=() per n rps p50 p99 non2xx sockerr p999
  url=$(url_of success "$target"); out="$RUN/h2load-$scenario-$target-$rep"
  pid=""; [[ $target == yarp* || $target == sidecar* ]] && pid=${PIDOF[$target]}
  owner=${PIDOF[$(owner_of success "$target")]:-}; c0=$(pg_ticks "$owner")
  [[ $MODE == pinned ]] && pre=(taskset -c "$LOAD_CPU")
  per=$(awk -v r="$rate" -v c="$CONNS" 'BEGIN { printf "%.3f", r / c }')
  timeout -k 2 $((RATE_DUR + RATE_WARMUP + 20)) "${pre[@]}" h2load --h1 "-c$CONNS" "--rps=$per" "-D$RATE_DUR" \
    "--warm-up-time=$RATE_WARMUP" "--log-file=$out.log" "$url" >"$out.txt" 2>&1 &
  hpid=$!
  while kill -0 "$hpid" 2>/dev/null; do
    if [[ -n $pid ]]; then read -r r a < <(rss_kib "$pid"); ((r > rss)) && rss=$r; ((a > anon)) && anon=$a; fi
    sleep 0.5
  done
  wait "$hpid"
  c1=$(pg_ticks "$owner")
  # requests = every logged request (warm-up included: the CPU ticks cover it too); rps = the measured part's rate.
  line=$(python3 - "$out.txt" "$out.log" "$RATE_WARMUP" "$RATE_DUR" <<'PY'
import re, sys
txt, log, warm, dur = open(sys.argv[1]).read(), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
m = re.search(r"requests: (\d+) total, \d+ started, \d+ done, \d+ succeeded, \d+ failed, (\d+) errored, (\d+) timeout", txt)
total, errored, timeouts = (int(x) for x in m.groups()) if m else (0, 1, 0)
try:
    rows = [l.split("\t") for l in open(log)]
except OSError:
    rows = []
start0 = min((int(r[0]) for r in rows), default=0)
lat = sorted(int(r[2]) for r in rows if int(r[0]) >= start0 + warm * 1e6 and r[1].startswith("2"))
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0
non2xx = sum(1 for r in rows if not r[1].startswith("2"))
print(len(rows), f"{total / dur:.1f}", pct(0.50), pct(0.99), non2xx, errored + timeouts, pct(0.999))
PY
)
  read -r n rps p50 p99 non2xx sockerr p999 <<<"$line"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\t%s\t%s\t%s\t%s\n' "$scenario" "$target" "$rep" "$n" "$rps" "$p50" "$p99" "$non2xx" \
    "$sockerr" "$rss" "$anon" "$((c1 - c0))" "$p999" >>"$TSV"
  log "$scenario $target rep $rep: $rps req/s p50=${p50}us p99=${p99}us p99.9=${p999}us non2xx=$non2xx errors=$sockerr"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
warm_dotnet() {  # warm_dotnet TARGET: 5 s load + 2 s idle until the process stops recompiling (quiet when idle)
  local target=$1 pid=${PIDOF[$1]} c a b
  for ((c = 1; c <= WARMUP_DOTNET_MAX_CYCLES; c++)); do
    # shellcheck disable=SC2046
    $(wrk_cmd 5 "$(url_of success "$target")") >"$RUN/warm-$target-$c.txt" 2>&1
    a=$(cpu_ticks "$pid"); sleep 2; b=$(cpu_ticks "$pid")
    log "warm-up $target cycle $c: $(grep -o 'rps=[0-9]*' "$RUN/warm-$target-$c.txt") idle-cpu-after=$((b - a)) ticks/2s"
    ((c >= 2 && b - a < 10)) && break
  done
}

has() { [[ " $1 " == *" $2 "* ]]; }
read -r -a TG <<<"$TARGETS"
log "pre-warm: ${PREWARM}s of direct load (the VM's vCPUs run slower for the first seconds of load after idling)"
# shellcheck disable=SC2046
$(wrk_cmd "$PREWARM" http://127.0.0.1:18081/) >"$RUN/prewarm.txt" 2>&1
for t in "${TG[@]}"; do
  case $t in
    yarp*|sidecar*) warm_dotnet "$t";;
    # shellcheck disable=SC2046
    *) $(wrk_cmd "$WARMUP" "$(url_of success "$t")") >"$RUN/warm-$t.txt" 2>&1;;
  esac
done
for t in sidecar "$B"; do   # the retry routes get their JIT and connection pools before being counted
  has "$TARGETS" $t || continue
  for s in flaky down; do has "$SCENARIOS" $s || continue
    # shellcheck disable=SC2046
    $(wrk_cmd 3 "$(url_of $s $t)") >"$RUN/warm-$t-$s.txt" 2>&1
  done
  sleep 2
done

interleaved() {  # interleaved SCENARIO REPS SECONDS [BODY_BYTES]: start target rotated each rep
  local n=${#TG[@]} r i
  for ((r = 1; r <= $2; r++)); do
    for ((i = 0; i < n; i++)); do measure "$1" "${TG[$(((i + r - 1) % n))]}" "$r" "$3" "${4:-0}"; done
  done
}
has "$SCENARIOS" success && interleaved success "$REPS" "$DUR"
has "$SCENARIOS" post && interleaved post "$POST_REPS" "$SHORT_DUR" $((BODY_KIB * 1024))
has "$SCENARIOS" flaky && interleaved flaky 1 "$SHORT_DUR"
has "$SCENARIOS" down && interleaved down 1 "$SHORT_DUR"
if has "$SCENARIOS" rate; then
  for rate in $RATES; do   # interleaved as the other scenarios: the start target rotates each rep
    for ((r = 1; r <= RATE_REPS; r++)); do
      for ((i = 0; i < ${#TG[@]}; i++)); do measure_rate "$rate" "${TG[$(((i + r - 1) % ${#TG[@]}))]}" "$r"; done
    done
  done
fi
SIDECAR_HWM=$(awk '/^VmHWM/{print $2}' "/proc/${PIDOF[sidecar]}/status" 2>/dev/null || echo 0)
JIT_BUILDS=""   # the Sidecar targets run by `dotnet sidecar.dll`: compared with the JIT bare YARP, the others with yarp-aot
[[ -f $SIDECAR_DIR/sidecar.dll ]] && JIT_BUILDS+=" sidecar"
[[ -n ${SIDECAR_B_CMD+x} && -f ${SIDECAR_B_DIR:-$SIDECAR_DIR}/sidecar.dll ]] && JIT_BUILDS+=" $B"
stop_all

# ---------------------------------------------------------------- report
REPORT="$RESULTS/bench-$STAMP.txt"
{
  echo "tests/bench/run.sh $STAMP  host: $(nproc) cpus ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
  echo "versions: $(nginx -v 2>&1 | sed 's/nginx version: //'), HAProxy $(haproxy -v | awk 'NR==1{print $3}'), $(wrk -v 2>&1 | awk 'NR==1{print $1" "$2}'), dotnet $(dotnet --list-runtimes | awk '/AspNetCore/{v=$2} END{print v}'), YARP 2.3.0, Sidecar $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo +dirty)"
  echo "mode: $MODE ($( [[ $MODE == pinned ]] && echo "wrk on cpu$LOAD_CPU; upstreams and proxies on cpu$SUT_CPU, one worker/thread each" || echo "no affinity, nginx/HAProxy 2 workers/threads")); load: wrk -t1 -c$CONNS --timeout 5s; success ${REPS}x${DUR}s, post ${POST_REPS}x${SHORT_DUR}s interleaved (medians), flaky/down 1x${SHORT_DUR}s, rate ${RATES// /, } req/s ${RATE_REPS}x${RATE_DUR}s interleaved (medians)${SIDECAR_ENV:+; SIDECAR_ENV=$SIDECAR_ENV}${SIDECAR_BUDGET:+; budget: $SIDECAR_BUDGET}${SIDECAR_B_CMD+; $B = ${SIDECAR_B_DIR:-same build}${SIDECAR_B_ENV:+ with $SIDECAR_B_ENV}}"
  python3 - "$TSV" "$STARTUP" "$SIDECAR_HWM" "$BODY_KIB" "$(getconf CLK_TCK)" "$CONNS" "$JIT_BUILDS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
starts = {}
for line in open(sys.argv[2]):
    target, ms = line.split()
    starts.setdefault(target, []).append(int(ms))
hwm_mib, body_kib, hz = int(sys.argv[3] or 0) / 1024, sys.argv[4], int(sys.argv[5])
jit_builds = set(sys.argv[7].split())
titles = {
    "success": "success path: GET, upstream 200 \"ok\"",
    "post": f"{body_kib} KiB POST bodies, upstream 200",
    "flaky": "flaky upstream: 503 w.p. 0.2 per attempt (nginx 3 tries, HAProxy 4, YARP 1, Sidecar max_attempts 3 + budget)",
    "down": "hard-down upstream: always 503 (same retry settings)",
}
summary = {}
for scen in ["success", "post", "flaky", "down"]:
    sr = [r for r in rows if r["scenario"] == scen]
    if not sr:
        continue
    med = {}
    for t in dict.fromkeys(r["target"] for r in sr):
        tr = [r for r in sr if r["target"] == t]
        m = lambda k: statistics.median(float(r[k] or 0) for r in tr)
        reqs = sum(int(r["requests"] or 0) for r in tr)
        bad = sum(int(r["non2xx"] or 0) + int(r["sockerr"] or 0) for r in tr)
        up = [r["upstream"] for r in tr if r["upstream"] not in ("-", "")]
        rss = max(int(r["rss_kib"] or 0) for r in tr)
        anon = max(int(r["anon_kib"] or 0) for r in tr)
        cpu = 1e6 * sum(int(r["cpu_ticks"] or 0) for r in tr) / hz / max(reqs, 1)
        med[t] = dict(rps=m("rps"), p50=m("p50_us") / 1000, p99=m("p99_us") / 1000, reps=[float(r["rps"] or 0) for r in tr],
                      ok=100 * (reqs - bad) / max(reqs, 1),
                      att=(sum(int(u) for u in up) / max(reqs, 1)) if up else None,
                      rss=rss / 1024 if rss else None, anon=anon / 1024, cpu=cpu, reqs=reqs)
    summary[scen] = med
    d = med.get("direct", {}).get("rps"); n = med.get("nginx", {}).get("rps"); y = med.get("yarp", {}).get("rps")
    ratio = lambda v, b: f"{v / b:.2f}" if b else "-"
    print(f"\n[{scen}] {titles[scen]}")
    print(f"{'target':<11} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'/direct':>7} {'/nginx':>6} {'/yarp':>6} {'success%':>8} {'att/req':>7} {'RSS MB':>6} {'anon':>5} {'cpu us':>6}  req/s per rep")
    for t, x in med.items():
        att = f"{x['att']:.3f}" if x["att"] is not None else "1"
        rss = f"{x['rss']:.0f}" if x["rss"] else "-"
        anon = f"{x['anon']:.0f}" if x["rss"] else "-"
        print(f"{t:<11} {x['rps']:>8.0f} {x['p50']:>7.3f} {x['p99']:>7.3f} {ratio(x['rps'], d):>7} {ratio(x['rps'], n):>6} {ratio(x['rps'], y):>6} "
              f"{x['ok']:>8.2f} {att:>7} {rss:>6} {anon:>5} {x['cpu']:>6.1f}  " + " ".join(f"{v:.0f}" for v in x["reps"]))
def rate_medians(scen):
    """Per target: medians of the reps' rate and latencies; requests, CPU ticks and failures summed; the highest RSS."""
    out = {}
    for t in dict.fromkeys(r["target"] for r in rows if r["scenario"] == scen):
        tr = [r for r in rows if r["scenario"] == scen and r["target"] == t]
        med = lambda k: statistics.median(float(r[k] or 0) for r in tr)
        total = lambda k: sum(int(r[k] or 0) for r in tr)
        out[t] = {"rps": med("rps"), "p50_us": round(med("p50_us")), "p99_us": round(med("p99_us")), "p999_us": round(med("p999_us")),
                  "requests": total("requests"), "cpu_ticks": total("cpu_ticks"), "non2xx": total("non2xx"), "sockerr": total("sockerr"),
                  "rss_kib": max(int(r["rss_kib"] or 0) for r in tr)}
    return out
rate_scenarios = sorted({r["scenario"] for r in rows if r["scenario"].startswith("rate")}, key=lambda v: int(v[4:]))
for scen in rate_scenarios:
    rr = rate_medians(scen)
    d, n = rr.get("direct"), rr.get("nginx")
    added = lambda r, k: int(r[k]) - int(d[k]) if d else None
    print(f"\n[{scen}] fixed rate {scen[4:]} req/s (h2load --rps, {sys.argv[6]} connections), GET, upstream 200: added latency over direct, next to nginx's")
    print(f"{'target':<11} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'p99.9':>7} {'+p50 ms':>7} {'+p99 ms':>7} {'+p50/ngx':>8} {'+p99/ngx':>8} {'errors':>6} {'RSS MB':>6} {'cpu us':>6}")
    for t, r in rr.items():
        a50, a99 = added(r, "p50_us"), added(r, "p99_us")
        n50, n99 = (added(n, "p50_us"), added(n, "p99_us")) if n else (None, None)
        rel = lambda a, b: f"{a / b:.2f}" if a is not None and b and t not in ("direct", "nginx") else "-"
        ms = lambda v: f"{v / 1000:.3f}" if v is not None and t != "direct" else "-"
        cpu = 1e6 * int(r["cpu_ticks"] or 0) / hz / max(int(r["requests"] or 0), 1)
        rss = f"{int(r['rss_kib']) / 1024:.0f}" if int(r["rss_kib"] or 0) else "-"
        # Below the offered rate the target saturated: its latencies are queueing, not what it adds.
        short = "  below the rate" if float(r["rps"]) < 0.95 * int(scen[4:]) else ""
        print(f"{t:<11} {float(r['rps']):>8.0f} {int(r['p50_us']) / 1000:>7.3f} {int(r['p99_us']) / 1000:>7.3f} {int(r['p999_us']) / 1000:>7.3f} {ms(a50):>7} {ms(a99):>7} "
              f"{rel(a50, n50):>8} {rel(a99, n99):>8} {int(r['non2xx']) + int(r['sockerr']):>6} {rss:>6} {cpu:>6.1f}{short}")
for target, ms in starts.items():
    print(f"\n{target} startup (exec -> first 200 on /readyz, unpinned): {' '.join(f'{s} ms' for s in ms)}; median {statistics.median(ms):.0f} ms", end="")
print()
print("cpu us = CPU time (user + system) of the serving process(es) per request: the proxy alone for proxies, the upstream"
      " for direct; steadier than req/s when other work shares the machine")
print(f"Sidecar peak RSS over the whole run (VmHWM): {hwm_mib:.1f} MB. RSS = VmRSS (max while loaded); anon = its RssAnon part,"
      " the rest being the runtime's mapped libraries and assemblies")
checks = []
n = summary.get("success", {}).get("nginx")
rates = {scen: rate_medians(scen) for scen in rate_scenarios}
# Every Sidecar target measured, in the fixed-rate scenarios too (a run of SCENARIOS=rate alone has no summary).
builds = [t for t in dict.fromkeys([t for v in summary.values() for t in v] + [t for v in rates.values() for t in v]) if t.startswith("sidecar")]
for build in builds:
    sc = {k: v.get(build) for k, v in summary.items()}
    s = sc.get("success")
    # The layer's cost: against bare YARP compiled the way this build is (JIT or Native AOT), when that peer ran.
    aot_measured = "yarp-aot" in summary.get("success", {}) or any("yarp-aot" in v for v in rates.values())
    peer = "yarp" if build in jit_builds or not aot_measured else "yarp-aot"
    y = summary.get("success", {}).get(peer)
    if s and n:
        checks.append((f"{build}: success throughput >= 1.0x nginx", f"{s['rps'] / n['rps']:.2f}x (cpu/req {s['cpu'] / n['cpu']:.2f}x)", s["rps"] >= n["rps"]))
        checks.append((f"{build}: success p99 <= nginx p99", f"{s['p99']:.3f} vs {n['p99']:.3f} ms", s["p99"] <= n["p99"]))
    if s and y:
        checks.append((f"{build}: within 3% of bare YARP ({peer})", f"{s['rps'] / y['rps']:.3f}x (cpu/req {s['cpu'] / y['cpu']:.2f}x)", s["rps"] >= 0.97 * y["rps"]))
    for scen, rr in sorted(rates.items(), key=lambda kv: int(kv[0][4:])):
        if build in rr and peer in rr:
            added = (int(rr[build]["p50_us"]) - int(rr[peer]["p50_us"])) / 1000
            checks.append((f"{build}: p50 at {scen[4:]} req/s <= {peer}'s + 0.1 ms", f"{added:+.3f} ms", added <= 0.1))
    f = sc.get("flaky")
    if f:
        checks.append((f"{build}: flaky: caller success >= 99.2%", f"{f['ok']:.2f}%", f["ok"] >= 99.2))
        checks.append((f"{build}: flaky: <= 1.25 upstream attempts/request", f"{f['att']:.3f}", f["att"] <= 1.25))
    dn = sc.get("down")
    if dn:
        # The upstream's log also holds the attempts of the requests wrk still had in flight when it stopped (one per
        # connection, each with up to max_attempts = 3 attempts), which wrk does not count: the reading can be above
        # the true ratio by at most that much.
        slack = int(sys.argv[6]) * 3 / max(dn["reqs"], 1)
        checks.append((f"{build}: hard-down: <= 1.25 upstream attempts/request", f"{dn['att']:.4f} (in-flight slack {slack:.4f})", dn["att"] <= 1.25 + slack))
    if s and s["rss"]:
        checks.append((f"{build}: RSS <= 60 MB at 32 connections", f"{s['rss']:.1f} MB (anon {s['anon']:.1f} MB)", s["rss"] <= 60))
    if build in starts:
        median = statistics.median(starts[build])
        checks.append((f"{build}: ready <= 300 ms after start", f"{median:.0f} ms", median <= 300))
if checks:
    print("\nissue #6 targets (measured, not asserted):")
    for name, val, ok in checks:
        print(f"  {'met    ' if ok else 'NOT met'}  {name:<57} {val}")
PY
  echo "elapsed: $(( $(date +%s) - T0 )) s; raw files: $RUN"
} | tee "$REPORT"
cp "$TSV" "$RESULTS/bench-$STAMP.tsv"
log "report: $REPORT"
