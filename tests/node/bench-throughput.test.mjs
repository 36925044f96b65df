// The fair client throughput bench (issue #14): the prebuilt-frame push server sends exactly the frames each client
// kind is meant to get (same payload, the envelope and batching asked for), the Node bench reports tidewire against
// the three raw baselines (a), (b), (c), and the chart draws all three.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';

import WebSocket from 'ws';

import { startPrebuiltPush } from '../../bench/node/push_process.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const run = promisify(execFile);

/** Connects like a raw client, subscribes, and collects `frames` frames after `subscribed`. */
async function receive(url, frames) {
  const ws = new WebSocket(url, ['jwt', 'bench'], { perMessageDeflate: false });
  const got = [];
  const control = [];
  await new Promise((done, fail) => {
    ws.on('error', fail);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', channel: 'bench', ref: 's1' })));
    ws.on('message', (data, isBinary) => {
      if (control.length < 2) control.push(JSON.parse(String(data)));
      else got.push({ isBinary, data: Buffer.from(data) });
      if (got.length === frames) done();
    });
  });
  ws.terminate();
  return { control, got };
}

test('prebuilt push server: tidewire batches as binary 0x00 frames, the minimal envelope one per frame, same payload', async () => {
  const batched = await startPrebuiltPush({ messages: 10, batch: 4, envelope: 'tidewire' });
  const minimal = await startPrebuiltPush({ messages: 10, batch: 1, envelope: 'minimal' });
  try {
    const b = await receive(`ws://127.0.0.1:${batched.port}/ws?binary=1`, 3);
    assert.deepEqual(b.control.map((m) => m.type), ['auth_success', 'subscribed']);
    assert.ok(b.got.every((f) => f.isBinary && f.data[0] === 0), 'binary 0x00 batches');
    const lines = b.got.flatMap((f) => f.data.toString('utf8', 1).split('\n'));
    assert.deepEqual(b.got.map((f) => f.data.toString('utf8', 1).split('\n').length), [4, 4, 2]);
    const tw = lines.map((l) => JSON.parse(l));
    assert.deepEqual(tw.map((m) => m.payload.seq), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(Object.keys(tw[0]), ['type', 'channel', 'event', 'offset', 'epoch', 'ts', 'from', 'payload']);

    const m = await receive(`ws://127.0.0.1:${minimal.port}/ws`, 10);
    assert.ok(m.got.every((f) => !f.isBinary), 'text frames');
    const plain = m.got.map((f) => JSON.parse(String(f.data)));
    assert.deepEqual(Object.keys(plain[0]), ['channel', 'event', 'payload']);
    assert.deepEqual(plain.map((x) => x.payload), tw.map((x) => x.payload), 'the same payload for every client');

    const stats = await batched.stats();
    assert.deepEqual([stats.envelope, stats.batch, stats.binary, stats.frames, stats.messageBytes], ['tidewire', 4, true, 3, 241]);
    assert.equal((await minimal.stats()).messageBytes, 153);
  } finally {
    batched.stop();
    minimal.stop();
  }
});

test('prebuilt push server with --wait-go streams only after "go" (the browser bench starts its CPU clock there)', async () => {
  const push = await startPrebuiltPush({ messages: 3, batch: 1, envelope: 'minimal', waitGo: true });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${push.port}/ws`, { perMessageDeflate: false });
    const frames = [];
    const all = new Promise((done) => ws.on('message', (d) => frames.push(String(d)) === 5 && done()));
    ws.on('open', () => ws.send('{"type":"subscribe","channel":"bench","ref":"s1"}'));
    await push.waitLine('subscribed');
    const before = frames.length; // auth_success, maybe subscribed: never a message, the stream has not been written
    assert.ok(before <= 2, `no message before go (got ${before} frames)`);
    push.go();
    await all;
    assert.deepEqual(frames.slice(2).map((f) => JSON.parse(f).payload.seq), [0, 1, 2]);
    ws.terminate();
  } finally {
    push.stop();
  }
});

test('Node bench: tidewire against (a), (b), (c) in the same rounds, and the chart draws the three baselines', { timeout: 120_000 }, async () => {
  const { stdout } = await run(process.execPath, [join(root, 'bench/node/throughput.mjs'), '--rounds', '1', '--messages', '3200'], {
    timeout: 110_000,
  });
  const summary = JSON.parse(stdout.trim().split('\n').pop());
  for (const mode of ['tidewire', 'minimal', 'envelope', 'batched']) {
    assert.ok(summary[mode].cpuUsPerMsg > 0 && summary[mode].msgPerSec > 0, mode);
  }
  assert.equal(summary.tidewire.messagesPerFrame, 16);
  assert.equal(summary.batched.messagesPerFrame, 16);
  assert.equal(summary.minimal.messagesPerFrame, 1);
  assert.equal(summary.envelope.messageBytes, summary.tidewire.messageBytes);
  assert.ok(summary.minimal.messageBytes < summary.tidewire.messageBytes);
  for (const base of ['minimal', 'envelope', 'batched']) {
    assert.equal(summary.ratios[base].cpu.length, 1);
    assert.ok(Math.abs(summary.ratios[base].cpuMedian - summary.tidewire.cpuUsPerMsg / summary[base].cpuUsPerMsg) < 1e-9);
  }

  const dir = mkdtempSync(join(tmpdir(), 'tw-chart-'));
  try {
    writeFileSync(join(dir, 'throughput.log'), stdout);
    writeFileSync(join(dir, 'browser_throughput.log'), stdout.trim().split('\n').pop() + '\n'); // same shape
    await run(process.execPath, [join(root, 'bench/chart.mjs'), '--dir', dir, '--out', join(dir, 'chart.svg'), '--date', '2026-12-04']);
    const svg = readFileSync(join(dir, 'chart.svg'), 'utf8');
    for (const label of ['(a) 1 msg/frame, minimal envelope', '(b) 1 msg/frame, tidewire envelope', "(c) tidewire's batches", 'target ≤ 0.9× (c)', 'target ≥ 1.3× (a)']) {
      assert.ok(svg.includes(label), `chart shows ${label}`);
    }
    assert.match(svg, /× \(a\), [\d.]+× \(b\), [\d.]+× \(c\)/, "tidewire's ratio to each baseline");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
