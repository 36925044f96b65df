// Client throughput in headless Chromium, measured fairly: the prebuilt-frame push server of the Node bench
// (bench/node/prebuilt_push_server.mjs; the stream starts on a "go" once the page is ready), the browser's own
// WebSocket, and Chromium driven over a bare CDP pipe (bench/browser/cdp_pipe.mjs), never Playwright (its network
// reporting copies every frame to the driver). Each client in a fresh page (own browser context), alternating with
// the order rotating each round. Reports messages/s from the first to the last handler call, and main-thread CPU
// per message: the difference of CDP Performance.getMetrics `ThreadTime` (the renderer main thread's CPU time) from
// the "go" to the last message, divided by the messages (`TaskDuration`, wall time of tasks, is logged beside it).
// Clients, as in the Node bench (all end in the same handler, `(m) => onPayload(m.payload)`):
//   tidewire  createClient + subscribe, the protocol's binary batched frames (--batch messages each)
//   minimal   (a) WebSocket + JSON.parse + Map, one message per frame, {channel, event, payload}
//   envelope  (b) the same with tidewire's envelope
//   batched   (c) WebSocket on tidewire's binary batches: TextDecoder, split on '\n', JSON.parse each, Map
//   node bench/browser/throughput.mjs [--rounds 3] [--messages 100000] [--batch 16] [--modes tidewire,minimal,envelope,batched]
//                                     [--text] [--dist web/dist]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { startPrebuiltPush } from '../node/push_process.mjs';
import { launchChromiumPipe } from './cdp_pipe.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    messages: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '16' },
    modes: { type: 'string', default: 'tidewire,minimal,envelope,batched' },
    text: { type: 'boolean', default: false }, // tidewire with text frames (binary=0) instead of its default
    dist: { type: 'string', default: resolve(root, 'web/dist') },
    // Writes a V8 CPU profile of each page's measured part (CDP Profiler, 100 µs sampling) to DIR/<mode>-<round>.cpuprofile.
    // Profiling costs CPU itself: use it to see where the time goes, not for the figures.
    'cpu-profile': { type: 'string' },
  },
});
const N = Number(values.messages);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const modes = values.modes.split(',');
if (!modes.includes('tidewire')) throw new Error('--modes must include tidewire');
const setups = {
  tidewire: { envelope: 'tidewire', batch: Number(values.batch), query: values.text ? '?binary=0' : '' },
  minimal: { envelope: 'minimal', batch: 1, query: '' },
  envelope: { envelope: 'tidewire', batch: 1, query: '' },
  // the same client against a protocol v1 server (0x00 JSON batches instead of v2 compact batches)
  'tidewire-v1': { envelope: 'tidewire', batch: Number(values.batch), query: values.text ? '?binary=0' : '', v1: true },
  batched: { envelope: 'tidewire', batch: Number(values.batch), query: '?binary=1' },
};

// The page: ?mode=…&url=…&n=…. window.ready resolves once the client is loaded and subscribing; window.done with
// the result after the last message.
const page = `<!doctype html><meta charset="utf-8"><title>tidewire bench</title>
<script>window.bench = {}; window.ready = new Promise((r) => (bench.ready = r)); window.done = new Promise((r) => (bench.done = r));</script>
<script type="module">
const q = new URLSearchParams(location.search);
const mode = q.get('mode'), url = q.get('url'), N = Number(q.get('n'));
let count = 0, expected = 0, ok = true, t0 = 0;
const onPayload = (p) => {
  if (count === 0) t0 = performance.now();
  if (p.seq !== expected) ok = false;
  expected++;
  if (++count === N) bench.done({ messages: count, inOrder: ok, ms: performance.now() - t0 });
};
const handlers = new Map([['bench', (m) => onPayload(m.payload)]]);
if (mode === 'tidewire' || mode === 'tidewire-v1') {
  const { createClient, loadModule } = await import('/tidewire/index.js');
  await loadModule();
  createClient({ url, token: 'bench' }).subscribe('bench', (m) => onPayload(m.payload));
} else {
  const ws = new WebSocket(url, ['jwt', 'bench']);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => ws.send(JSON.stringify({ type: 'subscribe', channel: 'bench', ref: 's1' }));
  let control = 2; // auth_success and subscribed come first
  const decoder = new TextDecoder();
  ws.onmessage =
    mode === 'minimal' ? (e) => {
      if (control > 0) { control--; return; }
      const m = JSON.parse(e.data);
      handlers.get(m.channel)?.(m);
    }
    : mode === 'envelope' ? (e) => {
      const m = JSON.parse(e.data);
      if (m.type === 'channel_message') handlers.get(m.channel)?.(m);
    }
    : (e) => {
      const d = e.data;
      const frame = typeof d === 'string' ? d : decoder.decode(new Uint8Array(d, 1));
      for (const line of frame.split('\\n')) {
        const m = JSON.parse(line);
        if (m.type === 'channel_message') handlers.get(m.channel)?.(m);
      }
    };
}
bench.ready();
</script>`;

// Serves the page and the web package (the wasm with its MIME type, for streaming compilation).
const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };
const dist = resolve(values.dist);
if (!existsSync(join(dist, 'index.js'))) throw new Error(`no web package at ${dist} (npm run build)`);
const http = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/bench.html') return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  const file = path.startsWith('/tidewire/') ? resolve(dist, path.slice('/tidewire/'.length)) : undefined;
  if (!file || !file.startsWith(dist + '/') || !existsSync(file)) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
});
await new Promise((r) => http.listen(0, '127.0.0.1', r));
const httpUrl = `http://127.0.0.1:${http.address().port}`;

const threadTime = async (cdp, sessionId) => {
  const { metrics } = await cdp.send('Performance.getMetrics', {}, sessionId);
  const get = (name) => metrics.find((m) => m.name === name)?.value;
  if (get('ThreadTime') === undefined) throw new Error('this Chromium reports no ThreadTime in Performance.getMetrics');
  return { thread: get('ThreadTime'), task: get('TaskDuration') };
};

const cdp = await launchChromiumPipe();
const load = [loadavg()[0]];
const rounds = Object.fromEntries(modes.map((m) => [m, []]));
const frames = {};
try {
  for (let r = 0; r < Number(values.rounds); r += 1) {
    const order = modes.map((_, i) => modes[(i + r) % modes.length]);
    for (const mode of order) {
      const setup = setups[mode];
      if (!setup) throw new Error(`unknown mode ${mode}`);
      const push = await startPrebuiltPush({ messages: N, batch: setup.batch, envelope: setup.envelope, waitGo: true, v1: setup.v1 });
      const tab = await cdp.newPage();
      const s = tab.sessionId;
      try {
        await cdp.send('Performance.enable', {}, s);
        const wsUrl = `ws://127.0.0.1:${push.port}/ws${setup.query}`;
        await cdp.send('Page.navigate', { url: `${httpUrl}/bench.html?mode=${mode}&n=${N}&url=${encodeURIComponent(wsUrl)}` }, s);
        await push.waitLine('subscribed');
        await cdp.send('Runtime.evaluate', { expression: 'window.ready', awaitPromise: true }, s);
        await new Promise((res) => setTimeout(res, 200)); // let the subscribed frame and any start-up work settle
        if (values['cpu-profile']) {
          await cdp.send('Profiler.enable', {}, s);
          await cdp.send('Profiler.setSamplingInterval', { interval: 100 }, s);
          await cdp.send('Profiler.start', {}, s);
        }
        const before = await threadTime(cdp, s);
        push.go();
        const { result } = await cdp.send('Runtime.evaluate', { expression: 'window.done', awaitPromise: true, returnByValue: true }, s);
        const after = await threadTime(cdp, s);
        if (values['cpu-profile']) {
          const { profile } = await cdp.send('Profiler.stop', {}, s);
          mkdirSync(values['cpu-profile'], { recursive: true });
          writeFileSync(join(values['cpu-profile'], `${mode}-${r + 1}.cpuprofile`), JSON.stringify(profile));
        }
        const res = result.value;
        if (res.messages !== N || res.inOrder === false) throw new Error(`${mode}: lost or reordered messages`);
        const out = {
          msgPerSec: (N - 1) / (res.ms / 1000),
          cpuUsPerMsg: ((after.thread - before.thread) * 1e6) / N,
          taskUsPerMsg: ((after.task - before.task) * 1e6) / N,
        };
        rounds[mode].push(out);
        frames[mode] = await push.stats();
        console.log(
          `round ${r + 1} ${mode}: ${Math.round(out.msgPerSec).toLocaleString('en-US')} msg/s, ${out.cpuUsPerMsg.toFixed(2)} µs main-thread CPU/msg` +
            ` (task time ${out.taskUsPerMsg.toFixed(2)} µs; ${frames[mode]?.messageBytes ?? '?'} B/message, ${frames[mode]?.frames ?? '?'} ${frames[mode]?.binary ? 'binary' : 'text'} frames)`,
        );
      } finally {
        await tab.close().catch(() => {});
        push.stop();
      }
    }
    load.push(loadavg()[0]);
  }
} finally {
  await cdp.close();
  http.close();
}

const summary = { messages: N, batch: Number(values.batch), rounds: Number(values.rounds), text: values.text, loadAvg1m: load, cpu: 'ThreadTime' };
for (const mode of modes) {
  summary[mode] = {
    msgPerSec: median(rounds[mode].map((x) => x.msgPerSec)),
    cpuUsPerMsg: median(rounds[mode].map((x) => x.cpuUsPerMsg)),
    taskUsPerMsg: median(rounds[mode].map((x) => x.taskUsPerMsg)),
    messageBytes: frames[mode]?.messageBytes,
    messagesPerFrame: frames[mode] ? N / frames[mode].frames : undefined,
  };
}
summary.ratios = {};
for (const mode of modes.filter((m) => m !== 'tidewire')) {
  const throughput = rounds.tidewire.map((t, i) => t.msgPerSec / rounds[mode][i].msgPerSec);
  const cpu = rounds.tidewire.map((t, i) => t.cpuUsPerMsg / rounds[mode][i].cpuUsPerMsg);
  summary.ratios[mode] = { throughput, cpu, throughputMedian: median(throughput), cpuMedian: median(cpu) };
}
console.log(JSON.stringify(summary));
