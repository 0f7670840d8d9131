#!/usr/bin/env bash
# Runs a published Sidecar as ../shared/bench/peers.sh's "proxy under test": one catch-all route from PORT to
# UPSTREAM, admin on PORT+1000, config generated into a temp dir. The success upstream (:18081) gets a route without
# a policy; any other upstream gets run.sh's retry policy (max_attempts 3, retry_on 503, default budget, 1-10 ms backoff).
#   ../shared/bench/peers.sh --put-name sidecar \
#     --put-cmd 'tests/bench/sidecar-put.sh /tmp/sidecar-bench/sidecar {port} {upstream}'
# (peers.sh substitutes {port} and {upstream}; publish first with docker/publish.sh /tmp/sidecar-bench/sidecar.)
set -euo pipefail
dir=$1 port=$2 upstream=$3
conf="$(mktemp -d)/sidecar.yaml"
policy=", policy: bench"
[[ $upstream == *:18081 ]] && policy=""
cat >"$conf" <<YAML
listen: { proxy: "http://127.0.0.1:$port", admin: "http://127.0.0.1:$((port + 1000))" }
clusters:
  up: { destinations: ["$upstream"] }
policies:
  bench:
    max_attempts: 3
    retry_on: { status: [503] }
    backoff: { algorithm: exponential, base: 1ms, max: 10ms, jitter: full }
routes:
  - { name: all, cluster: up$policy }
limits: { drain_delay: 0s, drain_timeout: 2s }
YAML
exec dotnet "$dir/sidecar.dll" run --config "$conf"
