#!/usr/bin/env bash
# Benchmarks (not part of npm test). Results and the commands that produced them go into docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results/bench
echo "== core micro-benchmarks (Google Benchmark)"
build/native/bench/tidewire_core_bench --benchmark_min_time=0.2 --benchmark_out=test-results/bench/core.json \
  --benchmark_out_format=json
