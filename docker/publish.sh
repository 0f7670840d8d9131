#!/usr/bin/env bash
# Publishes Sidecar framework-dependent (the runtime image brings ASP.NET Core) into OUT_DIR,
# without symbols, XML docs, satellite languages or web.config: only what runs.
# The Dockerfile's build stage runs exactly this script, and tests/packaging/check.sh runs it
# in CI, so the image's build steps are proven without a Docker engine.
#
# Usage: docker/publish.sh [OUT_DIR]    (default /app; relative paths are taken from the caller's directory)
set -euo pipefail

out_dir="${1:-/app}"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1

cd "$repo_root"
dotnet publish src/Sidecar/Sidecar.csproj \
  --configuration Release \
  --output "$out_dir" \
  --no-self-contained \
  -p:DebugType=none \
  -p:PublishDocumentationFile=false \
  -p:PublishReferencesDocumentationFiles=false \
  -p:SatelliteResourceLanguages=en \
  -p:IsTransformWebConfigDisabled=true
