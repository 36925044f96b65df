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
  cmake -S . -B build/native -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build/native

if command -v clang++ >/dev/null; then
  step "fuzz targets (build/fuzz, clang++ with libFuzzer + ASan + UBSan)"
  if [[ ! -f build/fuzz/build.ninja ]]; then
    CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDEWIRE_BUILD_FUZZ=ON \
      -DTIDEWIRE_BUILD_TESTS=OFF -DTIDEWIRE_BUILD_BENCH=OFF -DTIDEWIRE_BUILD_SERVER=ON >/dev/null
  fi
  cmake --build build/fuzz --target fuzz
fi

step "wasm build (build/wasm)"
if [[ ! -f build/wasm/build.ninja ]]; then
  emcmake cmake -S . -B build/wasm -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build/wasm

step "web package (web/dist)"
cp bindings/tidewire_module.d.mts web/src/tidewire_module.d.mts
rm -rf build/web-tsc
npx --no-install tsc -p web --outDir build/web-tsc
cp build/wasm/module/tidewire_module.mjs build/web-tsc/
mkdir -p web/dist
cp build/wasm/module/*.wasm web/dist/  # scripts/wasm-files.mjs lists them
cp bindings/tidewire_module.d.mts web/dist/tidewire_module.d.mts
node scripts/bundle-dist.mjs

step "demo site (build/site)"
node scripts/assemble-site.mjs
if [[ -f scripts/build-demo.mjs ]]; then node scripts/build-demo.mjs; fi
