#!/usr/bin/env bash
# Container HEALTHCHECK probe: exits 0 when Sidecar's admin endpoint answers 200.
# The .NET runtime images ship no curl or wget, and installing one only for this would grow the
# image, so the probe speaks HTTP/1.0 over bash's /dev/tcp (bash is in the Ubuntu-based aspnet image).
#
# Usage: healthcheck.sh [PORT] [PATH]   (defaults: $SIDECAR_ADMIN_PORT or 9901, /healthz)
set -euo pipefail

port="${1:-${SIDECAR_ADMIN_PORT:-9901}}"
path="${2:-/healthz}"

exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
IFS=' ' read -r _ status _ <&3
exec 3<&-
[[ "$status" == "200" ]]
