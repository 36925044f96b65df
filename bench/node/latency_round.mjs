// One round of the publish → deliver latency benchmark against a server that is already running: the subscriber
// processes (latency_subscriber.mjs: timed clients and sinks), the publisher (latency_publisher.mjs), CPU of every
// part from /proc over the measured window, the merged histogram, and the integrity checks. Shared by
// bench/node/latency.mjs (tidewire against a Node ws baseline) and bench/node/scale_out.mjs (several nodes on
// Redis against one node); what the figures mean is explained at the top of latency.mjs.
//
//   const shape = latencyShape({ rate, seconds, warmup, subscribers, clients, procs, drainMs });
//   const r = await runRound(mode, server, shape, publisher);   // mode: 'tidewire' | 'baseline'
//   for (const line of describeRound(r, shape)) console.log(line);
//
// server: { pid, pids?, url, urlFor?(i), token(user), cpuPids? }. CPU "server" is the sum over pids (else pid);
// cpuPids ({ name: pid }) are read as well and reported apart in r.cpuPercent.parts. Subscriber i connects to
// urlFor(i) (else url); the publisher to url.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { clock, wallClockOffsetMs } from './latency_clock.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const BUCKET_MS = 0.01;
export const RANGE_MS = 2000; // beyond: 1 ms buckets
export const CORES = cpus().length;
const TICKS = 100; // CLK_TCK

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const fmt = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
export const int = (x) => Math.round(x).toLocaleString('en-US');
export const timeout = (ms, value) => new Promise((r) => setTimeout(() => r(value), ms));

/** utime + stime of a process so far, in ms. */
export const procCpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS; // utime + stime
};
/** The whole machine's busy and total jiffies so far. */
export const machineCpu = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
  return { busy: total - f[3] - f[4], total };
};

/** The numbers one round needs, from the options of either bench. */
export function latencyShape({ rate, seconds, warmup, subscribers, clients, procs, drainMs }) {
  const CLIENTS = Math.min(clients, subscribers);
  return {
    rate,
    seconds,
    warmup,
    subscribers,
    clients: CLIENTS,
    sinks: subscribers - CLIENTS,
    procs: Math.min(procs, CLIENTS),
    drainMs,
    warm: Math.round(rate * warmup), // messages sent during the warm-up: delivered and checked, not timed
    total: Math.round(rate * warmup) + Math.round(rate * seconds),
  };
}

// A forked helper with a promise per awaited message type.
export function helper(file) {
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

/**
 * One round against `server` (running; the caller stops it). `mode` picks the subscribers' clients (tidewire or
 * raw ws), `publisher` the publisher's ('tidewire' or 'baseline': a raw ws socket).
 */
export async function runRound(mode, server, shape, publisher) {
  const { rate: RATE, seconds: SECONDS, warmup: WARMUP, subscribers: SUBSCRIBERS, clients: CLIENTS, sinks: SINKS,
    procs: PROCS, warm: WARM, total: TOTAL } = shape;
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
    pub.send({ type: 'config', mode: publisher === 'tidewire' ? 'tidewire' : 'baseline', url: server.url, token: server.token('publisher'), total: TOTAL, warm: WARM, rate: RATE });
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
    const parts = Object.entries(server.cpuPids ?? {});
    const sample = () => ({
      server: (server.pids ?? [server.pid]).reduce((sum, pid) => sum + procCpuMs(pid), 0),
      parts: parts.map(([, pid]) => procCpuMs(pid)),
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
    const drained = await Promise.race([Promise.all(subs.map((h) => h.next('done'))), timeout(shape.drainMs, null)]);
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
        ...(parts.length === 0
          ? {}
          : { parts: Object.fromEntries(parts.map(([name], i) => [name, cpu.start && cpu.end ? pct(cpu.end.parts[i] - cpu.start.parts[i]) : null])) }),
      },
      cpuOtherPercent: null,
      perSecondMeanMs: perSec.map((s) => (s.count ? s.sum / s.count : null)),
      perSecondMaxMs: perSec.map((s) => s.max),
      wallClockSkewMs,
    };
    const c = res.cpuPercent;
    const ours = [c.server, c.publisher, ...c.subscribers, ...Object.values(c.parts ?? {})];
    if (c.machine !== null && ours.every((x) => x !== null)) res.cpuOtherPercent = Math.max(0, c.machine - ours.reduce((a, b) => a + b, 0));
    const busy = res.cpuPercent.machine;
    res.saturated = busy !== null && busy >= 0.9 * CORES * 100;
    const ps = res.perSecondMeanMs.filter((x) => x !== null);
    res.growing = ps.length >= 2 && ps[ps.length - 1] > 2 * ps[0] && ps[ps.length - 1] > 1;
    return res;
  } finally {
    if (pub) pub.send({ type: 'finish' });
    await Promise.all([...subs, ...(pub ? [pub] : [])].map((h) => Promise.race([h.stop(), timeout(2000)])));
  }
}

/** The lines that describe one round: percentiles first, then integrity, acks, CPU, clock, per second, flags. */
export function describeRound(r, shape) {
  const integrity = r.complete && r.reordered === 0
    ? `all ${int(r.expectedPerSubscriber)} messages at each of ${shape.subscribers} subscribers, none lost, duplicated or reordered`
    : `INCOMPLETE: received per subscriber ${int(r.receivedMin)}..${int(r.receivedMax)} of ${int(r.expectedPerSubscriber)}, ` +
      `missing ${int(r.lost)} (not delivered ${int(shape.drainMs / 1000)} s after the last send), duplicates ${int(r.duplicates)}, reordered ${int(r.reordered)}, disconnects ${r.disconnects}`;
  const c = r.cpuPercent;
  const subCpu = c.subscribers.map((x, i) => fmt(x, 0) + '%' + (i === shape.procs ? ' (sinks)' : '')).join(' + ');
  const partCpu = Object.entries(c.parts ?? {}).map(([name, x]) => `, ${name} ${fmt(x, 0)}%`).join('');
  const cpuLine = `CPU over the window: server ${fmt(c.server, 0)}%${partCpu}, subscriber processes ${subCpu}, ` +
    `publisher ${fmt(c.publisher, 0)}%; whole machine ${fmt(c.machine, 0)}% of ${CORES * 100}% (other processes: ${fmt(r.cpuOtherPercent, 0)}%)`;
  const flags = [];
  if (r.saturated) flags.push(`SATURATED: the machine had no idle CPU${r.cpuOtherPercent > 20 ? ' (other processes took part of it)' : ''}, so latency includes CPU queueing`);
  if (r.growing) flags.push(`NOT KEEPING UP: mean latency grew from ${fmt(r.perSecondMeanMs[0])} to ${fmt(r.perSecondMeanMs.at(-1))} ms over the run`);
  if (r.negatives > 0) flags.push(`${r.negatives} negative samples (clock skew)`);
  return [
    `p50 ${fmt(r.p50Ms)} ms, p90 ${fmt(r.p90Ms)} ms, p99 ${fmt(r.p99Ms)} ms, p99.9 ${fmt(r.p999Ms)} ms, max ${fmt(r.maxMs)} ms, mean ${fmt(r.meanMs)} ms`,
    `${integrity}; publish rate ${int(r.publishRate)}/s (send lag behind schedule: p99 ${fmt(r.publishLagP99Ms)} ms, max ${fmt(r.publishLagMaxMs)} ms), acks ${int(r.acked)}/${int(shape.total)} (publisher's send → ack p50 ${fmt(r.ackP50Ms)} ms, p99 ${fmt(r.ackP99Ms)} ms)` +
      (Object.keys(r.ackErrors).length ? ` errors ${JSON.stringify(r.ackErrors)}` : ''),
    cpuLine,
    `clock: CLOCK_MONOTONIC-anchored (timeOrigin + now would have disagreed by ${fmt(r.wallClockSkewMs * 1000, 0)} µs between these processes)`,
    `mean latency per second of the run: ${r.perSecondMeanMs.map((x) => fmt(x)).join(', ')} ms`,
    ...flags,
  ];
}

/** Medians over rounds (null for no rounds). */
export const summarizeRounds = (rs) =>
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
