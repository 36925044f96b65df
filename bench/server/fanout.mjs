// Server fan-out benchmark: 100 subscribers x 20,000 messages (about 150 B each) through one channel, server
// CPU per delivery, tidewire-server against a Node `ws` broadcast server that batches the same way, alternating
// in the same run. Also: memory per idle connection (RSS growth over N idle authenticated connections).
//
//   node bench/server/fanout.mjs [--rounds 3] [--subscribers 100] [--messages 20000] [--idle 10000]
//                                [--history-stores sqlite,memory] [--compact]
//
// --compact: tidewire's subscribers connect with binary=1&compact=1 (protocol v2 compact batches, PROTOCOL.md 13.1).
//
// tidewire runs once per history store in every round (default both: `sqlite`, the server's default, with a
// fresh --data-dir per round, and `--history-store memory`), with the default history window (10,000 per channel,
// 5 minutes); the order of the two alternates between rounds. The summary's tidewire* figures are the first store's (the
// default's); per store figures are under `stores`.
//
// CPU is read from /proc/<pid>/stat (user + system), which counts only the server process: the load generator
// runs in this process. Also counts the WebSocket frames every subscriber receives during the measured window and
// reports messages per frame (the median over subscribers): the per-frame cost (one write, one sendmsg) dominates
// at small batches, so two servers' CPU figures only compare fairly next to their batch sizes. Prints a JSON
// summary on the last line.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import WebSocket from 'ws';

import { startServer } from '../../tests/node/helpers/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    subscribers: { type: 'string', default: '100' },
    messages: { type: 'string', default: '20000' },
    idle: { type: 'string', default: '10000' },
    'write-delay-us': { type: 'string', default: '1000' },
    'history-stores': { type: 'string', default: 'sqlite,memory' },
    compact: { type: 'boolean', default: false }, // tidewire's subscribers ask for protocol v2 compact batches
  },
});
const STORES = opts['history-stores'].split(',').filter(Boolean);
const ROUNDS = Number(opts.rounds);
const SUBSCRIBERS = Number(opts.subscribers);
const MESSAGES = Number(opts.messages);
const IDLE = Number(opts.idle);
const WRITE_DELAY_US = Number(opts['write-delay-us']);
const TICKS = 100; // CLK_TCK on Linux

const cpuMs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS; // utime + stime
};
const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function open(url, protocols) {
  return new Promise((resolveOpen, reject) => {
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
    ws.once('open', () => resolveOpen(ws));
    ws.once('error', reject);
  });
}

async function startBaseline() {
  const child = spawn(process.execPath, [resolve(here, 'ws_broadcast_server.mjs'), '--write-delay-us', String(WRITE_DELAY_US)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((r) => child.stdout.on('data', (d) => r(Number(/:(\d+)/.exec(String(d))[1]))));
  return { pid: child.pid, wsUrl: `ws://127.0.0.1:${port}/ws`, token: () => null, stop: () => child.kill() };
}

// `store`: 'sqlite' (a fresh data directory, removed on stop) or 'memory'.
async function startTidewire(store = STORES[0]) {
  const dataDir = store === 'sqlite' ? mkdtempSync(join(tmpdir(), 'tidewire-bench-')) : null;
  // The history size and age are the defaults, spelled out so the bench also runs against an older binary.
  const storeArgs = ['--history-store', store, '--history-size', '10000', '--history-ttl-ms', '300000',
    ...(dataDir ? ['--data-dir', dataDir] : [])];
  const s = await startServer({
    args: ['--write-delay-us', String(WRITE_DELAY_US), '--rate-limit', '10000000', '--rate-burst', '10000000',
      '--max-queued-messages', '1000000', '--max-queued-bytes', '1000000000', '--log-level', 'warn', ...storeArgs],
  });
  const stop = async () => {
    await s.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return { pid: s.process.pid, wsUrl: s.wsUrl, token: (u) => s.token(u), stop };
}

// 'm' records of a compact batch (PROTOCOL.md 13.1): a tag, then the body's bytes and UTF-16 units as a7 varints.
function countCompactMessages(buf) {
  let n = 0;
  let pos = 1;
  const a7 = () => {
    let v = 0;
    for (let scale = 1; ; scale *= 64) {
      const b = buf[pos++];
      v += (b & 0x3f) * scale;
      if (!(b & 0x40)) return v;
    }
  };
  while (pos < buf.length) {
    if (buf[pos++] === 0x6d) n += 1;
    const bytes = a7();
    a7();
    pos += bytes;
  }
  return n;
}

async function fanoutRound(server) {
  const subs = [];
  const received = new Array(SUBSCRIBERS).fill(0);
  const frames = new Array(SUBSCRIBERS).fill(0); // frames carrying channel messages, per subscriber
  for (let i = 0; i < SUBSCRIBERS; i += 1) {
    const t = server.token(`sub${i}`);
    const ws = await open(server.wsUrl + (opts.compact && t ? '?binary=1&compact=1' : ''), t ? ['jwt', t] : undefined);
    ws.on('message', (data, isBinary) => {
      // Count channel messages in the (possibly batched) frame without parsing them.
      if (isBinary && data[0] === 0x02) {
        const n = countCompactMessages(data);
        received[i] += n;
        if (n > 0) frames[i] += 1;
        return;
      }
      const s = String(data);
      let n = 0;
      for (let at = s.indexOf('"channel_message"'); at !== -1; at = s.indexOf('"channel_message"', at + 1)) n += 1;
      received[i] += n;
      if (n > 0) frames[i] += 1;
    });
    ws.send(JSON.stringify({ type: 'subscribe', channel: 'bench', ref: 's' }));
    subs.push(ws);
  }
  const t = server.token('publisher');
  const pub = await open(server.wsUrl, t ? ['jwt', t] : undefined);
  pub.send(JSON.stringify({ type: 'subscribe', channel: 'bench', ref: 's' })); // tidewire: publishers subscribe
  pub.on('message', () => {}); // its own copies are not counted
  await new Promise((r) => setTimeout(r, 300)); // subscriptions settle
  const text = 'x'.repeat(80);
  const minReceived = () => Math.min(...received);
  const cpu0 = cpuMs(server.pid);
  const t0 = performance.now();
  const window = 500; // keeps every queue bounded: the load generator must not become the bottleneck's victim
  for (let seq = 0; seq < MESSAGES; seq += 1) {
    pub.send(JSON.stringify({ type: 'channel_message', channel: 'bench', event: 'tick', payload: { seq, ts: Date.now(), text } }));
    if (seq % 100 === 99) while (seq - minReceived() > window) await new Promise((r) => setImmediate(r));
  }
  while (minReceived() < MESSAGES) await new Promise((r) => setTimeout(r, 1));
  const elapsed = performance.now() - t0;
  const cpu = cpuMs(server.pid) - cpu0;
  const peakRssKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]);
  for (const ws of [...subs, pub]) ws.terminate();
  const deliveries = (SUBSCRIBERS + 1) * MESSAGES; // the publisher is a subscriber too
  // Per subscriber: every message it received over the frames that carried them; the median subscriber.
  const messagesPerFrame = median(received.map((n, i) => n / Math.max(1, frames[i])));
  return {
    cpuUsPerDelivery: (cpu * 1000) / deliveries,
    deliveriesPerSec: deliveries / (elapsed / 1000),
    elapsedMs: elapsed,
    messagesPerFrame,
    frames: frames.reduce((a, b) => a + b, 0),
    peakRssKb, // the server's peak RSS (VmHWM) by the end of the round: it holds the channel's history
  };
}

async function idleRound(server) {
  const before = rssKb(server.pid);
  const conns = [];
  for (let i = 0; i < IDLE; i += 1) {
    const t = server.token(`idle${i}`);
    conns.push(await open(server.wsUrl, t ? ['jwt', t] : undefined));
  }
  await new Promise((r) => setTimeout(r, 500));
  const after = rssKb(server.pid);
  for (const ws of conns) ws.terminate();
  return { bytesPerIdleConnection: ((after - before) * 1024) / IDLE, rssBeforeKb: before, rssAfterKb: after };
}

const results = { baseline: [] };
for (const store of STORES) results[`tidewire-${store}`] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  const stores = round % 2 === 0 ? STORES : [...STORES].reverse();
  const runs = [...stores.map((store) => [`tidewire-${store}`, () => startTidewire(store)]), ['baseline', startBaseline]];
  for (const [name, start] of runs) {
    const server = await start();
    try {
      const r = await fanoutRound(server);
      results[name].push(r);
      console.log(`round ${round + 1} ${name}: ${r.cpuUsPerDelivery.toFixed(3)} us CPU/delivery, ` +
        `${Math.round(r.deliveriesPerSec).toLocaleString('en-US')} deliveries/s, ` +
        `${r.messagesPerFrame.toFixed(1)} messages/frame (median subscriber), peak RSS ${Math.round(r.peakRssKb / 1024)} MiB`);
    } finally {
      await server.stop();
    }
  }
}
let idle = null;
if (IDLE > 0) {
  const server = await startTidewire();
  try {
    idle = await idleRound(server);
    console.log(`tidewire: ${Math.round(idle.bytesPerIdleConnection)} B RSS per idle connection over ${IDLE}`);
  } finally {
    await server.stop();
  }
}
const tidewire = results[`tidewire-${STORES[0]}`];
const stores = Object.fromEntries(STORES.map((store) => {
  const rs = results[`tidewire-${store}`];
  return [store, {
    cpuUsPerDelivery: median(rs.map((r) => r.cpuUsPerDelivery)),
    perRound: rs.map((r) => r.cpuUsPerDelivery),
    deliveriesPerSec: median(rs.map((r) => r.deliveriesPerSec)),
    messagesPerFrame: median(rs.map((r) => r.messagesPerFrame)),
    peakRssKb: median(rs.map((r) => r.peakRssKb)),
  }];
}));
const summary = {
  subscribers: SUBSCRIBERS,
  messages: MESSAGES,
  writeDelayUs: WRITE_DELAY_US,
  historyStore: STORES[0],
  tidewireCpuUsPerDelivery: median(tidewire.map((r) => r.cpuUsPerDelivery)),
  baselineCpuUsPerDelivery: median(results.baseline.map((r) => r.cpuUsPerDelivery)),
  ratios: tidewire.map((r, i) => r.cpuUsPerDelivery / results.baseline[i].cpuUsPerDelivery),
  tidewireDeliveriesPerSec: median(tidewire.map((r) => r.deliveriesPerSec)),
  baselineDeliveriesPerSec: median(results.baseline.map((r) => r.deliveriesPerSec)),
  tidewireMessagesPerFrame: median(tidewire.map((r) => r.messagesPerFrame)),
  baselineMessagesPerFrame: median(results.baseline.map((r) => r.messagesPerFrame)),
  messagesPerFrame: {
    tidewire: tidewire.map((r) => r.messagesPerFrame),
    baseline: results.baseline.map((r) => r.messagesPerFrame),
  },
  stores,
  idle,
};
console.log(JSON.stringify(summary));
