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
import { fork, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { startServer } from '../../tests/node/helpers/server.mjs';
import { clock, wallClockOffsetMs } from './latency_clock.mjs';

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
const CLIENTS = Math.min(Number(opts.clients), SUBSCRIBERS);
const SINKS = SUBSCRIBERS - CLIENTS;
const PROCS = Math.min(Number(opts.procs), CLIENTS);
const WRITE_DELAY_US = Number(opts['write-delay-us']);
const WARM = Math.round(RATE * WARMUP); // messages sent during the warm-up: delivered and checked, not timed
const TOTAL = WARM + Math.round(RATE * SECONDS);
const BUCKET_MS = 0.01;
const RANGE_MS = 2000; // beyond: 1 ms buckets
const CORES = cpus().length;
const TICKS = 100; // CLK_TCK
const MODES = opts.only ? [opts.only] : ['tidewire', 'baseline'];
const NODES = Number(opts.nodes);
const REDIS = opts.redis || NODES > 1;
if (!(CLIENTS >= 1 && PROCS >= 1 && RATE > 0 && SECONDS > 0 && MODES.every((m) => m === 'tidewire' || m === 'baseline'))) {
  throw new Error('latency.mjs: needs --clients >= 1, --procs >= 1, --rate > 0, --seconds > 0, --only tidewire|baseline');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
const int = (x) => Math.round(x).toLocaleString('en-US');
const procCpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS; // utime + stime
};
const machineCpu = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
  return { busy: total - f[3] - f[4], total };
};

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

// A forked helper with a promise per awaited message type.
function helper(file) {
  const child = fork(resolve(here, file), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map();
  const got = new Map();
  child.on('message', (m) => {
    const w = waiting.get(m.type);
    if (w) {
      waiting.delete(m.type);
      w(m);
    } else got.set(m.type, m);
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.once('exit', (code) => {
    for (const [type, w] of waiting) w({ type, exited: true, code });
    waiting.clear();
  });
  return {
    child,
    send: (m) => child.connected && child.send(m),
    next: (type) => (got.has(type) ? Promise.resolve(got.get(type)) : new Promise((r) => waiting.set(type, r))),
    has: (type) => got.has(type),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      return exited;
    },
  };
}

const timeout = (ms, value) => new Promise((r) => setTimeout(() => r(value), ms));

function percentiles(hist, over, n) {
  // hist: Map bucket -> count (BUCKET_MS wide); over: Map floor(ms) -> count beyond RANGE_MS. Values returned are
  // bucket upper edges.
  const buckets = [
    ...[...hist.keys()].sort((a, b) => a - b).map((k) => [(k + 1) * BUCKET_MS, hist.get(k)]),
    ...[...over.keys()].sort((a, b) => a - b).map((k) => [k + 1, over.get(k)]),
  ];
  const at = (q) => {
    const rank = Math.max(1, Math.ceil(q * n));
    let cum = 0;
    for (const [edge, count] of buckets) {
      cum += count;
      if (cum >= rank) return edge;
    }
    return null;
  };
  return { p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), p999Ms: at(0.999) };
}

async function round(mode) {
  const server = await (mode !== 'tidewire' ? startBaseline() : REDIS ? startNodesOnRedis() : startTidewire());
  const subs = [];
  let pub;
  try {
    // Subscribers: CLIENTS timed clients over PROCS processes, and SINKS sinks in one more; one user (token) each.
    for (let p = 0; p < PROCS + (SINKS > 0 ? 1 : 0); p += 1) {
      const sink = p === PROCS;
      const h = helper('latency_subscriber.mjs');
      const tokens = [];
      const urls = [];
      const add = (i) => (tokens.push(server.token(`sub${i}`)), urls.push(server.urlFor?.(i) ?? server.url));
      if (sink) for (let i = CLIENTS; i < SUBSCRIBERS; i += 1) add(i);
      else for (let i = p; i < CLIENTS; i += PROCS) add(i);
      h.send({ type: 'config', mode, sink, url: server.url, urls, tokens, total: TOTAL, warm: WARM, rate: RATE, bucketMs: BUCKET_MS, rangeMs: RANGE_MS });
      subs.push(h);
    }
    const readies = await Promise.race([Promise.all(subs.map((h) => h.next('ready'))), timeout(30_000, null)]);
    if (!readies || readies.some((r) => r.exited)) throw new Error(`${mode}: subscribers did not all subscribe within 30 s`);
    pub = helper('latency_publisher.mjs');
    pub.send({ type: 'config', mode: opts[`${mode}-publisher`] === 'tidewire' ? 'tidewire' : 'baseline', url: server.url, token: server.token('publisher'), total: TOTAL, warm: WARM, rate: RATE });
    const pubReady = await Promise.race([pub.next('ready'), timeout(30_000, null)]);
    if (!pubReady || pubReady.exited) throw new Error(`${mode}: the publisher did not subscribe within 30 s`);
    const offsets = [wallClockOffsetMs(), pubReady.clockOffsetMs, ...readies.map((r) => r.clockOffsetMs)];
    const wallClockSkewMs = Math.max(...offsets) - Math.min(...offsets);

    const startAt = clock() + 200;
    const measureStart = startAt + WARMUP * 1000;
    const measureEnd = measureStart + SECONDS * 1000;
    pub.send({ type: 'go', startAt });
    // CPU of every part, read from /proc by this (idle) process at the window's edges: timers in a busy client
    // process would fire late.
    const sample = () => ({
      server: (server.pids ?? [server.pid]).reduce((sum, pid) => sum + procCpuMs(pid), 0),
      subscribers: subs.map((h) => procCpuMs(h.child.pid)),
      publisher: procCpuMs(pub.child.pid),
      machine: machineCpu(),
      at: clock(),
    });
    const cpu = {};
    setTimeout(() => (cpu.start = sample()), Math.max(0, measureStart - clock()));
    setTimeout(() => (cpu.end = sample()), Math.max(0, measureEnd - clock()));

    const pubDone = await Promise.race([pub.next('done'), timeout((WARMUP + SECONDS) * 1000 + 60_000, null)]);
    if (!pubDone || pubDone.exited) throw new Error(`${mode}: the publisher did not finish`);
    // Every subscriber process reports once all its clients have every message; after the drain time, whatever
    // they have.
    const drained = await Promise.race([Promise.all(subs.map((h) => h.next('done'))), timeout(Number(opts['drain-ms']), null)]);
    if (!drained) for (const h of subs) h.send({ type: 'finish' });
    const dones = drained ?? (await Promise.race([Promise.all(subs.map((h) => h.next('done'))), timeout(10_000, null)]));
    if (!dones || dones.some((d) => d.exited)) throw new Error(`${mode}: a subscriber process did not report`);

    // Merge.
    const hist = new Map();
    const over = new Map();
    let samples = 0;
    let maxMs = 0;
    let negatives = 0;
    const perSec = dones[0].perSec.map(() => ({ sum: 0, count: 0, max: 0 }));
    const clients = [];
    for (const d of dones) {
      for (let i = 0; i < d.hist.length; i += 2) hist.set(d.hist[i], (hist.get(d.hist[i]) ?? 0) + d.hist[i + 1]);
      for (let i = 0; i < d.over.length; i += 2) over.set(d.over[i], (over.get(d.over[i]) ?? 0) + d.over[i + 1]);
      samples += d.samples;
      negatives += d.negatives;
      maxMs = Math.max(maxMs, d.maxMs);
      d.perSec.forEach((s, i) => {
        perSec[i].sum += s.sum;
        perSec[i].count += s.count;
        perSec[i].max = Math.max(perSec[i].max, s.max);
      });
      clients.push(...d.clients);
    }
    let meanSum = 0;
    for (const [k, c] of hist) meanSum += (k + 0.5) * BUCKET_MS * c;
    for (const [k, c] of over) meanSum += (k + 0.5) * c;
    const received = clients.map((c) => c.received);
    const sum = (f) => clients.reduce((a, c) => a + c[f], 0);
    const window = cpu.start && cpu.end ? cpu.end.at - cpu.start.at : SECONDS * 1000;
    const machineBusy = cpu.start && cpu.end
      ? ((cpu.end.machine.busy - cpu.start.machine.busy) / (cpu.end.machine.total - cpu.start.machine.total)) * CORES * 100
      : null;
    const pct = (ms) => (ms === null || ms === undefined ? null : (ms / window) * 100);
    const res = {
      ...percentiles(hist, over, samples),
      maxMs,
      meanMs: samples ? meanSum / samples : null,
      samples,
      expectedSamples: (TOTAL - WARM) * CLIENTS,
      negatives,
      receivedMin: Math.min(...received),
      receivedMax: Math.max(...received),
      expectedPerSubscriber: TOTAL,
      lost: TOTAL * SUBSCRIBERS - received.reduce((a, b) => a + b, 0),
      duplicates: sum('dups'),
      reordered: sum('reordered'),
      disconnects: sum('closed'),
      complete: received.every((r) => r === TOTAL) && sum('dups') === 0 && sum('bad') === 0,
      publishRate: pubDone.measuredRate,
      publishLagP99Ms: pubDone.lagP99Ms,
      publishLagMaxMs: pubDone.lagMaxMs,
      acked: pubDone.acked,
      ackP50Ms: pubDone.ackP50Ms,
      ackP99Ms: pubDone.ackP99Ms,
      ackErrors: pubDone.ackErrors,
      cpuPercent: {
        server: cpu.start && cpu.end ? pct(cpu.end.server - cpu.start.server) : null,
        subscribers: subs.map((_, i) => (cpu.start && cpu.end ? pct(cpu.end.subscribers[i] - cpu.start.subscribers[i]) : null)),
        publisher: cpu.start && cpu.end ? pct(cpu.end.publisher - cpu.start.publisher) : null,
        machine: machineBusy,
      },
      cpuOtherPercent: null,
      perSecondMeanMs: perSec.map((s) => (s.count ? s.sum / s.count : null)),
      perSecondMaxMs: perSec.map((s) => s.max),
      wallClockSkewMs,
    };
    const c = res.cpuPercent;
    const ours = [c.server, c.publisher, ...c.subscribers];
    if (c.machine !== null && ours.every((x) => x !== null)) res.cpuOtherPercent = Math.max(0, c.machine - ours.reduce((a, b) => a + b, 0));
    const busy = res.cpuPercent.machine;
    res.saturated = busy !== null && busy >= 0.9 * CORES * 100;
    const ps = res.perSecondMeanMs.filter((x) => x !== null);
    res.growing = ps.length >= 2 && ps[ps.length - 1] > 2 * ps[0] && ps[ps.length - 1] > 1;
    return res;
  } finally {
    if (pub) pub.send({ type: 'finish' });
    await Promise.all([...subs, ...(pub ? [pub] : [])].map((h) => Promise.race([h.stop(), timeout(2000)])));
    await server.stop();
  }
}

function describe(r) {
  const integrity = r.complete && r.reordered === 0
    ? `all ${int(r.expectedPerSubscriber)} messages at each of ${SUBSCRIBERS} subscribers, none lost, duplicated or reordered`
    : `INCOMPLETE: received per subscriber ${int(r.receivedMin)}..${int(r.receivedMax)} of ${int(r.expectedPerSubscriber)}, ` +
      `missing ${int(r.lost)} (not delivered ${int(Number(opts['drain-ms']) / 1000)} s after the last send), duplicates ${int(r.duplicates)}, reordered ${int(r.reordered)}, disconnects ${r.disconnects}`;
  const c = r.cpuPercent;
  const subCpu = c.subscribers.map((x, i) => fmt(x, 0) + '%' + (i === PROCS ? ' (sinks)' : '')).join(' + ');
  const cpuLine = `CPU over the window: server ${fmt(c.server, 0)}%, subscriber processes ${subCpu}, ` +
    `publisher ${fmt(c.publisher, 0)}%; whole machine ${fmt(c.machine, 0)}% of ${CORES * 100}% (other processes: ${fmt(r.cpuOtherPercent, 0)}%)`;
  const flags = [];
  if (r.saturated) flags.push(`SATURATED: the machine had no idle CPU${r.cpuOtherPercent > 20 ? ' (other processes took part of it)' : ''}, so latency includes CPU queueing`);
  if (r.growing) flags.push(`NOT KEEPING UP: mean latency grew from ${fmt(r.perSecondMeanMs[0])} to ${fmt(r.perSecondMeanMs.at(-1))} ms over the run`);
  if (r.negatives > 0) flags.push(`${r.negatives} negative samples (clock skew)`);
  return [
    `p50 ${fmt(r.p50Ms)} ms, p90 ${fmt(r.p90Ms)} ms, p99 ${fmt(r.p99Ms)} ms, p99.9 ${fmt(r.p999Ms)} ms, max ${fmt(r.maxMs)} ms, mean ${fmt(r.meanMs)} ms`,
    `${integrity}; publish rate ${int(r.publishRate)}/s (send lag behind schedule: p99 ${fmt(r.publishLagP99Ms)} ms, max ${fmt(r.publishLagMaxMs)} ms), acks ${int(r.acked)}/${int(TOTAL)} (publisher's send → ack p50 ${fmt(r.ackP50Ms)} ms, p99 ${fmt(r.ackP99Ms)} ms)` +
      (Object.keys(r.ackErrors).length ? ` errors ${JSON.stringify(r.ackErrors)}` : ''),
    cpuLine,
    `clock: CLOCK_MONOTONIC-anchored (timeOrigin + now would have disagreed by ${fmt(r.wallClockSkewMs * 1000, 0)} µs between these processes)`,
    `mean latency per second of the run: ${r.perSecondMeanMs.map((x) => fmt(x)).join(', ')} ms`,
    ...flags,
  ];
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
    const lines = describe(r);
    console.log(`round ${i + 1} ${mode}: ${lines[0]}`);
    for (const l of lines.slice(1)) console.log(`    ${l}`);
  }
}

const summarize = (rs) =>
  rs.length === 0
    ? null
    : {
        p50Ms: median(rs.map((r) => r.p50Ms)),
        p90Ms: median(rs.map((r) => r.p90Ms)),
        p99Ms: median(rs.map((r) => r.p99Ms)),
        maxMs: median(rs.map((r) => r.maxMs)),
        publishRate: median(rs.map((r) => r.publishRate)),
        complete: rs.every((r) => r.complete),
        saturated: rs.some((r) => r.saturated),
        growing: rs.some((r) => r.growing),
        meanMs: median(rs.map((r) => r.meanMs)),
        ackP50Ms: median(rs.map((r) => r.ackP50Ms)),
        ackP99Ms: median(rs.map((r) => r.ackP99Ms)),
        serverCpuPercent: median(rs.map((r) => r.cpuPercent.server)),
        publisherCpuPercent: median(rs.map((r) => r.cpuPercent.publisher)),
        machineCpuPercent: median(rs.map((r) => r.cpuPercent.machine)),
        otherCpuPercent: median(rs.map((r) => r.cpuOtherPercent)),
      };
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
