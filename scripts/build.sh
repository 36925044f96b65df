#!/usr/bin/env bash
# Builds everything incrementally: native (server, tests, benchmarks, fuzz), wasm module, web package, demo site.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export NODE_PATH=/usr/share/nodejs  # em++ at -O2+ needs acorn from Debian's node modules
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/tidewire-ccache}

step() { printf '\033[1m== %s\033[0m\n' "$*"; }

step "native build (build/native)"
if [[ ! -f build/native/build.ninja ]]; then
  fuzz=OFF
  command -v clang++ >/dev/null && fuzz=ON
  cmake -S . -B build/native -G Ninja -DCMAKE_BUILD_TYPE=Release -DTIDEWIRE_BUILD_FUZZ=$fuzz >/dev/null
fi
cmake --build build/native

step "wasm build (build/wasm)"
if [[ ! -f build/wasm/build.ninja ]]; then
  emcmake cmake -S . -B build/wasm -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build/wasm

step "web package (web/dist)"
cp bindings/tidewire_module.d.mts web/src/tidewire_module.d.mts
npx --no-install tsc -p web
cp build/wasm/module/tidewire_module.mjs build/wasm/module/tidewire_module.wasm web/dist/
cp bindings/tidewire_module.d.mts web/dist/tidewire_module.d.mts

step "demo site (build/site)"
node scripts/assemble-site.mjs
