#!/usr/bin/env bash
# Publishes Sidecar into OUT_DIR with only what runs (no symbols, XML docs, satellite languages or web.config).
# The Dockerfile's build stage runs exactly this script, and tests/packaging/check.sh runs it in CI, so the image's
# build steps are proven without a Docker engine.
#
# Usage: docker/publish.sh [OUT_DIR]                      (default /app; relative paths are from the caller's directory)
#        SIDECAR_BUILD=native|jit  SIDECAR_RID=linux-arm64  SIDECAR_READY_TO_RUN=true  docker/publish.sh OUT_DIR
#
# SIDECAR_BUILD=native (the default, what the image ships): one Native AOT executable, OUT_DIR/sidecar, that needs no
#   .NET runtime. Measured with tests/bench (2 vCPU, see its README): ready 80-101 ms after exec (medians) instead of
#   609-773 ms, about 40 MB RSS idle and 55-62 MB under load instead of 123-129 MB, and full speed from the first
#   request (in its first 5 s under load on one core the JIT build served 2,705 req/s, native 6,363, JIT once warm
#   11,199). The price is CPU per request at steady state: 1.13-1.28x the warm JIT build's, because there is no
#   dynamic PGO.
#   Needs clang (or clang-NN) and zlib1g-dev: the Native AOT linker step.
# SIDECAR_BUILD=jit: framework-dependent sidecar.dll, run with `dotnet sidecar.dll` on the ASP.NET Core runtime; the
#   cheapest CPU per request once warm, for pods that proxy thousands of requests per second.
#   SIDECAR_READY_TO_RUN=true adds ReadyToRun code: faster start, but 86 against 77 us CPU per request under load.
# Native and ReadyToRun code is per-RID: the build machine's, or SIDECAR_RID.
set -euo pipefail

out_dir="${1:-/app}"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1

build="${SIDECAR_BUILD:-native}"
rid="${SIDECAR_RID:-linux-$(uname -m | sed 's/^x86_64$/x64/; s/^aarch64$/arm64/')}"
build_args=()
case "$build" in
  native)
    build_args=(--runtime "$rid" --self-contained -p:PublishAot=true)
    # The ILCompiler calls `clang`; Debian's clang-NN packages install only the versioned name.
    if ! command -v clang >/dev/null 2>&1; then
      versioned="$(compgen -c clang- | grep -E '^clang-[0-9]+$' | sort -t- -k2 -n | tail -1 || true)"
      if [[ -z "$versioned" ]]; then
        echo "publish.sh: SIDECAR_BUILD=native needs clang (apt-get install clang zlib1g-dev), or use SIDECAR_BUILD=jit" >&2
        exit 1
      fi
      build_args+=(-p:CppCompilerAndLinker="$versioned")
    fi
    ;;
  jit)
    build_args=(--no-self-contained)
    if [[ "${SIDECAR_READY_TO_RUN:-false}" == true ]]; then
      build_args+=(--runtime "$rid" -p:PublishReadyToRun=true)
    fi
    ;;
  *)
    echo "publish.sh: SIDECAR_BUILD must be native or jit, got '$build'" >&2
    exit 2
    ;;
esac

cd "$repo_root"
dotnet publish src/Sidecar/Sidecar.csproj \
  --configuration Release \
  --output "$out_dir" \
  "${build_args[@]}" \
  -p:DebugType=none \
  -p:PublishDocumentationFile=false \
  -p:PublishReferencesDocumentationFiles=false \
  -p:SatelliteResourceLanguages=en \
  -p:IsTransformWebConfigDisabled=true
