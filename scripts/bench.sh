#!/usr/bin/env bash
# Benchmarks (not part of npm test). Results and the commands that produced them go into docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results/bench
echo "== core micro-benchmarks (Google Benchmark)"
build/native/bench/tidewire_core_bench --benchmark_min_time=0.2 --benchmark_out=test-results/bench/core.json \
  --benchmark_out_format=json
echo
echo "== server fan-out and idle memory (tidewire-server vs a Node ws broadcast server)"
node bench/server/fanout.mjs --rounds 3 --subscribers 100 --messages 20000 --idle 10000 | tee test-results/bench/fanout.log
echo
echo "== server fan-out with the default settings (write delay 0)"
node bench/server/fanout.mjs --rounds 3 --subscribers 100 --messages 20000 --idle 0 --write-delay-us 0 | tee test-results/bench/fanout_delay0.log
echo
echo "== Node client throughput, prebuilt frames (tidewire vs raw ws clients: (a) minimal envelope, (b) tidewire's envelope, (c) tidewire's batches)"
node bench/node/throughput.mjs --rounds 3 --messages 200000 | tee test-results/bench/throughput.log
echo
echo "== first-message latency (warm and cold)"
node bench/node/first_message.mjs --rounds 15 | tee test-results/bench/first_message.log
echo
echo "== publish -> deliver latency, 10,000 messages/s, 100 subscribers (tidewire vs a Node ws broadcast server)"
node bench/node/latency.mjs --rounds 3 --seconds 5 | tee test-results/bench/latency.log
echo
echo "== several nodes on Redis: publish -> deliver latency and server CPU per delivery at 2,000 messages/s x 100 subscribers, 3 nodes vs one node (memory broker), and publications per second through one Redis"
node bench/node/scale_out.mjs --rounds 3 --seconds 5 | tee test-results/bench/scale_out.log
echo
echo "== database change feed: insert -> subscriber latency and server CPU per change at 1,000 rows/s (real Postgres, 10 Node raw-WebSocket subscribers)"
node bench/node/changefeed_latency.mjs --rate 1000 --seconds 10 | tee test-results/bench/changefeed_latency.log
echo
echo "== database change feed: insert -> browser latency at 1,000 rows/s (headless Chromium over a bare CDP pipe, the web package's postgres_changes)"
node bench/node/changefeed_latency.mjs --browser --rate 1000 --seconds 10 | tee test-results/bench/changefeed_latency_browser.log
echo
echo "== client throughput in headless Chromium, prebuilt frames, bare CDP pipe (the same clients with the browser's WebSocket)"
node bench/browser/throughput.mjs --rounds 3 --messages 100000 | tee test-results/bench/browser_throughput.log
echo
echo "== a tab attaching to a shared connection: first message after subscribe (issue #18, budget 5 ms median)"
node --test --test-reporter=spec tests/browser/bench-shared-attach.test.mjs | tee test-results/bench/shared_attach.log
echo
echo "== a subscriber over the HTTP transports (SSE, long polling) next to WebSocket (issue #17)"
node bench/node/http_transports.mjs --rounds 3 --messages 50000 | tee test-results/bench/http_transports.log
echo
echo "== bundle size (plain API and React entry)"
node scripts/bundle-size.mjs | tee test-results/bench/size.log
echo
echo "== chart"
node bench/chart.mjs
