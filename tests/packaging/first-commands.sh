#!/usr/bin/env bash
# README's commands, run verbatim from the repository root as a new user would on a machine with only the .NET SDK:
# an empty NuGet package cache and no package source but the public feed. Every `dotnet run` line of README's sh
# blocks runs: `demo` and `validate` must exit 0; the plain run must load config/sidecar.yaml, answer /readyz on its
# admin address and exit 0 on SIGTERM. (`dotnet test Sidecar.sln`, README's other first command, is run by .ci/run.)
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() { echo "first-commands: FAIL: $*" >&2; exit 1; }

# No folder source (a path on some build machine) may be listed: restore must need nothing but the public feed.
if dotnet nuget list source --format short | grep -vE '^\s*[ED] https?://' | grep -q .; then
  dotnet nuget list source
  fail "nuget.config lists a package source that is not an http(s) feed"
fi

commands=$(awk '/^```(sh|bash)/ { block = 1; next } /^```/ { block = 0 } block && /^dotnet run / { sub(/[[:space:]]+#.*$/, ""); print }' README.md)
[ -n "$commands" ] || fail "no 'dotnet run' command found in README.md"

admin=$(sed -nE 's/^[[:space:]]*admin:[[:space:]]*"?(http:\/\/[^" ]+)"?.*/\1/p' config/sidecar.yaml | head -n1)
[ -n "$admin" ] || fail "config/sidecar.yaml has no listen.admin"

while IFS= read -r command; do
  echo "first-commands: \$ $command"
  log=$(mktemp)
  case "$command" in
    *" -- demo"* | *" -- validate"*)
      timeout 600 bash -c "$command" >"$log" 2>&1 || { cat "$log"; fail "'$command' exited $?"; }
      ;;
    *" -- "*)
      fail "README command '$command' has no check here: teach tests/packaging/first-commands.sh what it should do"
      ;;
    *)
      # The proxy itself: own process group, so SIGTERM reaches Sidecar and not only `dotnet run`.
      setsid bash -c "exec $command" >"$log" 2>&1 &
      pid=$!
      ready=""
      for _ in $(seq 1 600); do
        if [ "$(curl -fsS --max-time 1 "$admin/readyz" 2>/dev/null)" = "ready" ]; then ready=yes; break; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
      done
      [ -n "$ready" ] || { kill -TERM -- -"$pid" 2>/dev/null || true; cat "$log"; fail "'$command' never answered $admin/readyz"; }
      grep -q "config/sidecar.yaml" "$log" || { kill -TERM -- -"$pid" 2>/dev/null || true; cat "$log"; fail "'$command' did not load config/sidecar.yaml from the repository root"; }
      kill -TERM -- -"$pid"
      status=0
      wait "$pid" || status=$?
      [ "$status" -eq 0 ] || { cat "$log"; fail "'$command' exited $status on SIGTERM"; }
      ;;
  esac
  tail -n 3 "$log"
  rm -f "$log"
done <<<"$commands"
echo "first-commands: PASS ($(wc -l <<<"$commands") commands)"
