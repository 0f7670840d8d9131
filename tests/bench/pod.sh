#!/usr/bin/env bash
# tests/bench/pod.sh - Sidecar inside a pod's limits: each case runs it in its own Linux cgroup with a memory limit and a
# CPU quota, as Kubernetes does for a container with `resources.limits`. Loopback only (127.0.0.1, ports 18081, 18091,
# 18420-18429), every load run bounded in count and time, every cgroup removed at exit. ~15 min with the defaults.
#
#   tests/bench/pod.sh                                           # as root; report in tests/bench/results/pod-*.txt
#   SCENARIOS=burst MEMS=128 CPUS=0.5 BURSTS=1000 tests/bench/pod.sh                       # one case per build
#   SIDECAR_DIR=/tmp/a SIDECAR_JIT_DIR=/tmp/b tests/bench/pod.sh                          # skip publishing
#
# Scenarios:
#   burst  BURSTS (1000 2000) concurrent POSTs of BODY_KIB (60) KiB, one per connection (hey), against an upstream that
#          answers after UPSTREAM_DELAY (2) s and 503s the first attempt of each request, so every body is buffered and
#          replayed once (tests/bench/memory.sh's scenario). One fresh Sidecar per case, in a cgroup of MEMS (64 128 256)
#          MiB x CPUS (0.5 1) cores. Per case: whether it was still alive (or hung, or dead), the callers' answers by status, transport
#          errors (resets, EOFs, timeouts: must be 0), the cgroup's peak memory against its limit, the process's peak
#          RSS, p50/p99 latency, and RSS idle before and SETTLE (20) s after the burst.
#   rate   fixed request rate (RATE=1000 req/s, h2load --rps, RATE_CONNS=50 connections, RATE_DUR=10 s after a
#          RATE_WARMUP=3 s warm-up), GET, tiny bodies, upstream nginx `return 200`: direct, nginx (1 worker) and each
#          Sidecar build, each proxy alone in a cgroup of RATE_CPU (0.5) cores and RATE_MEM (128) MiB. Added latency =
#          the proxy's p50/p99 minus direct's in the same run; CPU time per request; share of CFS periods throttled.
#   start  exec to the first 200 on /readyz (polled every 2 ms without forking), STARTS (5) times per build and per CPU
#          quota in START_CPUS (0.5 1), RATE_MEM MiB: what a pod's readiness probe waits for.
# Builds: BUILDS="native jit": the Native AOT executable the image ships (docker/publish.sh) and the JIT build
#   (SIDECAR_BUILD=jit, run by `dotnet sidecar.dll`). SIDECAR_DIR / SIDECAR_JIT_DIR reuse published directories.
# Other knobs: POD_LIMITS="max_buffered_bytes: 32MiB" (extra keys of Sidecar's `limits`; by default only
#   max_waiting_retries is raised, to 5000, as in memory.sh), SIDECAR_ENV="DOTNET_X=1" (extra environment),
#   BENCH_OUT=/tmp/sidecar-pod (runtime files), SKIP_INSTALL=1, PEERS_DIR (../shared/bench: nginx configs),
#   SAMPLE_METRICS=1 (the burst's samples file also gets in-flight requests, overload state and shed counts).
# Needs root (cgroups), cgroup v2 (memory and cpu controllers) or v1 (memory and cpu hierarchies); skips otherwise.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PEERS=${PEERS_DIR:-$REPO/../shared/bench}
OUT=${BENCH_OUT:-/tmp/sidecar-pod}
RUN="$OUT/run"
RESULTS="$HERE/results"

SCENARIOS=${SCENARIOS:-"burst rate start"}; BUILDS=${BUILDS:-"native jit"}
MEMS=${MEMS:-"64 128 256"}; CPUS=${CPUS:-"0.5 1"}; BURSTS=${BURSTS:-"1000 2000"}
BODY_KIB=${BODY_KIB:-60}; UPSTREAM_DELAY=${UPSTREAM_DELAY:-2}; SETTLE=${SETTLE:-20}
RATE=${RATE:-1000}; RATE_CONNS=${RATE_CONNS:-50}; RATE_DUR=${RATE_DUR:-10}; RATE_WARMUP=${RATE_WARMUP:-3}
RATE_CPU=${RATE_CPU:-0.5}; RATE_MEM=${RATE_MEM:-128}; STARTS=${STARTS:-5}; START_CPUS=${START_CPUS:-"0.5 1"}
POD_LIMITS=${POD_LIMITS:-}; SIDECAR_ENV=${SIDECAR_ENV:-}

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { echo "pod.sh: $*" >&2; exit 1; }
skip() { echo "pod.sh: skipped: $*"; exit 0; }
has() { [[ " $1 " == *" $2 "* ]]; }

# ---------------------------------------------------------------- cgroups (v2 or v1)
[[ $(id -u) == 0 ]] || skip "creating cgroups needs root (run it as root, or with sudo)"
CG_TOP="sidecar-pod-$$"
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
  CG=v2; V2=/sys/fs/cgroup
  for c in memory cpu; do
    grep -qw "$c" "$V2/cgroup.controllers" || skip "cgroup v2 without the $c controller"
    grep -qw "$c" "$V2/cgroup.subtree_control" || echo "+$c" >"$V2/cgroup.subtree_control" 2>/dev/null \
      || skip "cannot enable the $c controller for child cgroups of $V2"
  done
  mkdir "$V2/$CG_TOP" || skip "cannot create $V2/$CG_TOP"
  echo "+memory +cpu" >"$V2/$CG_TOP/cgroup.subtree_control" || { rmdir "$V2/$CG_TOP"; skip "cannot enable memory and cpu in $V2/$CG_TOP"; }
elif [[ -f /sys/fs/cgroup/memory/memory.limit_in_bytes && -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]]; then
  CG=v1; V1MEM=/sys/fs/cgroup/memory; V1CPU=/sys/fs/cgroup/cpu
  mkdir "$V1MEM/$CG_TOP" "$V1CPU/$CG_TOP" || skip "cannot create cgroups under $V1MEM and $V1CPU"
else
  skip "no cgroup v2 (/sys/fs/cgroup/cgroup.controllers) nor v1 memory and cpu hierarchies under /sys/fs/cgroup"
fi
cg_dirs() { if [[ $CG == v2 ]]; then echo "$V2/$CG_TOP/$1"; else echo "$V1MEM/$CG_TOP/$1 $V1CPU/$CG_TOP/$1"; fi; }
cg_create() {  # cg_create NAME MEM_MIB CPUS: a fresh cgroup with that memory limit and CFS quota (period 100 ms)
  local name=$1 bytes=$(($2 * 1024 * 1024)) quota
  quota=$(awk -v c="$3" 'BEGIN { printf "%d", c * 100000 }')
  if [[ $CG == v2 ]]; then
    local d="$V2/$CG_TOP/$name"
    mkdir "$d" && echo "$bytes" >"$d/memory.max" && echo "$quota 100000" >"$d/cpu.max" || die "cannot set up cgroup $d"
    echo 0 >"$d/memory.swap.max" 2>/dev/null   # a pod has no swap
  else
    local m="$V1MEM/$CG_TOP/$name" c="$V1CPU/$CG_TOP/$name"
    mkdir "$m" "$c" && echo "$bytes" >"$m/memory.limit_in_bytes" && echo 100000 >"$c/cpu.cfs_period_us" \
      && echo "$quota" >"$c/cpu.cfs_quota_us" || die "cannot set up cgroups $m, $c"
    echo "$bytes" >"$m/memory.memsw.limit_in_bytes" 2>/dev/null   # no swap either, where swap accounting exists
  fi
}
cg_remove() {  # cg_remove NAME: kills what is left in it (only processes this script started live there), removes it
  local d i
  for d in $(cg_dirs "$1"); do
    [[ -d $d ]] || continue
    for ((i = 0; i < 50; i++)); do
      [[ -s $d/cgroup.procs ]] || break
      ((i == 0)) || xargs -r kill -KILL <"$d/cgroup.procs" 2>/dev/null
      sleep 0.1
    done
    rmdir "$d" 2>/dev/null || log "could not remove cgroup $d"
  done
}
cg_peak() {  # cg_peak NAME -> the cgroup's peak memory in bytes (0 if the kernel does not track it)
  local d; d=$(cg_dirs "$1"); d=${d%% *}
  if [[ $CG == v2 ]]; then cat "$d/memory.peak" 2>/dev/null || echo 0; else cat "$d/memory.max_usage_in_bytes"; fi
}
cg_current() {  # cg_current NAME -> the cgroup's memory now, bytes
  local d; d=$(cg_dirs "$1"); d=${d%% *}
  if [[ $CG == v2 ]]; then cat "$d/memory.current"; else cat "$d/memory.usage_in_bytes"; fi
}
cg_oom_kills() {  # cg_oom_kills NAME -> processes the kernel's OOM killer killed in it
  local d; d=$(cg_dirs "$1"); d=${d%% *}
  if [[ $CG == v2 ]]; then awk '$1 == "oom_kill" { print $2 }' "$d/memory.events"; else awk '$1 == "oom_kill" { print $2 }' "$d/memory.oom_control"; fi
}
cg_throttled() {  # cg_throttled NAME -> "periods throttled_periods"
  local d; d=$(cg_dirs "$1"); d=${d##* }
  awk '$1 == "nr_periods" { p = $2 } $1 == "nr_throttled" { t = $2 } END { print p + 0, t + 0 }' "$d/cpu.stat"
}
cg_cleanup() {
  local d
  for d in $(cg_dirs ""); do
    [[ -d $d ]] || continue
    for sub in "$d"/*/; do [[ -d $sub ]] && cg_remove "$(basename "$sub")"; done
    rmdir "$d" 2>/dev/null || log "could not remove cgroup $d"
  done
}

# ---------------------------------------------------------------- process control (by pid only)
declare -a PIDS=()
start_bg() {  # start_bg NAME CGROUP|- CMD...: own session, stdout/stderr to $RUN/NAME.out, sets STARTED_PID
  local name=$1 cg=$2 procs=""; shift 2
  if [[ $cg != - ]]; then
    local d; for d in $(cg_dirs "$cg"); do procs+=" $d/cgroup.procs"; done
    # The shell joins the cgroup(s), then execs the command: the process and all it allocates are charged there.
    set -- bash -c 'for f in '"$procs"'; do echo $$ >"$f" || exit 97; done; exec "$@"' cgexec "$@"
  fi
  setsid "$@" >"$RUN/$name.out" 2>&1 </dev/null &
  STARTED_PID=$!; PIDS+=("$STARTED_PID")
}
stop_pid() {  # stop_pid PID: TERM, up to 5 s, then KILL of its process group; its exit status in STOP_STATUS
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null; STOP_STATUS=$?
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && stop_pid "$pid"; done
  cg_cleanup
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time "${2:-1}" "$1" 2>/dev/null; }
wait_ready() {  # wait_ready URL PID SECONDS: 0 once URL answers 200, 1 if PID exits or time runs out
  local deadline=$(($(date +%s%N) + $3 * 1000000000))
  while (($(date +%s%N) < deadline)); do
    [[ $(http_code "$1" 0.5) == 200 ]] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.005
  done
  return 1
}
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
ticks_of() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU ticks of every process in a process group (nginx's master and worker).
pg_ticks() { { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v g="$1" '{ sub(/^.*\) /, ""); if ($3 == g) t += $12 + $13 } END { print t + 0 }'; }

# ---------------------------------------------------------------- prerequisites and builds
need=()
command -v hey >/dev/null || need+=(hey)
command -v h2load >/dev/null || need+=(nghttp2-client)
command -v nginx >/dev/null || need+=(nginx)
command -v curl >/dev/null || need+=(curl)
if has "$BUILDS" native && [[ -z ${SIDECAR_DIR:-} ]]; then
  command -v clang >/dev/null || compgen -c clang- | grep -qE '^clang-[0-9]+$' || need+=(clang)
  dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(zlib1g-dev)
fi
if ((${#need[@]})); then
  [[ -n ${SKIP_INSTALL:-} ]] && die "missing ${need[*]}"
  log "installing ${need[*]} with apt"
  timeout 300 apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "${need[@]}" >/dev/null \
    || die "apt-get install ${need[*]} failed"
fi
for tool in python3 setsid dotnet; do command -v "$tool" >/dev/null || die "missing $tool"; done
for f in conf/upstream-nginx.conf conf/proxy-nginx.conf; do
  [[ -f $PEERS/$f ]] || die "peer file $PEERS/$f not found: the shared peer baseline is expected in ../shared/bench beside the repository (set PEERS_DIR)"
done
# Thousands of connections: hey's, Sidecar's on both sides, the upstream's.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

mkdir -p "$RESULTS"; rm -rf "$RUN"; mkdir -p "$RUN"
STAMP=$(date +%Y%m%d-%H%M%S); T0=$(date +%s)
declare -A DIR_OF=()
for build in $BUILDS; do
  case $build in
    native) dir=${SIDECAR_DIR:-}; env=(); target="$OUT/sidecar";;
    jit) dir=${SIDECAR_JIT_DIR:-}; env=(SIDECAR_BUILD=jit); target="$OUT/sidecar-jit";;
    *) die "BUILDS: native or jit, got $build";;
  esac
  if [[ -z $dir ]]; then
    dir=$target; rm -rf "$dir"
    log "publishing the $build build (docker/publish.sh) to $dir"
    env "${env[@]}" timeout 900 bash "$REPO/docker/publish.sh" "$dir" >"$RUN/publish-$build.log" 2>&1 \
      || { tail -30 "$RUN/publish-$build.log" >&2; die "$build publish failed"; }
  fi
  [[ -f $dir/sidecar.dll || -x $dir/sidecar ]] || die "no sidecar.dll or sidecar executable in $dir"
  DIR_OF[$build]=$dir
done
sidecar_cmd() {  # sidecar_cmd BUILD CONFIG -> the command line, as the image (native) or `dotnet sidecar.dll` (jit) runs it
  local dir=${DIR_OF[$1]} exe
  if [[ -f $dir/sidecar.dll ]]; then exe="dotnet $dir/sidecar.dll"; else exe="$dir/sidecar"; fi
  echo env $SIDECAR_ENV "$exe" run --config "$2"
}

PROXY=18420; ADMIN=18429; SLOW=18421
for p in 18081 18082 18091 18092 18093 18094 $PROXY $ADMIN $SLOW; do
  port_busy "$p" && die "port $p already in use - refusing to measure a stranger (is run.sh running?)"
done
cat >"$RUN/sidecar.yaml" <<YAML
# Generated by tests/bench/pod.sh.
listen: { proxy: "http://127.0.0.1:$PROXY", admin: "http://127.0.0.1:$ADMIN" }
clusters:
  slow: { destinations: ["http://127.0.0.1:$SLOW"] }
  ok: { destinations: ["http://127.0.0.1:18081"] }
policies:
  upload:
    max_attempts: 2
    backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
    methods: [POST]
    timeout: 30s
    budget: off
    max_concurrent_retries: 5000
  get:
    max_attempts: 3
    retry_on: { status: [503] }
    backoff: { algorithm: exponential, base: 1ms, max: 10ms, jitter: full }
routes:
  - { name: upload, match: { path: /upload }, cluster: slow, policy: upload }
  - { name: ok, cluster: ok, policy: get }
limits: { max_waiting_retries: 5000, drain_delay: 0s, drain_timeout: 2s${POD_LIMITS:+, $POD_LIMITS} }
YAML

TSV_BURST="$RUN/burst.tsv"; TSV_RATE="$RUN/rate.tsv"; TSV_START="$RUN/start.tsv"
printf 'build\tmem_mib\tcpus\tburst\tready\talive\tstatuses\ttransport_errors\tcg_peak_mib\thwm_mib\tp50_s\tp99_s\tidle_rss_mib\tsettled_rss_mib\tsettle_s\toom_kills\tend\n' >"$TSV_BURST"
printf 'target\tcpus\tmem_mib\trate\trequests\tachieved\tok\tfailed\tp50_us\tp99_us\tp999_us\tcpu_us_per_req\tthrottled_pct\tcg_peak_mib\n' >"$TSV_RATE"
printf 'build\tcpus\tmem_mib\tms\n' >"$TSV_START"

# ---------------------------------------------------------------- burst
# With SAMPLE_METRICS=1, each sample also reads the overload protection's view from /metrics (a scrape costs the
# Sidecar under test some CPU, hence off by default): time, requests in flight, overload state, and the shed counters.
overload_sample() {
  [[ ${SAMPLE_METRICS:-0} == 1 ]] || return 0
  printf ' %s ' "$(date +%T.%N | cut -c1-12)"
  curl -s --max-time 1 "http://127.0.0.1:$ADMIN/metrics" | awk '
    /^sidecar_inflight_requests/ { i = $2 } /^sidecar_overload_state/ { s = $2 }
    /^sidecar_overload_shed_total/ { match($0, /action="[a-z_]+"/); a = substr($0, RSTART + 8, RLENGTH - 9); c = c " " a "=" $2 }
    END { printf "inflight=%s state=%s%s", i, s, c }'
}
burst_case() {  # burst_case BUILD MEM_MIB CPUS REQUESTS
  local build=$1 mem=$2 cpus=$3 n=$4 name="b-$1-$2-$3-$4" pid sampler ready=no alive=- statuses=- errors=- p50=- p99=-
  local idle=0 settled=0 settle_s=- hwm=0 peak end cmd
  cg_create "$name" "$mem" "$cpus"
  read -r -a cmd <<<"$(sidecar_cmd "$build" "$RUN/sidecar.yaml")"
  start_bg "$name" "$name" "${cmd[@]}"; pid=$STARTED_PID
  if wait_ready "http://127.0.0.1:$ADMIN/readyz" "$pid" 30; then
    ready=yes; sleep 1; idle=$(rss_kib "$pid")
    # Peak RSS and whether the process lives, sampled while the burst runs (VmHWM is read at the end as well).
    ( while kill -0 "$pid" 2>/dev/null; do echo "$(rss_kib "$pid") $(cg_current "$name")$(overload_sample)"; sleep 0.2; done ) >"$RUN/$name.samples" 2>/dev/null &
    sampler=$!
    timeout -k 5 150 hey -n "$n" -c "$n" -t 60 -m POST -D "$RUN/body.bin" -T application/octet-stream \
      "http://127.0.0.1:$PROXY/upload" >"$RUN/$name.hey" 2>&1
    hwm=$(hwm_kib "$pid")
    # alive: the process answers /healthz; hung: it runs but does not answer within 5 s; dead: it exited.
    if ! kill -0 "$pid" 2>/dev/null; then alive=dead
    elif [[ $(http_code "http://127.0.0.1:$ADMIN/healthz" 5) == 200 ]]; then alive=yes
    else alive=hung; fi
    curl -s --max-time 5 "http://127.0.0.1:$ADMIN/metrics" >"$RUN/$name.metrics" 2>/dev/null
    statuses=$(awk '/^Status code distribution:/ { on = 1; next } on && /^[ \t]*\[[0-9]+\]/ { gsub(/[\[\]]/, "", $1); s = s (s ? " " : "") $1 "=" $2; next } on { on = 0 } END { print s ? s : "none" }' "$RUN/$name.hey")
    errors=$(awk '/^Error distribution:/ { on = 1; next } on && /^[ \t]*\[[0-9]+\]/ { gsub(/[\[\]]/, "", $1); e += $1 } END { print e + 0 }' "$RUN/$name.hey")
    # Callers hey never heard from (it was killed by the timeout) are transport errors too.
    local answered; answered=$(awk '/^Status code distribution:/ { on = 1; next } on && /^[ \t]*\[[0-9]+\]/ { a += $2 } END { print a + 0 }' "$RUN/$name.hey")
    ((answered + errors < n)) && errors=$((n - answered))
    p50=$(awk '$1 == "50%" && $2 == "in" { print $3 }' "$RUN/$name.hey"); p99=$(awk '$1 == "99%" && $2 == "in" { print $3 }' "$RUN/$name.hey")
    if [[ $alive == yes ]]; then
      # Memory given back: RSS each second for SETTLE s; settle_s = first second at <= 1.5x the idle RSS.
      local s r
      for ((s = 1; s <= SETTLE; s++)); do
        sleep 1; r=$(rss_kib "$pid"); settled=$r
        [[ $settle_s == - ]] && ((r * 2 <= idle * 3)) && settle_s=$s
      done
    fi
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
    if [[ $hwm == 0 ]]; then hwm=$(awk 'NF >= 2 && $1 > m { m = $1 } END { print m + 0 }' "$RUN/$name.samples"); fi
  fi
  peak=$(cg_peak "$name")
  [[ $peak == 0 ]] && peak=$(awk 'NF >= 2 && $2 > m { m = $2 } END { print m + 0 }' "$RUN/$name.samples" 2>/dev/null || echo 0)
  local oom; oom=$(cg_oom_kills "$name")
  if kill -0 "$pid" 2>/dev/null; then
    stop_pid "$pid"; end="stopped (exit $STOP_STATUS)"
  else
    wait "$pid" 2>/dev/null; local st=$?
    # The runtime's last words (its log lines may interleave with them).
    local words; words=$(grep -o -m1 -E 'Insufficient memory to continue the execution of the program|Out of memory|Fatal error\.[^0-9]{0,60}|Unhandled exception\.( [A-Z][A-Za-z.]+Exception)?' "$RUN/$name.out" | head -1)
    end="died (exit $st$( ((st > 128)) && echo ", signal $((st - 128))"))${words:+: $words}"
  fi
  cg_remove "$name"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$build" "$mem" "$cpus" "$n" "$ready" "$alive" \
    "$statuses" "$errors" "$((peak / 1048576))" "$((hwm / 1024))" "${p50:--}" "${p99:--}" "$((idle / 1024))" "$((settled / 1024))" \
    "$settle_s" "${oom:-0}" "$end" >>"$TSV_BURST"
  log "burst $build ${mem}MiB ${cpus}cpu x$n: ready=$ready alive=$alive answers: $statuses transport errors: $errors peak ${peak:+$((peak / 1048576))}/${mem} MiB (RSS $((hwm / 1024)) MiB) p50 ${p50:--} s p99 ${p99:--} s; RSS idle $((idle / 1024)) -> $((settled / 1024)) MiB after ${SETTLE}s; $end"
}

if has "$SCENARIOS" burst; then
  head -c $((BODY_KIB * 1024)) /dev/urandom >"$RUN/body.bin"
  start_bg slow-upstream - python3 "$HERE/slow_upstream.py" "$SLOW" "$UPSTREAM_DELAY"; slow_pid=$STARTED_PID
  for ((i = 0; i < 100; i++)); do port_busy "$SLOW" && break; sleep 0.1; done
  for build in $BUILDS; do for mem in $MEMS; do for cpus in $CPUS; do for n in $BURSTS; do
    burst_case "$build" "$mem" "$cpus" "$n"
  done; done; done; done
  stop_pid "$slow_pid"
fi

# ---------------------------------------------------------------- fixed rate, next to nginx
rate_run() {  # rate_run TARGET URL CGROUP|- PID_FOR_CPU PGID?: h2load at RATE req/s, one line in $TSV_RATE
  local target=$1 url=$2 cg=$3 cpu_pid=$4 pg=${5:-} per c0 c1 t0 t1 th0 th1 out="$RUN/rate-$1"
  per=$(awk -v r="$RATE" -v c="$RATE_CONNS" 'BEGIN { printf "%.3f", r / c }')
  cpu_ticks() { if [[ -n $pg ]]; then pg_ticks "$pg"; else ticks_of "$cpu_pid"; fi; }
  c0=$(cpu_ticks)
  [[ $cg != - ]] && th0=$(cg_throttled "$cg")
  timeout -k 5 $((RATE_DUR + RATE_WARMUP + 30)) h2load --h1 -c "$RATE_CONNS" --rps "$per" -D "$RATE_DUR" --warm-up-time "$RATE_WARMUP" \
    --log-file "$out.log" "$url" >"$out.txt" 2>&1
  c1=$(cpu_ticks)
  [[ $cg != - ]] && th1=$(cg_throttled "$cg")
  python3 - "$out.txt" "$out.log" "$RATE_WARMUP" "$((c1 - c0))" "$(getconf CLK_TCK)" "${th0:-0 0}" "${th1:-0 0}" "$target" "$RATE" \
    "$( [[ $cg != - ]] && echo "$RATE_CPU" || echo - )" "$( [[ $cg != - ]] && echo "$RATE_MEM" || echo - )" \
    "$( [[ $cg != - ]] && echo $(($(cg_peak "$cg") / 1048576)) || echo - )" >>"$TSV_RATE" <<'PY'
import re, sys
txt, logf, warm, ticks, hz = open(sys.argv[1]).read(), sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
th0, th1 = [int(x) for x in sys.argv[6].split()], [int(x) for x in sys.argv[7].split()]
target, rate, cpus, mem, peak = sys.argv[8:13]
m = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", txt)
total, done, ok, failed, errored, timeouts = (int(x) for x in m.groups()) if m else (0,) * 6
fin = re.search(r"finished in ([\d.]+)s", txt)
rows = [l.split("\t") for l in open(logf)] if total else []
# The log also holds the warm-up's requests: keep those started after it.
start0 = min((int(r[0]) for r in rows), default=0)
lat = sorted(int(r[2]) for r in rows if int(r[0]) >= start0 + warm * 1e6 and r[1].startswith("2"))
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0
dur = float(fin.group(1)) - warm if fin else 0
periods, throttled = th1[0] - th0[0], th1[1] - th0[1]
print("\t".join(str(x) for x in [target, cpus, mem, rate, total, f"{total / dur:.0f}" if dur > 0 else 0, ok, failed + errored + timeouts,
      pct(0.50), pct(0.99), pct(0.999), f"{1e6 * ticks / hz / max(len(rows), 1):.1f}", f"{100 * throttled / periods:.1f}" if periods else "-", peak]))
PY
  log "rate $target: $(tail -1 "$TSV_RATE" | cut -f5-)"
}

if has "$SCENARIOS" rate; then
  mkdir -p "$RUN/nginx/run"
  start_bg upstream - nginx -p "$RUN/nginx/" -e "$RUN/upstream.error.log" -c "$PEERS/conf/upstream-nginx.conf" \
    -g "daemon off; pid $RUN/upstream.nginx.pid;"
  up_pid=$STARTED_PID
  for ((i = 0; i < 100; i++)); do [[ $(http_code http://127.0.0.1:18081/) == 200 ]] && break; sleep 0.1; done
  rate_run direct http://127.0.0.1:18081/ - "$up_pid" "$up_pid"
  cg_create r-nginx "$RATE_MEM" "$RATE_CPU"
  start_bg nginx-proxy r-nginx nginx -p "$RUN/nginx/" -e "$RUN/proxy.error.log" -c "$PEERS/conf/proxy-nginx.conf" \
    -g "daemon off; pid $RUN/proxy.nginx.pid; worker_processes 1;"
  px_pid=$STARTED_PID
  for ((i = 0; i < 100; i++)); do [[ $(http_code http://127.0.0.1:18091/) == 200 ]] && break; sleep 0.1; done
  rate_run nginx http://127.0.0.1:18091/ r-nginx "$px_pid" "$px_pid"
  stop_pid "$px_pid"; cg_remove r-nginx
  for build in $BUILDS; do
    cg_create "r-$build" "$RATE_MEM" "$RATE_CPU"
    read -r -a cmd <<<"$(sidecar_cmd "$build" "$RUN/sidecar.yaml")"
    start_bg "rate-$build" "r-$build" "${cmd[@]}"; pid=$STARTED_PID
    if wait_ready "http://127.0.0.1:$ADMIN/readyz" "$pid" 30; then
      rate_run "sidecar-$build" "http://127.0.0.1:$PROXY/" "r-$build" "$pid"
    else
      log "rate: sidecar-$build never became ready in ${RATE_MEM} MiB / $RATE_CPU cpu"; tail -5 "$RUN/rate-$build.out" >&2
    fi
    stop_pid "$pid"; cg_remove "r-$build"
  done
  stop_pid "$up_pid"
fi

# ---------------------------------------------------------------- start to ready
ready_ms() {  # ready_ms T0_US PID: ms from T0_US (EPOCHREALTIME in µs) to the first 200 on /readyz; "-" if PID dies or 30 s pass
  # Polled every 2 ms with bash's own /dev/tcp, read -t and EPOCHREALTIME: nothing is forked per poll (a curl forked per
  # poll costs more than some of the start's steps, and its delay would be measured with them).
  local t0=$1 pid=$2 now line stat nap
  exec {nap}<> <(:)
  while :; do
    if exec 3<>"/dev/tcp/127.0.0.1/$ADMIN"; then
      printf 'GET /readyz HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n' >&3
      IFS= read -r -t 1 line <&3
      exec 3<&-
      if [[ $line == "HTTP/1.1 200"* ]]; then
        now=${EPOCHREALTIME/[.,]/}; echo $(((now - t0) / 1000)); break
      fi
    fi 2>/dev/null
    now=${EPOCHREALTIME/[.,]/}
    read -r stat <"/proc/$pid/stat" 2>/dev/null || stat=""
    stat=${stat##*) }
    if [[ -z $stat || ${stat%% *} == Z ]] || ((now - t0 > 30000000)); then echo -; break; fi
    read -r -t 0.002 -u "$nap"
  done
  exec {nap}<&-
}
if has "$SCENARIOS" start; then
  for build in $BUILDS; do for cpus in $START_CPUS; do for ((s = 1; s <= STARTS; s++)); do
    name="s-$build-$cpus-$s"
    cg_create "$name" "$RATE_MEM" "$cpus"
    read -r -a cmd <<<"$(sidecar_cmd "$build" "$RUN/sidecar.yaml")"
    t0=${EPOCHREALTIME/[.,]/}
    start_bg "$name" "$name" "${cmd[@]}"; pid=$STARTED_PID
    ms=$(ready_ms "$t0" "$pid")
    stop_pid "$pid"; cg_remove "$name"
    printf '%s\t%s\t%s\t%s\n' "$build" "$cpus" "$RATE_MEM" "$ms" >>"$TSV_START"
    log "start $build ${cpus}cpu #$s: ready after $ms ms"
  done; done; done
fi

# ---------------------------------------------------------------- report
REPORT="$RESULTS/pod-$STAMP.txt"
{
  echo "tests/bench/pod.sh $STAMP  host: $(nproc) cpus ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r), cgroup $CG, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "versions: $(nginx -v 2>&1 | sed 's/nginx version: //'), $(h2load --version | head -1), dotnet $(dotnet --list-runtimes | awk '/AspNetCore/ { v = $2 } END { print v }'), Sidecar $(for b in $BUILDS; do printf '%s=%s ' "$b" "${DIR_OF[$b]}"; done)(checkout $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo +dirty))${POD_LIMITS:+; limits: $POD_LIMITS}${SIDECAR_ENV:+; SIDECAR_ENV=$SIDECAR_ENV}"
  python3 - "$TSV_BURST" "$TSV_RATE" "$TSV_START" "$BODY_KIB" "$UPSTREAM_DELAY" "$SETTLE" <<'PY'
import csv, statistics, sys
burst, rate, start = (list(csv.DictReader(open(f), delimiter="\t")) for f in sys.argv[1:4])
body, delay, settle = sys.argv[4:7]
if burst:
    print(f"\n[burst] N concurrent POSTs of {body} KiB, one per connection; upstream answers after {delay} s, 503 to each first attempt")
    print(f"{'build':<7} {'limit':>5} {'cpu':>4} {'burst':>5}  {'alive':<5} {'answers':<22} {'transport err':>13} {'peak/limit MiB':>14} {'RSS MiB':>7} {'p50 s':>6} {'p99 s':>6}  {'RSS idle->after':>15}  end")
    for r in burst:
        ans = r["statuses"] if r["ready"] == "yes" else "never ready"
        after = f"{r['idle_rss_mib']}->{r['settled_rss_mib']}" if r["alive"] == "yes" else "-"
        if r["alive"] == "yes":
            after += f" ({r['settle_s']} s)" if r["settle_s"] != "-" else f" (>{settle} s)"
        p = lambda v: v if v in ("-", "") else f"{float(v):.2f}"
        oom = f", OOM kills {r['oom_kills']}" if r["oom_kills"] not in ("0", "") else ""
        print(f"{r['build']:<7} {r['mem_mib']:>5} {r['cpus']:>4} {r['burst']:>5}  {r['alive']:<5} {ans:<22} {r['transport_errors']:>13} "
              f"{r['cg_peak_mib'] + '/' + r['mem_mib']:>14} {r['hwm_mib']:>7} {p(r['p50_s']):>6} {p(r['p99_s']):>6}  {after:>15}  {r['end']}{oom}")
    print(f"answers: HTTP statuses the callers got; transport err: resets, EOFs and timeouts (must be 0); peak: the cgroup's"
          f" memory high-water mark; RSS: the process's VmHWM; RSS idle->after: 1 s after ready -> {settle} s after the burst"
          f" (in parentheses: first second at <= 1.5x idle)")
if rate:
    direct = next((r for r in rate if r["target"] == "direct"), None)
    nginx = next((r for r in rate if r["target"] == "nginx"), None)
    print(f"\n[rate] fixed rate, GET, upstream nginx 200; each proxy alone in its cgroup (cpu/MiB columns); h2load --rps, latencies of 2xx after warm-up")
    print(f"{'target':<15} {'cpu':>4} {'MiB':>4} {'req/s':>6} {'ok':>7} {'failed':>6} {'p50 us':>7} {'p99 us':>7} {'p99.9':>7} {'+p50 us':>7} {'+p99 us':>7} {'+p50/ngx':>8} {'+p99/ngx':>8} {'cpu us/req':>10} {'throttled':>9} {'peak MiB':>8}")
    add = lambda r, k: int(r[k]) - int(direct[k]) if direct else None
    for r in rate:
        a50, a99 = add(r, "p50_us"), add(r, "p99_us")
        n50, n99 = (add(nginx, "p50_us"), add(nginx, "p99_us")) if nginx else (None, None)
        rel = lambda a, n: f"{a / n:.2f}" if a is not None and n and r["target"] not in ("direct", "nginx") else "-"
        print(f"{r['target']:<15} {r['cpus']:>4} {r['mem_mib']:>4} {r['achieved']:>6} {r['ok']:>7} {r['failed']:>6} {r['p50_us']:>7} {r['p99_us']:>7} {r['p999_us']:>7} "
              f"{a50 if r['target'] != 'direct' else '-':>7} {a99 if r['target'] != 'direct' else '-':>7} {rel(a50, n50):>8} {rel(a99, n99):>8} {r['cpu_us_per_req']:>10} "
              f"{(r['throttled_pct'] + ' %') if r['throttled_pct'] != '-' else '-':>9} {r['cg_peak_mib']:>8}")
    print("+p50/+p99: added latency over direct in this run; /ngx: as a multiple of nginx's added latency; throttled: share of"
          " 100 ms CFS periods in which the cgroup hit its quota")
if start:
    print("\n[start] exec -> first 200 on /readyz, inside the cgroup")
    groups = {}
    for r in start:
        groups.setdefault((r["build"], r["cpus"], r["mem_mib"]), []).append(r["ms"])
    for (b, c, m), v in groups.items():
        ok = [int(x) for x in v if x != "-"]
        med = f"median {statistics.median(ok):.0f} ms" if ok else "never ready"
        print(f"  {b:<7} {c:>4} cpu {m:>4} MiB: {' '.join(v)}  {med}")
PY
  echo "elapsed: $(( $(date +%s) - T0 )) s; raw files: $RUN"
} | tee "$REPORT"
cp "$TSV_BURST" "$RESULTS/pod-$STAMP-burst.tsv" 2>/dev/null
log "report: $REPORT"
