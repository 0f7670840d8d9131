#!/usr/bin/env bash
# Packaging checks:
#   1. docker/publish.sh, the Dockerfile's only build step, publishes the Native AOT executable into a temp dir;
#      `sidecar --help` exits 0 and every [Trait("Category", "Process")] functional test passes against it;
#      the executable maps its rehydrated data in one call at start (strace, when ptrace is allowed);
#      SIDECAR_BUILD=jit publishes sidecar.dll and `dotnet sidecar.dll --help` exits 0;
#   2. tests/packaging/image.sh: docker/Dockerfile built with podman (stand-in base images from Debian packages when
#      the registry is out of reach), the image at most 50 MB and shell-less, run non-root, read-only, without
#      capabilities and under 128 MiB / half a CPU: ready, proxying, healthy, reloading, draining; the compose file too;
#   3. yamllint (repository .yamllint) on the chart's Chart.yaml/values.yaml/ci values, its rule files and the docker/ YAML;
#   4. values.yaml (with ci/outbound-values.yaml) against values.schema.json with python3-jsonschema (the xunit tests do the same with
#      their own validator; this is a second opinion from a full implementation);
#   5. helm lint --strict and helm template with ci/outbound-values.yaml (.ci/run installs helm; without it this step
#      is skipped, or fails under CI=true). tests/Sidecar.Tests/Packaging/HelmRenderTests renders the chart with
#      realistic overrides and runs sidecar validate on every rendered config; the Dockerfile's structure is
#      checked there too.
#
# Needs: dotnet, python3, Debian packages clang zlib1g-dev (Native AOT) strace yamllint python3-yaml python3-jsonschema,
# podman mmdebstrap docker-compose curl (the image).
# Usage: bash tests/packaging/check.sh          exits non-zero on any failure
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"

work="$(mktemp -d)"
cleanup() {
  rm -rf "$work"
}
trap cleanup EXIT

passes=0
failures=0
pass() { echo "ok    $1"; passes=$((passes + 1)); }
fail() { echo "FAIL  $1"; failures=$((failures + 1)); }

# 1. publish: the image's Native AOT build, then the framework-dependent JIT build.
if bash docker/publish.sh "$work/app" > "$work/publish.log" 2>&1; then
  pass "docker/publish.sh (native)"
else
  cat "$work/publish.log"
  fail "docker/publish.sh (native)"
fi

if [[ -x "$work/app/sidecar" ]] && timeout 60 "$work/app/sidecar" --help > "$work/help.log" 2>&1; then
  pass "native sidecar --help"
else
  cat "$work/help.log" 2>/dev/null
  fail "native sidecar --help (missing or failing in $work/app)"
fi

# Every test that runs the real executable, against the native one: trimming or AOT must not lose a feature.
if [[ -x "$work/app/sidecar" ]] && SIDECAR_TEST_EXECUTABLE="$work/app/sidecar" \
    timeout 600 dotnet test tests/Sidecar.FunctionalTests --filter "Category=Process" > "$work/native-tests.log" 2>&1; then
  pass "process tests against the native executable ($(grep -Eo 'Passed: +[0-9]+' "$work/native-tests.log" | tail -1))"
else
  tail -60 "$work/native-tests.log" 2>/dev/null
  fail "process tests against the native executable"
fi

# The constructor linked into the executable (src/Sidecar/Hosting/prefault_rehydrated.c) maps the runtime's
# rehydrated type data in one call before the runtime starts.
if ! command -v strace > /dev/null || ! strace -o /dev/null true 2>/dev/null; then
  echo "skip  native prefault of the rehydrated data (needs strace and ptrace; .ci/run installs strace)"
elif [[ -x "$work/app/sidecar" ]] && strace -e trace=madvise -o "$work/madvise.log" "$work/app/sidecar" --help > /dev/null 2>&1 \
    && grep -qE 'MADV_POPULATE_WRITE|0x17 /\*' "$work/madvise.log"; then  # made, whatever an older kernel answers
  pass "native sidecar maps its rehydrated data before the runtime starts (MADV_POPULATE_WRITE)"
else
  head -5 "$work/madvise.log" 2>/dev/null
  fail "native sidecar maps its rehydrated data before the runtime starts (no MADV_POPULATE_WRITE)"
fi

if SIDECAR_BUILD=jit bash docker/publish.sh "$work/jit" > "$work/publish-jit.log" 2>&1 \
    && timeout 60 dotnet "$work/jit/sidecar.dll" --help > "$work/help-jit.log" 2>&1; then
  pass "SIDECAR_BUILD=jit docker/publish.sh, dotnet sidecar.dll --help"
else
  cat "$work/publish-jit.log" "$work/help-jit.log" 2>/dev/null
  fail "SIDECAR_BUILD=jit docker/publish.sh"
fi

# 2. the image: docker/Dockerfile built with podman and run as a pod would (tests/packaging/image.sh says what it shows).
if timeout 2400 bash tests/packaging/image.sh; then
  pass "tests/packaging/image.sh (docker/Dockerfile built and run under a pod's limits, compose)"
else
  fail "tests/packaging/image.sh"
fi

# 3. yamllint
yaml_files=(
  charts/sidecar/Chart.yaml
  charts/sidecar/values.yaml
  charts/sidecar/files/sidecar-rules.yaml
  charts/sidecar/files/sidecar-rules.test.yaml
  charts/sidecar/ci/outbound-values.yaml
  docker/docker-compose.yaml
  docker/sidecar.compose.yaml
)
if ! command -v yamllint > /dev/null; then
  fail "yamllint not installed (apt-get install yamllint)"
elif yamllint --strict --config-file .yamllint "${yaml_files[@]}"; then
  pass "yamllint ${yaml_files[*]}"
else
  fail "yamllint"
fi

# 4. values.yaml with the outbound example merged in (the chart ships no upstream) against values.schema.json
if python3 - charts/sidecar/values.yaml charts/sidecar/values.schema.json charts/sidecar/ci/outbound-values.yaml <<'PY'
import json, sys
import jsonschema, yaml
def merge(into, other):
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into
values = merge(yaml.safe_load(open(sys.argv[1])), yaml.safe_load(open(sys.argv[3])))
schema = json.load(open(sys.argv[2]))
jsonschema.Draft7Validator.check_schema(schema)
errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(values), key=lambda e: list(e.path))
for error in errors:
    print("  " + "/".join(map(str, error.path)) + ": " + error.message)
sys.exit(1 if errors else 0)
PY
then
  pass "values.yaml + ci/outbound-values.yaml against values.schema.json (python3-jsonschema)"
else
  fail "values.yaml against values.schema.json (python3-jsonschema; needs python3-yaml python3-jsonschema)"
fi

# 5. helm lint/template (helm comes from .ci/run; a developer without it skips this step).
if command -v helm > /dev/null; then
  if helm lint --strict charts/sidecar --values charts/sidecar/ci/outbound-values.yaml \
    && helm template ci charts/sidecar --values charts/sidecar/ci/outbound-values.yaml --set metrics.serviceMonitor.enabled=true > "$work/chart.yaml"; then
    pass "helm lint --strict / helm template"
  else
    fail "helm lint --strict / helm template"
  fi
elif [[ "${CI:-}" == "true" ]]; then
  fail "helm missing (bash .ci/run installs it)"
else
  echo "skip  helm lint/template (no helm binary; bash .ci/run installs it)"
fi

echo "packaging: $passes passed, $failures failed"
exit $((failures > 0 ? 1 : 0))
