#!/usr/bin/env bash
# Local stand-ins for the Dockerfile's two base images, for machines that cannot reach mcr.microsoft.com.
# They are built from Debian packages with mmdebstrap and imported into podman; docker/Dockerfile is then built with
# --build-arg SDK_IMAGE=... --build-arg RUNTIME_IMAGE=... pointing at them, exactly as a user behind a private
# registry mirror would point it at theirs. Nothing else about the build changes.
#
#   SDK stand-in (for mcr.microsoft.com/dotnet/sdk:10.0): Debian with apt, CA certificates, ICU and tzdata, plus
#     this machine's .NET SDK (the dotnet root, copied) and this machine's local CA certificates
#     (/usr/local/share/ca-certificates), so NuGet reaches the same feed the way this machine does. NUGET_* variables
#     set here (e.g. NUGET_CERT_REVOCATION_MODE) become the image's environment for the same reason. No clang or
#     zlib1g-dev: as on the real SDK image, the Dockerfile's build stage installs them with apt.
#   runtime stand-in (for mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled): the same contents as that
#     chiseled image, taken from Debian packages: the shared libraries of libc6, libgcc-s1, libssl3 and libstdc++6,
#     the CA bundle, os-release, /etc/passwd and /etc/group with root and app (1654), /home/app, /tmp, and the
#     image's environment (APP_UID, ASPNETCORE_HTTP_PORTS, DOTNET_RUNNING_IN_CONTAINER,
#     DOTNET_SYSTEM_GLOBALIZATION_INVARIANT) and USER. No shell, no package manager, no other executable.
#   nginx stand-in (for the compose file's nginx, optional third name): Debian's nginx, its default site removed,
#     run in the foreground like the official image.
#
# An image is rebuilt only when missing or when its recipe (this file and the SDK version) changed: a label holds
# the recipe's hash. Needs: podman, mmdebstrap, the Debian package mirror, dotnet.
#
# Usage: tests/packaging/base-images.sh SDK_NAME RUNTIME_NAME [NGINX_NAME]     e.g. localhost/sidecar-base/sdk:10.0
set -euo pipefail

sdk_name="$1"
runtime_name="$2"
nginx_name="${3:-}"
suite="${SIDECAR_BASE_SUITE:-bookworm}"
mirror="${SIDECAR_BASE_MIRROR:-http://deb.debian.org/debian}"

# mmdebstrap's helpers (mmtarfilter) are Debian's python3 scripts: keep a user's python shims out of their way.
mmdebstrap() { PATH=/usr/sbin:/usr/bin:/sbin:/bin command mmdebstrap "$@"; }

dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
recipe="$( { cat "${BASH_SOURCE[0]}"; dotnet --version; echo "$suite $mirror"; } | sha256sum | cut -c1-16)"

up_to_date() {
  [[ "$(podman image inspect --format '{{ index .Config.Labels "sidecar.base-recipe" }}' "$1" 2>/dev/null)" == "$recipe" ]]
}

build_sdk() {
  local env_changes=(--change "ENV DOTNET_ROOT=/usr/share/dotnet" --change "ENV DOTNET_CLI_TELEMETRY_OPTOUT=1"
    --change "ENV DOTNET_NOLOGO=1" --change "LABEL sidecar.base-recipe=$recipe" --change "WORKDIR /")
  local name
  for name in $(compgen -e | grep '^NUGET_' | grep -vx 'NUGET_PACKAGES' || true); do
    env_changes+=(--change "ENV $name=${!name}")
  done
  # mmdebstrap writes the root filesystem as a tar to stdout; the hooks run on this machine with $1 = that root.
  mmdebstrap --quiet --variant=apt \
    --include=ca-certificates,libicu72,tzdata \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --customize-hook="mkdir -p \"\$1/usr/share/dotnet\" && cp -a '$dotnet_root/.' \"\$1/usr/share/dotnet/\" && ln -sf /usr/share/dotnet/dotnet \"\$1/usr/bin/dotnet\"" \
    --customize-hook='if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then cp /usr/local/share/ca-certificates/*.crt "$1/usr/local/share/ca-certificates/" && chroot "$1" update-ca-certificates >/dev/null 2>&1; fi' \
    "$suite" - "$mirror" \
    | podman import "${env_changes[@]}" - "$sdk_name" >/dev/null
}

build_runtime() {
  local work root out list
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  root="$work/root"
  out="$work/out"
  mmdebstrap --quiet --variant=essential --include=libssl3,libstdc++6,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    "$suite" "$root" "$mirror"

  # The chiseled layout: merged /usr, no bin directories at all.
  mkdir -p "$out/usr/lib" "$out/usr/lib64" "$out/etc/ssl/certs" "$out/tmp" "$out/home/app"
  ln -s usr/lib "$out/lib"
  ln -s usr/lib64 "$out/lib64"
  chmod 1777 "$out/tmp"
  chown 1654:1654 "$out/home/app"
  printf 'root:x:0:0:root:/root:/noshell\napp:x:1654:1654::/home/app:/noshell\n' > "$out/etc/passwd"
  printf 'root:x:0:\napp:x:1654:\n' > "$out/etc/group"
  cp "$root/etc/ssl/certs/ca-certificates.crt" "$out/etc/ssl/certs/"
  cp -L "$root/etc/os-release" "$out/etc/os-release"

  # Shared libraries only (like chisel's *_libs slices): no executables, no gconv modules, no data.
  list="$work/files"
  local package
  for package in libc6 libgcc-s1 libssl3 libstdc++6; do
    cat "$root"/var/lib/dpkg/info/"$package"{,:*}.list 2>/dev/null || true
  done | grep -E '\.so(\.[0-9]+)*$' | grep -v '/gconv/' | sed 's|^/||' | sort -u > "$list"
  tar -C "$root" -cf - -T "$list" | tar -C "$out" --keep-directory-symlink -xf -

  tar -C "$out" --numeric-owner -cf - . \
    | podman import \
        --change "ENV APP_UID=1654" --change "ENV ASPNETCORE_HTTP_PORTS=8080" \
        --change "ENV DOTNET_RUNNING_IN_CONTAINER=true" --change "ENV DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=true" \
        --change "USER 1654" --change "LABEL sidecar.base-recipe=$recipe" \
        - "$runtime_name" >/dev/null
}

build_nginx() {
  mmdebstrap --quiet --variant=minbase --include=nginx-light \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --customize-hook='rm -f "$1/etc/nginx/sites-enabled/default"' \
    "$suite" - "$mirror" \
    | podman import --change 'CMD ["nginx", "-g", "daemon off;"]' --change "LABEL sidecar.base-recipe=$recipe" - "$nginx_name" >/dev/null
}

if [[ -n "$nginx_name" ]]; then
  if up_to_date "$nginx_name"; then
    echo "base-images: $nginx_name is up to date"
  else
    echo "base-images: building $nginx_name from Debian $suite packages"
    build_nginx
  fi
fi

if up_to_date "$runtime_name"; then
  echo "base-images: $runtime_name is up to date"
else
  echo "base-images: building $runtime_name from Debian $suite packages"
  build_runtime
fi

if up_to_date "$sdk_name"; then
  echo "base-images: $sdk_name is up to date"
else
  echo "base-images: building $sdk_name from Debian $suite packages and the .NET SDK in $dotnet_root"
  build_sdk
fi
