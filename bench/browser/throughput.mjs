// Client throughput in headless Chromium: the same push server and the same three clients as the Node bench
// (tidewire with batched frames, the raw WebSocket baseline with JSON.parse + Map, the do-nothing ceiling), each in
// a fresh page, alternating. Reports messages/s from the first to the last message, and main-thread task time per
// message from the DevTools Performance domain (TaskDuration).
//   node bench/browser/throughput.mjs [--rounds 3] [--messages 100000] [--batch 16] [--text]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

import { startServer } from '../../tests/node/helpers/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    messages: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '16' },
    text: { type: 'boolean', default: false }, // tidewire with text frames (binary=0) instead of its default
  },
});
const N = Number(values.messages);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// The page: ?mode=…&url=…&n=…; sets window.result when done.
const page = `<!doctype html><meta charset="utf-8"><title>tidewire bench</title><script type="module">
const q = new URLSearchParams(location.search);
const mode = q.get('mode'), url = q.get('url'), N = Number(q.get('n'));
let count = 0, expected = 0, ok = true, t0 = 0;
const finish = () => { window.result = { messages: count, inOrder: ok, ms: performance.now() - t0 }; };
const onPayload = (p) => { if (count === 0) t0 = performance.now(); if (p.seq !== expected) ok = false; expected++; if (++count === N) finish(); };
if (mode === 'tidewire') {
  const { createClient } = await import('/tidewire/index.js');
  createClient({ url, token: 'bench' }).subscribe('bench', (m) => onPayload(m.payload));
} else {
  const ws = new WebSocket(url, ['jwt', 'bench']);
  const handlers = new Map([['bench', (m) => onPayload(m.payload)]]);
  let control = 2;
  ws.onopen = () => ws.send(JSON.stringify({ type: 'subscribe', channel: 'bench', ref: 's1' }));
  ws.onmessage = mode === 'baseline'
    ? (e) => { const m = JSON.parse(e.data); if (m.type === 'channel_message') handlers.get(m.channel)?.(m); }
    : () => { if (control > 0) { control--; return; } if (count === 0) t0 = performance.now(); if (++count === N) finish(); };
}
</script>`;
mkdirSync(resolve(root, 'build/site/bench'), { recursive: true });
writeFileSync(resolve(root, 'build/site/bench/throughput.html'), page);

const server = await startServer({ args: ['--static-dir', resolve(root, 'build/site')] });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});

async function startPush(batch) {
  const child = spawn(process.execPath, [resolve(root, 'bench/node/push_server.mjs'), '--messages', String(N), '--batch', String(batch)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((r) => child.stdout.on('data', (d) => r(Number(/:(\d+)/.exec(String(d))[1]))));
  return { port, stop: () => child.kill() };
}

const rounds = { tidewire: [], baseline: [], ceiling: [] };
try {
  for (let r = 0; r < Number(values.rounds); r += 1) {
    for (const mode of ['tidewire', 'baseline', 'ceiling']) {
      const push = await startPush(mode === 'tidewire' ? Number(values.batch) : 1);
      const context = await browser.newContext();
      const p = await context.newPage();
      try {
        const cdp = await context.newCDPSession(p);
        await cdp.send('Performance.enable');
        const task = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
        const wsUrl = `ws://127.0.0.1:${push.port}/ws${mode === 'tidewire' && values.text ? '?binary=0' : ''}`;
        const before = await task();
        await p.goto(`${server.httpUrl}/bench/throughput.html?mode=${mode}&n=${N}&url=${encodeURIComponent(wsUrl)}`);
        await p.waitForFunction(() => window.result !== undefined, undefined, { timeout: 120_000, polling: 50 });
        const after = await task();
        const res = await p.evaluate(() => window.result);
        if (res.messages !== N || res.inOrder === false) throw new Error(`${mode}: lost or reordered messages`);
        const out = { msgPerSec: N / (res.ms / 1000), taskUsPerMsg: ((after - before) * 1e6) / N };
        rounds[mode].push(out);
        console.log(`round ${r + 1} ${mode}: ${Math.round(out.msgPerSec).toLocaleString('en-US')} msg/s, ${out.taskUsPerMsg.toFixed(2)} µs main-thread time/msg`);
      } finally {
        await context.close();
        push.stop();
      }
    }
  }
} finally {
  await browser.close();
  await server.stop();
}
const summary = {};
for (const mode of Object.keys(rounds)) {
  summary[mode] = { msgPerSec: median(rounds[mode].map((x) => x.msgPerSec)), taskUsPerMsg: median(rounds[mode].map((x) => x.taskUsPerMsg)) };
}
summary.throughputRatios = rounds.tidewire.map((t, i) => t.msgPerSec / rounds.baseline[i].msgPerSec);
summary.taskRatios = rounds.tidewire.map((t, i) => t.taskUsPerMsg / rounds.baseline[i].taskUsPerMsg);
console.log(JSON.stringify(summary));
