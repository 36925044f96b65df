// Scale-out on Redis against one node (issue #15, "Benchmarks"), in one run:
//
// 1. Publish → deliver latency at --rate (2,000) messages/s × --subscribers (100) on one channel: three
//    tidewire-server nodes with --broker redis (a redis-server on a free port, no persistence; each node on its own
//    port, no load balancer: subscriber i connects to node i mod 3, the publisher to node 1) against one node with
//    the memory broker. Rounds alternate one node / three nodes with the same payload, rate, subscribers, clients
//    and flags (--data-dir :memory: on both: history in memory on one node, in Redis streams on three). The rounds
//    themselves are bench/node/latency.mjs's (latency_round.mjs: timed tidewire clients plus sinks, the
//    CLOCK_MONOTONIC clock, every message checked at every subscriber, CPU of every process from /proc), with
//    --clients 3 by default so that one timed client sits on each node.
// 2. Server CPU per delivery: the sum of every node's CPU (utime + stime from /proc/<pid>/stat) over the measured
//    window ÷ deliveries in it (publish rate × subscribers), three nodes against one; Redis's own CPU apart. With
//    it, to explain it: context switches of the nodes' threads per message (/proc/<pid>/task/*/status) and the
//    nodes' broker counters (/metrics: calls to Redis, their mean round trip, backfills, errors).
// 3. Publications per second through one Redis: --flood-publishers raw ws publishers (publish_flood.mjs), spread
//    over the nodes, each keeping --flood-window publishes in flight (the next one goes on each ack: as fast as
//    the nodes accept, acked), all on one channel that every node listens to. Reported with redis-server's CPU,
//    the nodes' CPU and the publishers' CPU; the same against one node with the memory broker, for reference.
//
//   node bench/node/scale_out.mjs [--rounds 3] [--seconds 5] [--warmup 1] [--rate 2000] [--subscribers 100]
//        [--nodes 3] [--clients 3] [--procs 3] [--write-delay-us 0] [--publisher tidewire|ws]
//        [--flood-seconds 4] [--flood-publishers 3] [--flood-window 100] [--drain-ms 15000] [--out FILE]
//
// Targets (issue #15): p50 within +0.5 ms and p99 within +5 ms of one node; CPU per delivery within 1.2×. The
// verdict compares the medians over rounds (and per pair of rounds, to show the noise); it is marked '?' when
// processes outside the bench took over 20% of the machine during a round, or a round fell behind: a starved
// server batches more messages per frame (less CPU per delivery) and every hop waits for a core. Prints one block per round, a table, and a JSON line last; writes the
// JSON (with every round) to test-results/bench/scale_out.json. Everything runs on this one machine: a round
// whose machine had no idle CPU is flagged SATURATED (latency then includes CPU queueing).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { startNodes, startRedis } from '../../tests/node/helpers/cluster.mjs';
import { startServer } from '../../tests/node/helpers/server.mjs';
import {
  CORES, describeRound, fmt, helper, int, latencyShape, machineCpu, median, procCpuMs, runRound, summarizeRounds,
  timeout,
} from './latency_round.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    rate: { type: 'string', default: '2000' },
    subscribers: { type: 'string', default: '100' },
    nodes: { type: 'string', default: '3' },
    clients: { type: 'string', default: '3' },
    procs: { type: 'string', default: '3' },
    'write-delay-us': { type: 'string', default: '0' },
    publisher: { type: 'string', default: 'tidewire' },
    'flood-seconds': { type: 'string', default: '4' },
    'flood-publishers': { type: 'string', default: '3' },
    'flood-window': { type: 'string', default: '100' },
    'drain-ms': { type: 'string', default: '15000' },
    out: { type: 'string', default: resolve(root, 'test-results/bench/scale_out.json') },
  },
});
const ROUNDS = Number(opts.rounds);
const NODES = Number(opts.nodes);
const WRITE_DELAY_US = Number(opts['write-delay-us']);
const SHAPE = latencyShape({
  rate: Number(opts.rate), seconds: Number(opts.seconds), warmup: Number(opts.warmup),
  subscribers: Number(opts.subscribers), clients: Number(opts.clients), procs: Number(opts.procs),
  drainMs: Number(opts['drain-ms']),
});
const FLOOD_SECONDS = Number(opts['flood-seconds']);
const FLOOD_PUBLISHERS = Number(opts['flood-publishers']);
const FLOOD_WINDOW = Number(opts['flood-window']);
const PUBLISHER = opts.publisher === 'ws' ? 'baseline' : 'tidewire';
const TARGET = { p50DeltaMs: 0.5, p99DeltaMs: 5, cpuRatio: 1.2 };
if (!(NODES >= 2 && SHAPE.clients >= 1 && SHAPE.rate > 0 && SHAPE.seconds > 0 && FLOOD_PUBLISHERS >= 1)) {
  throw new Error('scale_out.mjs: needs --nodes >= 2, --clients >= 1, --rate > 0, --seconds > 0, --flood-publishers >= 1');
}
// The server's defaults, except: no per-connection rate limit (publishers send thousands per second), quiet logs.
const ARGS = ['--rate-limit', '0', '--write-delay-us', String(WRITE_DELAY_US), '--log-level', 'warn'];

// One node, memory broker. server.mjs gives it --data-dir :memory:, as the nodes on Redis have.
async function startOne() {
  const s = await startServer({ args: ARGS });
  return {
    label: 'one node',
    pid: s.process.pid,
    nodePids: [s.process.pid],
    url: s.wsUrl,
    urlFor: () => s.wsUrl,
    token: (u) => s.token(u),
    stop: () => s.stop(),
  };
}

// NODES nodes on one redis-server; "server" CPU is the nodes', Redis's is its own part.
async function startMany() {
  const redis = await startRedis();
  const nodes = await startNodes(redis, NODES, { args: ARGS });
  return {
    label: `${NODES} nodes`,
    pid: nodes[0].process.pid,
    pids: nodes.map((n) => n.process.pid),
    nodePids: nodes.map((n) => n.process.pid),
    redisPid: redis.pid,
    cpuPids: { redis: redis.pid },
    // The nodes' broker counters (/metrics), summed.
    brokerCounters: async () => {
      const sum = { round_trips: 0, round_trip_microseconds: 0, backfills: 0, errors: 0 };
      for (const n of nodes) {
        const text = await (await fetch(`${n.httpUrl}/metrics`)).text();
        for (const k of Object.keys(sum)) sum[k] += Number(new RegExp(`^tidewire_broker_${k}_total (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
      }
      return sum;
    },
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

// Context switches of every thread of the nodes so far (voluntary: a thread waits for work; each message that
// wakes an idle thread costs one).
const contextSwitches = (pids) => {
  let n = 0;
  for (const pid of pids) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      n += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)[1]) + Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)[1]);
    }
  }
  return n;
};

async function latencyRound(start) {
  const server = await start();
  try {
    const before = await server.brokerCounters?.();
    const switches = contextSwitches(server.nodePids);
    const r = await runRound('tidewire', server, SHAPE, PUBLISHER);
    r.nodeContextSwitchesPerMessage = (contextSwitches(server.nodePids) - switches) / SHAPE.total; // whole round
    if (before) {
      // Over the whole round (warm-up included): the nodes' calls to Redis (publishes and stream reads).
      const after = await server.brokerCounters();
      const d = Object.fromEntries(Object.keys(before).map((k) => [k, after[k] - before[k]]));
      r.broker = { calls: d.round_trips, meanRoundTripMs: d.round_trips ? d.round_trip_microseconds / d.round_trips / 1000 : null, backfills: d.backfills, errors: d.errors };
    }
    // µs of CPU per delivery: CPU% / 100 s per s ÷ deliveries per s.
    const perDelivery = (pct) => (pct === null ? null : (pct / 100 / (r.publishRate * SHAPE.subscribers)) * 1e6);
    r.nodeCpuUsPerDelivery = perDelivery(r.cpuPercent.server);
    r.redisCpuUsPerDelivery = r.cpuPercent.parts ? perDelivery(r.cpuPercent.parts.redis) : null;
    return r;
  } finally {
    await server.stop();
  }
}

// Publications per second, acked, as fast as the nodes take them.
async function flood(start) {
  const server = await start();
  const pubs = [];
  try {
    for (let j = 0; j < FLOOD_PUBLISHERS; j += 1) {
      const h = helper('publish_flood.mjs');
      h.send({ type: 'config', url: server.urlFor(j), token: server.token(`flood${j}`), channel: 'flood', window: FLOOD_WINDOW });
      pubs.push(h);
    }
    const ready = await Promise.race([Promise.all(pubs.map((h) => Promise.race([h.next('ready'), h.next('failed')]))), timeout(30_000, null)]);
    if (!ready || ready.some((m) => m.type !== 'ready')) throw new Error(`flood (${server.label}): publishers not ready: ${JSON.stringify(ready)}`);
    for (const h of pubs) h.send({ type: 'go' });
    await timeout(1000); // warm-up
    const sample = () => ({
      nodes: server.nodePids.reduce((a, pid) => a + procCpuMs(pid), 0),
      redis: server.redisPid ? procCpuMs(server.redisPid) : null,
      publishers: pubs.reduce((a, h) => a + procCpuMs(h.child.pid), 0),
      machine: machineCpu(),
      at: performance.now(),
    });
    for (const h of pubs) h.send({ type: 'mark' });
    await Promise.all(pubs.map((h) => h.next('marked')));
    const a = sample();
    await timeout(FLOOD_SECONDS * 1000);
    const b = sample();
    for (const h of pubs) h.send({ type: 'stop' });
    const dones = await Promise.race([Promise.all(pubs.map((h) => h.next('done'))), timeout(10_000, null)]);
    if (!dones) throw new Error(`flood (${server.label}): publishers did not report`);
    const seconds = (b.at - a.at) / 1000;
    const pct = (x, y) => (x === null ? null : ((y - x) / 10 / seconds));
    const acked = dones.reduce((s, d) => s + d.acked, 0);
    const errors = {};
    for (const d of dones) for (const [k, v] of Object.entries(d.errors)) errors[k] = (errors[k] ?? 0) + v;
    const res = {
      publishers: FLOOD_PUBLISHERS,
      window: FLOOD_WINDOW,
      seconds,
      acked,
      publicationsPerSecond: acked / seconds,
      errors,
      ownCopiesPerSecond: dones.reduce((s, d) => s + d.received, 0) / seconds,
      cpuPercent: {
        nodes: pct(a.nodes, b.nodes),
        redis: pct(a.redis, b.redis),
        publishers: pct(a.publishers, b.publishers),
        machine: ((b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)) * CORES * 100,
      },
    };
    res.cpuPercent.other = Math.max(0, res.cpuPercent.machine - res.cpuPercent.nodes - (res.cpuPercent.redis ?? 0) - res.cpuPercent.publishers);
    res.saturated = res.cpuPercent.machine >= 0.9 * CORES * 100;
    const per = (p) => (p === null ? null : (p / 100 / res.publicationsPerSecond) * 1e6);
    res.nodeCpuUsPerPublication = per(res.cpuPercent.nodes);
    res.redisCpuUsPerPublication = per(res.cpuPercent.redis);
    return res;
  } finally {
    for (const h of pubs) h.send({ type: 'finish' });
    await Promise.all(pubs.map((h) => Promise.race([h.stop(), timeout(2000)])));
    await server.stop();
  }
}

const describeFlood = (f) => {
  const c = f.cpuPercent;
  return `${int(f.publicationsPerSecond)} publications/s acked (${int(f.acked)} in ${fmt(f.seconds, 1)} s, ${f.publishers} publishers × ${f.window} in flight` +
    `${Object.keys(f.errors).length ? `, errors ${JSON.stringify(f.errors)}` : ', no errors'}); CPU: nodes ${fmt(c.nodes, 0)}%` +
    `${c.redis === null ? '' : `, redis-server ${fmt(c.redis, 0)}%`}, publishers ${fmt(c.publishers, 0)}%, whole machine ${fmt(c.machine, 0)}% of ${CORES * 100}% ` +
    `(other processes ${fmt(c.other, 0)}%)${f.saturated ? ' SATURATED' : ''}`;
};

console.log(`scale-out: ${int(SHAPE.rate)} messages/s for ${SHAPE.seconds} s (after a ${SHAPE.warmup} s warm-up that is not timed) on one channel, ` +
  `${SHAPE.subscribers} subscribers (${SHAPE.clients} timed tidewire clients in ${SHAPE.procs} process(es), ${SHAPE.sinks} sinks in one more), ` +
  `publisher: ${PUBLISHER === 'tidewire' ? 'a tidewire client' : 'a raw ws socket'}; ${ROUNDS} round(s) alternating one node (memory broker) / ` +
  `${NODES} nodes on one redis-server (subscriber i on node i mod ${NODES}, the publisher on node 1, no load balancer)`);
console.log(`machine: ${cpus()[0].model}, ${CORES} cores, shared by every process of the run (nodes, Redis, clients); write delay ${WRITE_DELAY_US} µs`);

const rounds = { one: [], many: [] };
for (let i = 0; i < ROUNDS; i += 1) {
  for (const [key, start, label] of [['one', startOne, 'one node'], ['many', startMany, `${NODES} nodes`]]) {
    const r = await latencyRound(start);
    rounds[key].push(r);
    const lines = describeRound(r, SHAPE);
    console.log(`round ${i + 1} ${label}: ${lines[0]}`);
    for (const l of lines.slice(1)) console.log(`    ${l}`);
    console.log(`    server CPU per delivery: ${fmt(r.nodeCpuUsPerDelivery)} µs${r.redisCpuUsPerDelivery === null ? '' : ` (nodes), redis-server ${fmt(r.redisCpuUsPerDelivery)} µs`}; ` +
      `the nodes' threads switched ${fmt(r.nodeContextSwitchesPerMessage, 1)} times per message`);
    if (r.broker) {
      console.log(`    broker (the nodes' /metrics over the round): ${int(r.broker.calls)} calls to Redis, mean round trip ${fmt(r.broker.meanRoundTripMs, 3)} ms ` +
        `(the node's broker thread → Redis → back), ${r.broker.backfills} backfills, ${r.broker.errors} errors`);
    }
  }
}
console.log(`publications per second through ${NODES} nodes on one Redis, ${FLOOD_SECONDS} s after a 1 s warm-up:`);
const floodMany = await flood(startMany);
console.log(`    ${NODES} nodes: ${describeFlood(floodMany)}`);
const floodOne = await flood(startOne);
console.log(`    one node (memory broker, reference): ${describeFlood(floodOne)}`);

const one = {
  ...summarizeRounds(rounds.one),
  cpuUsPerDelivery: median(rounds.one.map((r) => r.nodeCpuUsPerDelivery)),
  contextSwitchesPerMessage: median(rounds.one.map((r) => r.nodeContextSwitchesPerMessage)),
};
const many = {
  ...summarizeRounds(rounds.many),
  cpuUsPerDelivery: median(rounds.many.map((r) => r.nodeCpuUsPerDelivery)),
  redisCpuPercent: median(rounds.many.map((r) => r.cpuPercent.parts.redis)),
  redisCpuUsPerDelivery: median(rounds.many.map((r) => r.redisCpuUsPerDelivery)),
  brokerRoundTripMs: median(rounds.many.map((r) => r.broker.meanRoundTripMs)),
  contextSwitchesPerMessage: median(rounds.many.map((r) => r.nodeContextSwitchesPerMessage)),
};
const clientCpu = (rs) => median(rs.map((r) => Math.max(r.cpuPercent.publisher, ...r.cpuPercent.subscribers)));
const verdict = {
  p50DeltaMs: many.p50Ms - one.p50Ms,
  p99DeltaMs: many.p99Ms - one.p99Ms,
  cpuRatio: many.cpuUsPerDelivery / one.cpuUsPerDelivery,
  cpuRatioWithRedis: (many.cpuUsPerDelivery + many.redisCpuUsPerDelivery) / one.cpuUsPerDelivery,
};
// The same per pair of rounds (one node, then three nodes, back to back): how much the verdict moves with the noise.
verdict.pairs = rounds.many.map((m, i) => ({
  p50DeltaMs: m.p50Ms - rounds.one[i].p50Ms,
  p99DeltaMs: m.p99Ms - rounds.one[i].p99Ms,
  cpuRatio: m.nodeCpuUsPerDelivery / rounds.one[i].nodeCpuUsPerDelivery,
}));
verdict.p50Met = verdict.p50DeltaMs <= TARGET.p50DeltaMs;
verdict.p99Met = verdict.p99DeltaMs <= TARGET.p99DeltaMs;
verdict.cpuMet = verdict.cpuRatio <= TARGET.cpuRatio;

// A verdict from rounds that shared the machine with other work (over 20% of it) or fell behind is marked '?'.
const all = [...rounds.one, ...rounds.many];
const others = all.map((r) => r.cpuOtherPercent).filter((x) => x !== null);
verdict.disturbed = others.some((x) => x > 20) || all.some((r) => r.growing);
const yes = (b) => (b ? 'met' : 'MISSED') + (verdict.disturbed ? ' ?' : '');
const rows = [
  ['', 'one node (memory)', `${NODES} nodes (Redis)`, 'difference', 'target', ''],
  ['p50 publish → deliver', `${fmt(one.p50Ms)} ms`, `${fmt(many.p50Ms)} ms`, `${verdict.p50DeltaMs >= 0 ? '+' : ''}${fmt(verdict.p50DeltaMs)} ms`, `≤ +${TARGET.p50DeltaMs} ms`, yes(verdict.p50Met)],
  ['p99 publish → deliver', `${fmt(one.p99Ms)} ms`, `${fmt(many.p99Ms)} ms`, `${verdict.p99DeltaMs >= 0 ? '+' : ''}${fmt(verdict.p99DeltaMs)} ms`, `≤ +${TARGET.p99DeltaMs} ms`, yes(verdict.p99Met)],
  ['server CPU per delivery', `${fmt(one.cpuUsPerDelivery)} µs`, `${fmt(many.cpuUsPerDelivery)} µs`, `${fmt(verdict.cpuRatio)}×`, `≤ ${TARGET.cpuRatio}×`, yes(verdict.cpuMet)],
  ['  + redis-server', '', `${fmt(many.cpuUsPerDelivery + many.redisCpuUsPerDelivery)} µs`, `${fmt(verdict.cpuRatioWithRedis)}×`, '(not a target)', ''],
  ['publisher send → ack', `${fmt(one.ackP50Ms)} / ${fmt(one.ackP99Ms)} ms`, `${fmt(many.ackP50Ms)} / ${fmt(many.ackP99Ms)} ms`, '', '(p50 / p99)', ''],
  ['node → Redis round trip', '', `${fmt(many.brokerRoundTripMs, 3)} ms`, '', '(mean, /metrics)', ''],
  ['context switches per message', fmt(one.contextSwitchesPerMessage, 1), fmt(many.contextSwitchesPerMessage, 1), '', '(all threads of the nodes)', ''],
  ['server CPU (nodes)', `${fmt(one.serverCpuPercent, 0)}%`, `${fmt(many.serverCpuPercent, 0)}% + Redis ${fmt(many.redisCpuPercent, 0)}%`, '', '', ''],
  ['busiest client process', `${fmt(clientCpu(rounds.one), 0)}%`, `${fmt(clientCpu(rounds.many), 0)}%`, '', '(< 100%: not the bottleneck)', ''],
  ['whole machine', `${fmt(one.machineCpuPercent, 0)}%`, `${fmt(many.machineCpuPercent, 0)}%`, '', `of ${CORES * 100}%`, ''],
  ['publications/s (flood)', int(floodOne.publicationsPerSecond), int(floodMany.publicationsPerSecond), '', '(not a target)', ''],
  ['  CPU: nodes / Redis / publishers', `${fmt(floodOne.cpuPercent.nodes, 0)}% / - / ${fmt(floodOne.cpuPercent.publishers, 0)}%`,
    `${fmt(floodMany.cpuPercent.nodes, 0)}% / ${fmt(floodMany.cpuPercent.redis, 0)}% / ${fmt(floodMany.cpuPercent.publishers, 0)}%`, '', '', ''],
  ['  Redis CPU per publication', '', `${fmt(floodMany.redisCpuUsPerPublication)} µs`, '', '', ''],
];
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`summary (medians of ${ROUNDS} round(s); flood: one run each):`);
for (const r of rows) console.log('  ' + r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
const signed = (x) => `${x >= 0 ? '+' : ''}${fmt(x)}`;
console.log(`  per pair of rounds: p50 ${verdict.pairs.map((p) => signed(p.p50DeltaMs)).join(', ')} ms; p99 ${verdict.pairs.map((p) => signed(p.p99DeltaMs)).join(', ')} ms; ` +
  `CPU per delivery ${verdict.pairs.map((p) => fmt(p.cpuRatio) + '×').join(', ')}`);
const flags = [];
if (![...rounds.one, ...rounds.many].every((r) => r.complete && r.reordered === 0)) flags.push('MESSAGES MISSING, DUPLICATED OR REORDERED in some round');
if ([...rounds.one, ...rounds.many].some((r) => r.saturated)) {
  flags.push('some rounds were CPU-SATURATED (no idle CPU on the machine): their latency includes CPU queueing, and their CPU per delivery ' +
    'is lower than on an idle machine (a starved server writes more messages per frame)');
}
if (verdict.disturbed) {
  flags.push(`'?': not a verdict: processes outside this bench took up to ${fmt(Math.max(0, ...others), 0)}% of the machine during the rounds ` +
    `(or a round fell behind): rerun on a quiet machine`);
}
if ([...rounds.one, ...rounds.many].some((r) => r.growing)) flags.push('some rounds were NOT KEEPING UP');
for (const f of flags) console.log(`  note: ${f}`);

const summary = {
  bench: 'scale_out',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0].model, cores: CORES },
  nodes: NODES,
  rate: SHAPE.rate,
  seconds: SHAPE.seconds,
  warmupSeconds: SHAPE.warmup,
  subscribers: SHAPE.subscribers,
  clients: SHAPE.clients,
  sinks: SHAPE.sinks,
  procs: SHAPE.procs,
  writeDelayUs: WRITE_DELAY_US,
  publisher: PUBLISHER,
  roundCount: ROUNDS,
  target: TARGET,
  one,
  many,
  verdict,
  flood: { one: floodOne, many: floodMany },
  rounds,
};
mkdirSync(dirname(opts.out), { recursive: true });
writeFileSync(opts.out, JSON.stringify(summary, null, 1) + '\n');
console.log(`wrote ${opts.out}`);
const { rounds: _omit, ...line } = summary;
console.log(JSON.stringify(line));
// The rounds' time-outs (up to a minute) are still pending: nothing else is left to wait for.
process.exit(0);
