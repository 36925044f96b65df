#!/usr/bin/env bash
# Installs what tidewire needs on Debian 12, idempotently: the Debian packages that are missing, then the npm
# packages from package-lock.json. Already set up, it takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

# emscripten: the wasm toolchain; chromium: real-browser tests; clang + libclang-rt-14-dev: fuzz targets;
# redis-server + libhiredis-dev: --broker redis; haproxy: the scale-out tests' load balancer;
# postgresql-15 + postgresql-15-wal2json + libpq-dev: --database postgres:// and the change feed (tests start
# their own cluster with initdb + pg_ctl).
PACKAGES=(
  cmake ninja-build g++ ccache pkg-config
  emscripten nlohmann-json3-dev
  libboost1.81-dev libssl-dev libsqlite3-dev
  libgtest-dev libbenchmark-dev
  clang libclang-rt-14-dev
  chromium
  redis-server libhiredis-dev haproxy
  postgresql-15 postgresql-15-wal2json libpq-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "tidewire setup: missing Debian packages: ${missing[*]}" >&2
    echo "Run as root:  $cmd" >&2
    exit 1
  fi
  echo "tidewire setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages: reinstall only when package-lock.json changed since the last install.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.tidewire-lock-hash
if [[ ! -f $stamp || $(cat "$stamp") != "$lock_hash" ]]; then
  echo "tidewire setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" >"$stamp"
fi
