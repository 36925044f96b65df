// Publish → deliver latency: one publisher at a steady rate (default 10,000 messages/s) on one channel with 100
// subscribers, against the real tidewire-server with tidewire clients (web/dist), and the same shape against a Node
// `ws` broadcast server (bench/server/ws_broadcast_server.mjs) with raw `ws` clients (split on '\n', JSON.parse, Map
// lookup): the baseline. Rounds alternate tidewire / baseline, each with a fresh server (tidewire: a fresh temporary
// data directory, signed tokens) and fresh client processes.
//
//   node bench/node/latency.mjs [--rounds 3] [--seconds 5] [--warmup 1] [--rate 10000] [--subscribers 100]
//        [--clients 2] [--procs 2] [--write-delay-us 1000] [--only tidewire|baseline]
//        [--tidewire-publisher tidewire|ws] [--baseline-publisher ws|tidewire] [--drain-ms 15000] [--out FILE]
//        [--nodes 1] [--redis]
//
// One round (subscriber and publisher processes, CPU, histogram, checks) is latency_round.mjs, shared with
// scale_out.mjs, which runs three nodes on Redis against one node in the same run.
//
// Several nodes (issue #15): --nodes N starts a redis-server (no persistence) and N tidewire-server nodes with
// --broker redis (--redis: the same with one node). Subscriber i connects to node i mod N, the publisher to node 1,
// with no load balancer in between, history in Redis (--data-dir :memory:); the one-node run keeps the defaults.
//
// The shape, and why. Every subscriber connection is real and reads everything the server sends it, so the
// server fans out to all 100. Only --clients of them (default 2, spread over --procs processes, so one each) are
// full, timed clients; the others are sinks (latency_subscriber.mjs: a hand-written WebSocket reader that checks
// every message's seq without JSON, not timed). Reason: 100 × 10,000/s = 1,000,000 deliveries/s, and a Node
// client costs 6-15 µs per message at this rate (small frames every ms), so 100 full clients need 6-15 cores;
// on a 2-core machine they starve the server and the figure becomes the clients' CPU queue (seconds), for
// tidewire and the baseline alike. 98 sinks cost about 0.8 core; a subscriber on its own machine would bring its
// own CPU. `--clients 100` runs the literal shape (every subscriber a timed client) for larger machines.
//
// Write delay: 1000 µs on both servers by default, as bench/server/fanout.mjs measures CPU per delivery. Pass
// --write-delay-us 0 for tidewire-server's default (its flush tick runs at the end of each burst of reads, no
// timer) against the baseline flushing at the end of each event-loop turn (setImmediate).
//
// Clock: each payload carries its send time (read right before the send call) on a clock shared by every process,
// performance.now() anchored on CLOCK_MONOTONIC (latency_clock.mjs). performance.timeOrigin + performance.now() was
// tried first and disagreed by up to 1.5 ms between processes; each round still prints how far it would have been
// off. Each timed client records deliver time (its handler call) − send time for every message after the warm-up,
// into a histogram of 0.01 ms buckets (1 ms beyond 2 s). Every subscriber, sinks included, must get every message
// once, warm-up included: missing, duplicated and reordered messages are counted and reported.
//
// CPU over the measured window is read from /proc for every part (server, client processes, sinks, publisher) and
// the whole machine (other processes included): a round whose machine had no idle CPU is flagged SATURATED, one
// whose latency grew during the run NOT KEEPING UP. Prints one line per round, a summary, and a JSON line last;
// writes the JSON (with every round) to test-results/bench/latency.json.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { startServer } from '../../tests/node/helpers/server.mjs';
import {
  BUCKET_MS, CORES, describeRound, fmt, int, latencyShape, runRound, summarizeRounds,
} from './latency_round.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    rate: { type: 'string', default: '10000' },
    subscribers: { type: 'string', default: '100' },
    clients: { type: 'string', default: '2' }, // timed full clients among the subscribers; the rest are sinks
    procs: { type: 'string', default: '2' },
    'write-delay-us': { type: 'string', default: '1000' },
    'drain-ms': { type: 'string', default: '15000' },
    only: { type: 'string' },
    // Which publisher each mode uses (tidewire = the tidewire client, ws = a raw ws socket): for attributing time.
    'tidewire-publisher': { type: 'string', default: 'tidewire' },
    'baseline-publisher': { type: 'string', default: 'ws' },
    out: { type: 'string', default: resolve(root, 'test-results/bench/latency.json') },
    nodes: { type: 'string', default: '1' },
    redis: { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(opts.rounds);
const SECONDS = Number(opts.seconds);
const WARMUP = Number(opts.warmup);
const RATE = Number(opts.rate);
const SUBSCRIBERS = Number(opts.subscribers);
const SHAPE = latencyShape({
  rate: RATE, seconds: SECONDS, warmup: WARMUP, subscribers: SUBSCRIBERS, clients: Number(opts.clients),
  procs: Number(opts.procs), drainMs: Number(opts['drain-ms']),
});
const { clients: CLIENTS, sinks: SINKS, procs: PROCS } = SHAPE;
const WRITE_DELAY_US = Number(opts['write-delay-us']);
const MODES = opts.only ? [opts.only] : ['tidewire', 'baseline'];
const NODES = Number(opts.nodes);
const REDIS = opts.redis || NODES > 1;
if (!(CLIENTS >= 1 && PROCS >= 1 && RATE > 0 && SECONDS > 0 && MODES.every((m) => m === 'tidewire' || m === 'baseline'))) {
  throw new Error('latency.mjs: needs --clients >= 1, --procs >= 1, --rate > 0, --seconds > 0, --only tidewire|baseline');
}

async function startTidewire() {
  const dataDir = mkdtempSync(join(tmpdir(), 'tidewire-latency-'));
  // The server's defaults, except: no per-connection rate limit (the publisher sends RATE/s), quiet logs.
  const s = await startServer({
    args: ['--data-dir', dataDir, '--rate-limit', '0', '--write-delay-us', String(WRITE_DELAY_US), '--log-level', 'warn'],
  });
  return {
    pid: s.process.pid,
    url: s.wsUrl,
    token: (u) => s.token(u),
    stop: async () => {
      await s.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// N nodes on one Redis (bench/README: issue #15's latency across nodes).
async function startNodesOnRedis() {
  const { startRedis, startNodes } = await import('../../tests/node/helpers/cluster.mjs');
  const redis = await startRedis();
  const nodes = await startNodes(redis, NODES, {
    args: ['--rate-limit', '0', '--write-delay-us', String(WRITE_DELAY_US), '--log-level', 'warn'],
  });
  return {
    pid: nodes[0].process.pid,
    pids: [...nodes.map((n) => n.process.pid), redis.pid],
    url: nodes[0].wsUrl,
    urlFor: (i) => nodes[i % NODES].wsUrl,
    token: (u) => nodes[0].token(u),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.stop();
      redis.cleanup();
    },
  };
}

async function startBaseline() {
  const child = spawn(process.execPath, [resolve(here, '../server/ws_broadcast_server.mjs'), '--write-delay-us', String(WRITE_DELAY_US)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((r) => child.stdout.on('data', (d) => r(Number(/:(\d+)/.exec(String(d))[1]))));
  const exited = new Promise((r) => child.once('exit', r));
  return { pid: child.pid, url: `ws://127.0.0.1:${port}/ws`, token: (u) => `baseline-${u}`, stop: () => (child.kill(), exited) };
}

async function round(mode) {
  const server = await (mode !== 'tidewire' ? startBaseline() : REDIS ? startNodesOnRedis() : startTidewire());
  try {
    return await runRound(mode, server, SHAPE, opts[`${mode}-publisher`]);
  } finally {
    await server.stop();
  }
}

const shape = SINKS === 0
  ? `${SUBSCRIBERS} subscribers (all timed ${'clients'}) in ${PROCS} processes`
  : `${SUBSCRIBERS} subscribers: ${CLIENTS} timed clients in ${PROCS} process(es) and ${SINKS} sinks in one more`;
console.log(`publish → deliver latency: ${int(RATE)} messages/s for ${SECONDS} s (after a ${WARMUP} s warm-up that is not timed), ` +
  `1 publisher, ${shape}, on one channel, ${ROUNDS} round(s) alternating ${MODES.join(' / ')}`);
const pubName = (p) => (p === 'tidewire' ? 'a tidewire client' : 'a raw ws socket');
console.log(`machine: ${cpus()[0].model}, ${CORES} cores. tidewire: tidewire-server + tidewire clients (web/dist), publisher ${pubName(opts['tidewire-publisher'])}; ` +
  `baseline: Node ws broadcast server (bench/server/ws_broadcast_server.mjs) + raw ws clients (split, JSON.parse, Map), publisher ${pubName(opts['baseline-publisher'])}`);
console.log(`write delay ${WRITE_DELAY_US} µs on both servers` +
  (WRITE_DELAY_US > 0 ? ` (batching, as in bench/server/fanout.mjs; tidewire-server's default is 0: --write-delay-us 0)` : ` (tidewire-server's default)`));
if (CLIENTS / PROCS > 1) {
  console.log(`note: each client process runs ${Math.ceil(CLIENTS / PROCS)} timed clients on one event loop, so a broadcast reaching them together is ` +
    `handled one client after the other: the figures include that queueing, which clients on their own machines would not have.`);
}
if (SINKS > 0) {
  console.log(`note: the ${SINKS} sinks read every frame and check every message's seq (hand-written WebSocket framing, no JSON parse, not timed): ` +
    `the server fans out to all ${SUBSCRIBERS} connections while the clients' CPU, which one machine per subscriber would provide, stays within ${CORES} cores.`);
}
console.log(`load: ${int(RATE)}/s × ${SUBSCRIBERS} = ${int(SUBSCRIBERS * RATE)} deliveries/s, ${int(CLIENTS * RATE)}/s of them through timed clients, all on ${CORES} cores ` +
  `next to the server and the publisher: a run whose machine has no idle CPU is flagged SATURATED (its latency is CPU queueing).`);
const rounds = Object.fromEntries(MODES.map((m) => [m, []]));
for (let i = 0; i < ROUNDS; i += 1) {
  for (const mode of MODES) {
    const r = await round(mode);
    rounds[mode].push(r);
    const lines = describeRound(r, SHAPE);
    console.log(`round ${i + 1} ${mode}: ${lines[0]}`);
    for (const l of lines.slice(1)) console.log(`    ${l}`);
  }
}

const summarize = summarizeRounds;
const summary = {
  bench: 'latency',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0].model, cores: CORES },
  rate: RATE,
  seconds: SECONDS,
  warmupSeconds: WARMUP,
  subscribers: SUBSCRIBERS,
  clients: CLIENTS,
  sinks: SINKS,
  procs: PROCS,
  writeDelayUs: WRITE_DELAY_US,
  publishers: { tidewire: opts['tidewire-publisher'], baseline: opts['baseline-publisher'] },
  bucketMs: BUCKET_MS,
  roundCount: ROUNDS,
  tidewire: summarize(rounds.tidewire ?? []),
  baseline: summarize(rounds.baseline ?? []),
  p50Ratios: (rounds.tidewire ?? []).map((t, i) => (rounds.baseline?.[i] ? t.p50Ms / rounds.baseline[i].p50Ms : null)),
  p99Ratios: (rounds.tidewire ?? []).map((t, i) => (rounds.baseline?.[i] ? t.p99Ms / rounds.baseline[i].p99Ms : null)),
  rounds,
};
for (const mode of MODES) {
  const s = summary[mode];
  console.log(`${mode} (median of ${ROUNDS}): p50 ${fmt(s.p50Ms)} ms, p90 ${fmt(s.p90Ms)} ms, p99 ${fmt(s.p99Ms)} ms, max ${fmt(s.maxMs)} ms, ` +
    `publish rate ${int(s.publishRate)}/s${s.complete ? ', every message delivered once' : ', MESSAGES MISSING OR DUPLICATED'}` +
    `${s.saturated ? ', CPU-SATURATED' : ''}${s.growing ? ', NOT KEEPING UP' : ''}`);
}
if (summary.tidewire && summary.baseline) {
  console.log(`tidewire / baseline per round: p50 ${summary.p50Ratios.map((x) => fmt(x)).join(', ')}; p99 ${summary.p99Ratios.map((x) => fmt(x)).join(', ')}`);
}
mkdirSync(dirname(opts.out), { recursive: true });
writeFileSync(opts.out, JSON.stringify(summary, null, 1) + '\n');
console.log(`wrote ${opts.out}`);
const { rounds: _omit, ...line } = summary;
console.log(JSON.stringify(line));
