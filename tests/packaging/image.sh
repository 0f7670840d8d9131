#!/usr/bin/env bash
# Builds docker/Dockerfile with podman and runs the image as a pod would. Each step prints PASS or FAIL; the script
# exits non-zero when any failed. tests/packaging/check.sh runs it; it cleans up the containers and processes it made.
#
#   1. base images: the Dockerfile's defaults when the registry answers, else local stand-ins built from Debian
#      packages by tests/packaging/base-images.sh (its header says what they hold), passed as --build-arg SDK_IMAGE /
#      RUNTIME_IMAGE as for any registry mirror; the same Dockerfile and stages either way;
#   2. podman build, tagged sidecar:dev; the image is at most 50 MB and holds no shell, package manager or executable
#      other than /app/sidecar;
#   3. the image under a pod's limits: non-root, read-only root filesystem (no tmpfs either), all capabilities dropped,
#      no new privileges, --memory 128m --cpus 0.5, config directory mounted read-only. /readyz ready; a request proxied
#      to an upstream on this machine; nothing at Warning or above in the log; `podman healthcheck run` healthy; an
#      in-place edit of the mounted config reloaded (/config shows it); `sidecar validate` in the image; `podman stop
#      -t 30` during a 2-second request: the request ends 200 and the container exits 0;
#   4. docker/docker-compose.yaml through docker-compose (1.29) on podman's Docker API socket, with an override that
#      puts every service on the host network (this machine's containers have no other), loopback ports and a
#      stand-in nginx when nginx's image cannot be pulled: a request goes through, `down` drains (exit 0).
#
# Needs podman (and runc on hosts with v1 cgroups), python3, curl; mmdebstrap when stand-ins must be built; docker-compose for step 4.
# Usage: bash tests/packaging/image.sh              the check
#        bash tests/packaging/image.sh --measure    also: start-to-ready of the container and the bare executable, 5 each
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"

measure=false
[[ "${1:-}" == "--measure" ]] && measure=true

image=localhost/sidecar:dev
max_image_bytes=50000000
tag="sidecar-check-$$"
# This machine's engine cannot raise resource limits, and its containers reach the host through the host network.
engine_flags=(--network host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
pod_flags=(--read-only --read-only-tmpfs=false --cap-drop ALL --security-opt no-new-privileges --memory 128m --cpus 0.5)
# podman schedules an image's HEALTHCHECK with systemd timers, and without systemd it logs an error whenever it creates
# or removes such a container: containers made only to look at the image or time it have no health check, and the
# pod's own messages from podman go to podman.log (`podman healthcheck run` runs the check on demand either way).
helper_flags=(--no-healthcheck)

work="$(mktemp -d)"
chmod 755 "$work"
background_pids=()
compose=()
cleanup() {
  if [[ ${#compose[@]} -gt 0 ]]; then "${compose[@]}" down -t 5 > /dev/null 2>&1; fi
  podman ps -a --filter "name=$tag" --format '{{.ID}}' | xargs -r podman rm -f -t 0 > /dev/null 2>&1
  local pid
  for pid in "${background_pids[@]}"; do kill "$pid" 2> /dev/null; wait "$pid" 2> /dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

passes=0
failures=0
pass() { echo "PASS  image: $1"; passes=$((passes + 1)); }
fail() { echo "FAIL  image: $1"; failures=$((failures + 1)); }
finish() {
  echo "image: $passes passed, $failures failed"
  exit $((failures > 0 ? 1 : 0))
}

if ! command -v podman > /dev/null; then
  if [[ "${CI:-}" == "true" ]]; then fail "podman missing (bash .ci/run installs it)"; else echo "skip  image checks (no podman; apt-get install podman mmdebstrap)"; fi
  finish
fi

# crun, podman's default OCI runtime, refuses hosts whose cgroups are v1 controllers beside a v2 tree ("hybrid
# mode"); runc runs there.
if [[ -z "${CONTAINERS_CONF:-}" && "$(podman info --format '{{.Host.CgroupsVersion}}' 2> /dev/null)" != "v2" ]] && command -v runc > /dev/null; then
  printf '[engine]\nruntime = "runc"\n' > "$work/containers.conf"
  export CONTAINERS_CONF="$work/containers.conf"
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Polls until the command succeeds, for at most $1 seconds, every $poll_interval seconds.
poll_interval=0.1
wait_for() {
  local seconds="$1"
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" > /dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep "$poll_interval"
  done
}

# ---- 1. base images ----
dockerfile_default() { sed -n "s/^ARG $1=//p" docker/Dockerfile; }
sdk_default="$(dockerfile_default SDK_IMAGE)"
runtime_default="$(dockerfile_default RUNTIME_IMAGE)"
nginx_default="$(sed -n 's/^ *image: *\(nginx:.*\)$/\1/p' docker/docker-compose.yaml)"
build_args=()
nginx_image="$nginx_default"
if [[ -n "${SIDECAR_SDK_IMAGE:-}" && -n "${SIDECAR_RUNTIME_IMAGE:-}" ]]; then
  build_args=(--build-arg "SDK_IMAGE=$SIDECAR_SDK_IMAGE" --build-arg "RUNTIME_IMAGE=$SIDECAR_RUNTIME_IMAGE")
  pass "base images from SIDECAR_SDK_IMAGE / SIDECAR_RUNTIME_IMAGE"
elif timeout 300 podman pull -q "$sdk_default" > /dev/null 2>&1 && timeout 300 podman pull -q "$runtime_default" > /dev/null 2>&1 \
    && timeout 300 podman pull -q "$nginx_default" > /dev/null 2>&1; then
  pass "base images pulled: $sdk_default, $runtime_default"
else
  echo "      the registry is out of reach: building stand-ins from Debian packages (tests/packaging/base-images.sh)"
  standin=localhost/sidecar-base
  started=$SECONDS
  if timeout 1200 bash tests/packaging/base-images.sh "$standin/sdk:10.0" "$standin/runtime-deps:10.0-noble-chiseled" "$standin/nginx:latest" > "$work/base.log" 2>&1; then
    build_args=(--build-arg "SDK_IMAGE=$standin/sdk:10.0" --build-arg "RUNTIME_IMAGE=$standin/runtime-deps:10.0-noble-chiseled")
    nginx_image="$standin/nginx:latest"
    pass "stand-in base images ($((SECONDS - started)) s)"
  else
    cat "$work/base.log"
    fail "stand-in base images"
    finish
  fi
fi

# ---- 2. build ----
started=$SECONDS
if timeout 1800 podman build --format docker "${engine_flags[@]}" -f docker/Dockerfile -t "$image" "${build_args[@]}" . > "$work/build.log" 2>&1; then
  pass "podman build -f docker/Dockerfile -t sidecar:dev ($((SECONDS - started)) s)"
else
  tail -40 "$work/build.log"
  fail "podman build -f docker/Dockerfile"
  finish
fi

size="$(podman image inspect --format '{{.Size}}' "$image")"
if ((size <= max_image_bytes)); then
  pass "image size $((size / 1000000)) MB (at most $((max_image_bytes / 1000000)) MB)"
else
  fail "image size $((size / 1000000)) MB (more than $((max_image_bytes / 1000000)) MB)"
fi

# The root filesystem as the container sees it: executable files other than shared libraries, and any shell or
# package manager by name.
podman create "${helper_flags[@]}" --name "$tag-files" "$image" > /dev/null && podman export "$tag-files" | tar -tvf - > "$work/files.txt"
podman rm -f -t 0 "$tag-files" > /dev/null
executables="$(awk '$1 ~ /^-..x/ { print $NF }' "$work/files.txt" | grep -vE '\.so(\.[0-9]+)*$' | tr '\n' ' ')"
forbidden="$(awk '{ print $6 }' "$work/files.txt" | grep -E '(^|/)(sh|bash|dash|ash|busybox|apt|apt-get|dpkg|rpm|microdnf|curl|wget)$' | tr '\n' ' ')"
if [[ "$executables" == "app/sidecar " && -z "$forbidden" ]]; then
  pass "shell-less: the only executable is /app/sidecar"
else
  fail "shell-less: executables [$executables], shells or package managers [$forbidden]"
fi

if [[ "$(podman image inspect --format '{{.Config.User}}' "$image")" == "1654" ]] \
    && podman image inspect --format '{{json .Config.Healthcheck}}' "$image" | grep -q '"CMD","/app/sidecar","health"'; then
  pass "image runs as user 1654 with HEALTHCHECK [\"/app/sidecar\", \"health\"]"
else
  fail "image user $(podman image inspect --format '{{.Config.User}}' "$image"), healthcheck $(podman image inspect --format '{{json .Config.Healthcheck}}' "$image")"
fi

# ---- 3. a pod's limits ----
# An upstream on this machine: GET /slow answers after 2 s (and writes a line when it starts), anything else at once.
cat > "$work/upstream.py" << 'PY'
import http.server, sys, time
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path == "/slow":
            with open(sys.argv[2], "a") as f:
                f.write("started\n")
            time.sleep(2)
        body = ("upstream " + self.path + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
upstream_port="$(free_port)"
python3 "$work/upstream.py" "$upstream_port" "$work/slow.log" &
background_pids+=($!)
proxy_port="$(free_port)"
admin_port="$(free_port)"

mkdir -m 755 "$work/config"
write_config() {
  cat > "$work/config/sidecar.yaml" << YAML
listen: { proxy: "http://127.0.0.1:$proxy_port", admin: "http://127.0.0.1:$admin_port" }
clusters:
  app: { destinations: ["http://127.0.0.1:$upstream_port"] }
routes:
  - { name: $1, match: { path: "/{**rest}" }, cluster: app }
limits: { drain_delay: 1s, drain_timeout: 20s }
YAML
  chmod 644 "$work/config/sidecar.yaml"
}
write_config first
wait_for 10 curl -fsS "http://127.0.0.1:$upstream_port/" || fail "upstream on 127.0.0.1:$upstream_port"

pod="$tag-pod"
if podman run -d --name "$pod" "${engine_flags[@]}" "${pod_flags[@]}" -v "$work/config:/etc/sidecar:ro" "$image" > /dev/null 2>> "$work/podman.log" \
    && wait_for 30 curl -fsS "http://127.0.0.1:$admin_port/readyz"; then
  pass "pod: /readyz $(curl -sS "http://127.0.0.1:$admin_port/readyz") (user $(podman top "$pod" user | tail -1 | tr -d ' '), read-only, no capabilities, 128m, 0.5 CPU)"
else
  cat "$work/podman.log"
  podman logs "$pod" 2>&1 | tail -20
  fail "pod: /readyz never ready"
  finish
fi

if [[ "$(curl -sS "http://127.0.0.1:$proxy_port/hello")" == "upstream /hello" ]]; then
  pass "pod: GET /hello proxied to the upstream on the host"
else
  fail "pod: GET /hello not proxied"
fi

if health="$(timeout 30 podman healthcheck run "$pod" 2>> "$work/podman.log")" && [[ "$health" == "healthy" || -z "$health" ]] \
    && [[ "$(podman inspect --format '{{.State.Health.Status}}' "$pod")" == "healthy" ]]; then
  pass "pod: podman healthcheck run: healthy"
else
  fail "pod: podman healthcheck run: ${health:-?} ($(podman inspect --format '{{.State.Health.Status}}' "$pod"))"
fi

# An in-place edit (same inode, as `kubectl edit` of a mounted file does not, but an editor saving in place does).
write_config reloaded
if wait_for 30 bash -c "curl -fsS http://127.0.0.1:$admin_port/config | grep -q '\"reloaded\"'"; then
  pass "pod: edited config reloaded (/config names route 'reloaded')"
else
  podman logs "$pod" 2>&1 | tail -10
  fail "pod: edited config not reloaded within 30 s"
fi

if validate="$(podman run --rm "${helper_flags[@]}" "${engine_flags[@]}" "${pod_flags[@]}" -v "$work/config:/etc/sidecar:ro" "$image" validate 2> "$work/validate.err")" \
    && grep -q "/etc/sidecar/sidecar.yaml: valid (1 routes" <<< "$validate"; then
  pass "sidecar validate in the image: $(head -1 <<< "$validate")"
else
  echo "$validate"
  cat "$work/validate.err"
  fail "sidecar validate in the image"
fi

# Drain: a 2-second request in flight when the pod is told to stop.
curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$proxy_port/slow" > "$work/slow.status" 2>&1 &
slow_pid=$!
wait_for 10 grep -q started "$work/slow.log"
stop_started=$SECONDS
timeout 60 podman stop -t 30 "$pod" > /dev/null 2>> "$work/podman.log"
wait "$slow_pid"
exit_code="$(podman inspect --format '{{.State.ExitCode}}' "$pod")"
if [[ "$(cat "$work/slow.status")" == "200" && "$exit_code" == "0" ]]; then
  pass "pod: podman stop -t 30 during a 2 s request: request 200, exit 0 after $((SECONDS - stop_started)) s"
else
  podman logs "$pod" 2>&1 | tail -10
  fail "pod: podman stop during a request: request $(cat "$work/slow.status"), exit code $exit_code"
fi

podman logs "$pod" > "$work/pod.log" 2>&1
if grep -qE '\b(warn|fail|crit): ' "$work/pod.log"; then
  grep -E '\b(warn|fail|crit): ' "$work/pod.log"
  fail "pod: log lines at Warning or above"
else
  pass "pod: nothing at Warning or above from start to stop ($(wc -l < "$work/pod.log") lines)"
fi
podman rm -f -t 0 "$pod" > /dev/null 2>> "$work/podman.log"

# ---- 4. docker/docker-compose.yaml ----
if ! command -v docker-compose > /dev/null; then
  if [[ "${CI:-}" == "true" ]]; then fail "compose: docker-compose missing (bash .ci/run installs it)"; else echo "skip  compose (no docker-compose)"; fi
else
  podman system service --time=0 "unix://$work/podman.sock" > "$work/service.log" 2>&1 &
  background_pids+=($!)
  wait_for 10 test -S "$work/podman.sock"
  nginx_port="$(free_port)"
  proxy_port="$(free_port)"
  admin_port="$(free_port)"
  # The demo's own config and nginx.conf, with loopback addresses: on the host network there are no service names.
  sed -e "s|0.0.0.0:8080|127.0.0.1:$proxy_port|; s|0.0.0.0:9901|127.0.0.1:$admin_port|; s|http://upstream:80|http://127.0.0.1:$nginx_port|" \
    docker/sidecar.compose.yaml > "$work/sidecar.compose.yaml"
  printf 'limits: { drain_delay: 1s, drain_timeout: 20s }\n' >> "$work/sidecar.compose.yaml"
  sed -e "s|listen 80;|listen 127.0.0.1:$nginx_port;|" docker/upstream/nginx.conf > "$work/nginx.conf"
  chmod 644 "$work/sidecar.compose.yaml" "$work/nginx.conf"
  cat > "$work/compose.override.yaml" << YAML
services:
  sidecar:
    network_mode: host
    ulimits: { nofile: 1024, nproc: 1024 }
    volumes:
      - $work/sidecar.compose.yaml:/etc/sidecar/sidecar.yaml:ro
  upstream:
    image: $nginx_image
    network_mode: host
    ulimits: { nofile: 1024, nproc: 1024 }
    volumes:
      - $work/nginx.conf:/etc/nginx/conf.d/default.conf:ro
YAML
  # Published ports mean nothing on the host network: the override file cannot remove them, so a copy without.
  sed -e '/^    ports:$/,/^    [a-z_]*:/{/^    ports:$/d; /^      - "127/d}' docker/docker-compose.yaml > "$work/docker-compose.yaml"
  cp -r docker/upstream "$work/upstream"
  compose=(env DOCKER_HOST="unix://$work/podman.sock" COMPOSE_HTTP_TIMEOUT=120 docker-compose -p "$tag" -f "$work/docker-compose.yaml" -f "$work/compose.override.yaml")
  if timeout 300 "${compose[@]}" up -d --no-build > "$work/compose-up.log" 2>&1 \
      && wait_for 30 curl -fsS "http://127.0.0.1:$admin_port/readyz"; then
    pass "compose: docker-compose up (docker/docker-compose.yaml, host-network override, $nginx_image)"
    # nginx answers 503 to about 30% of requests; Sidecar retries them (3 attempts).
    answered=0
    for _ in 1 2 3 4 5; do
      if [[ "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$proxy_port/anything")" == "200" ]]; then answered=$((answered + 1)); fi
    done
    if ((answered >= 4)); then pass "compose: $answered/5 requests through Sidecar to the flaky nginx answered 200"; else fail "compose: only $answered/5 requests answered 200"; fi

    sidecar_id="$("${compose[@]}" ps -q sidecar)"
    podman wait "$sidecar_id" > "$work/compose-exit" 2>&1 &
    waiter=$!
    podman logs -f "$sidecar_id" > "$work/compose-sidecar.log" 2>&1 &
    background_pids+=($!)
    timeout 120 "${compose[@]}" down > "$work/compose-down.log" 2>&1
    wait "$waiter"
    if [[ "$(tr -d '[:space:]' < "$work/compose-exit")" == "0" ]] && grep -q "Sidecar stopped" "$work/compose-sidecar.log"; then
      pass "compose: down drained Sidecar (\"Sidecar stopped\", exit 0)"
    else
      cat "$work/compose-down.log" "$work/compose-sidecar.log" | tail -20
      fail "compose: down (exit $(cat "$work/compose-exit"))"
    fi
  else
    cat "$work/compose-up.log"
    fail "compose: docker-compose up"
  fi
  compose=()
fi

# ---- measurements (not a check) ----
if $measure; then
  median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  now_ms() { date +%s%3N; }
  write_config measure
  poll_interval=0.01
  podman create "${helper_flags[@]}" --name "$tag-copy" "$image" > /dev/null && podman cp "$tag-copy:/app/sidecar" "$work/sidecar" && podman rm -f -t 0 "$tag-copy" > /dev/null
  for _ in 1 2 3 4 5; do
    t0="$(now_ms)"
    podman run -d --name "$tag-m" "${helper_flags[@]}" "${engine_flags[@]}" "${pod_flags[@]}" -v "$work/config:/etc/sidecar:ro" "$image" > /dev/null
    wait_for 30 curl -fsS "http://127.0.0.1:$admin_port/readyz"
    echo $(($(now_ms) - t0)) >> "$work/container.ms"
    podman rm -f -t 0 "$tag-m" > /dev/null
  done
  for _ in 1 2 3 4 5; do
    t0="$(now_ms)"
    "$work/sidecar" run --config "$work/config/sidecar.yaml" > /dev/null 2>&1 &
    native=$!
    wait_for 30 curl -fsS "http://127.0.0.1:$admin_port/readyz"
    echo $(($(now_ms) - t0)) >> "$work/native.ms"
    kill "$native"; wait "$native"
  done
  echo "measure: start to /readyz 200, median of 5 (ms, polled every 10 ms):" \
    "container $(median < "$work/container.ms") [$(tr '\n' ' ' < "$work/container.ms")]," \
    "bare executable $(median < "$work/native.ms") [$(tr '\n' ' ' < "$work/native.ms")]"
fi

finish
