#!/usr/bin/env bash
# Runs every test layer (the build must be current: `npm test` builds first). Exits non-zero on any failure
# and ends with one line "tidewire: N passed, N failed".
#   TIDEWIRE_FUZZ_SECONDS  seconds per fuzz target (default 10; 0 skips fuzzing)
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
passed=0
failed=0
layer_failed=()
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "native unit tests (ctest)"
# A test that fails is run once more and fails the layer only if it fails again; ctest's log names every failure,
# so a flaky test still shows there (HubHistory.SqliteStoreCheckpointsOnItsOwnThread waits on SQLite's checkpoint
# thread and has failed once under load).
ctest --test-dir build/native --output-on-failure -j2 --repeat until-pass:2 2>&1 | tee test-results/ctest.log
rc=${PIPESTATUS[0]}
total=$(grep -Eo 'tests passed, [0-9]+ tests failed out of [0-9]+' test-results/ctest.log | tail -1 | awk '{print $NF}')
nfail=$(grep -Eo '[0-9]+ tests failed out of' test-results/ctest.log | tail -1 | awk '{print $1}')
passed=$((passed + ${total:-0} - ${nfail:-0}))
failed=$((failed + ${nfail:-0}))
((rc != 0)) && layer_failed+=(ctest) && ((${nfail:-0} == 0)) && failed=$((failed + 1))

step "types: tsc --strict on the usage file"
if npx --no-install tsc -p web/test-types; then passed=$((passed + 1)); else failed=$((failed + 1)); layer_failed+=(types); fi

step "node:test suites (TS over a fake engine, wasm client, server, React, browser, bundlers)"
mapfile -t files < <(find tests/unit tests/node tests/react tests/browser tests/bundlers tests/size -name '*.test.mjs' 2>/dev/null | sort)
node --test --test-reporter=spec --test-reporter-destination=stdout --test-reporter=tap \
  --test-reporter-destination=test-results/node.tap "${files[@]}"
rc=$?
np=$(grep -E '^# pass ' test-results/node.tap | awk '{print $3}')
nf=$(grep -E '^# fail ' test-results/node.tap | awk '{print $3}')
passed=$((passed + ${np:-0}))
failed=$((failed + ${nf:-0}))
((rc != 0)) && layer_failed+=(node) && ((${nf:-0} == 0)) && failed=$((failed + 1))

seconds=${TIDEWIRE_FUZZ_SECONDS:-10}
if [[ -d build/fuzz/tests/fuzz && $seconds != 0 ]]; then
  step "fuzzing (${seconds}s per target)"
  for bin in build/fuzz/tests/fuzz/fuzz_*; do
    [[ -x $bin ]] || continue
    name=$(basename "$bin")
    seeds=tests/fuzz/corpus/${name#fuzz_}
    [[ -d $seeds ]] || seeds=tests/fuzz/corpus/envelope
    corpus=build/fuzz/corpus/$name
    mkdir -p "$corpus"
    if "$bin" -max_total_time="$seconds" -dict=tests/fuzz/json.dict -max_len=8192 -print_final_stats=0 \
      -artifact_prefix=test-results/ "$corpus" "$seeds" >test-results/$name.log 2>&1; then
      echo "$name: $(grep -Eo 'Done [0-9]+ runs' test-results/$name.log | tail -1), no crash"
      passed=$((passed + 1))
    else
      echo "$name FAILED: see test-results/$name.log"
      tail -30 test-results/$name.log
      failed=$((failed + 1))
      layer_failed+=("$name")
    fi
  done
fi

echo
if ((${#layer_failed[@]} > 0)); then echo "failing layers: ${layer_failed[*]}"; fi
echo "tidewire: $passed passed, $failed failed"
((failed == 0 && ${#layer_failed[@]} == 0))
