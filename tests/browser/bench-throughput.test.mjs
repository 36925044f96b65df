// The fair Chromium throughput bench (issue #14): Chromium driven over a bare CDP pipe (no Playwright), main-thread
// CPU from Performance.getMetrics ThreadTime, tidewire against the raw WebSocket clients (a), (b), (c) in the same
// round, every message checked once and in order by the page.
//
//   node --test tests/browser/bench-throughput.test.mjs
//
// Needs web/dist (built) and /usr/bin/chromium.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';

import { launchChromiumPipe } from '../../bench/browser/cdp_pipe.mjs';
import { browserSkipReason } from './helpers/browser.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const skip = browserSkipReason();

test('CDP pipe: a page in its own browser context reports ThreadTime (main-thread CPU) and TaskDuration', { skip, timeout: 60_000 }, async () => {
  const cdp = await launchChromiumPipe();
  try {
    const tab = await cdp.newPage();
    await cdp.send('Performance.enable', {}, tab.sessionId);
    const { result } = await cdp.send('Runtime.evaluate', { expression: 'let x = 0; for (let i = 0; i < 3e6; i++) x += i; x', returnByValue: true }, tab.sessionId);
    assert.equal(result.value, (3e6 * (3e6 - 1)) / 2);
    const { metrics } = await cdp.send('Performance.getMetrics', {}, tab.sessionId);
    const names = new Set(metrics.map((m) => m.name));
    assert.ok(names.has('ThreadTime') && names.has('TaskDuration'), [...names].join(', '));
    assert.ok(metrics.find((m) => m.name === 'ThreadTime').value > 0);
    await assert.rejects(cdp.send('No.suchMethod', {}, tab.sessionId), /CDP No\.suchMethod/);
    await tab.close();
  } finally {
    await cdp.close();
  }
});

test('Chromium bench: tidewire against (a), (b), (c) in one round over the pipe', { skip, timeout: 180_000 }, async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [resolve(root, 'bench/browser/throughput.mjs'), '--rounds', '1', '--messages', '3200'],
    { timeout: 170_000 },
  );
  const summary = JSON.parse(stdout.trim().split('\n').pop());
  assert.equal(summary.cpu, 'ThreadTime');
  for (const mode of ['tidewire', 'minimal', 'envelope', 'batched']) {
    assert.ok(summary[mode].cpuUsPerMsg > 0 && summary[mode].msgPerSec > 0, mode);
  }
  assert.equal(summary.tidewire.messagesPerFrame, 16);
  assert.equal(summary.batched.messagesPerFrame, 16);
  assert.equal(summary.minimal.messagesPerFrame, 1);
  for (const base of ['minimal', 'envelope', 'batched']) assert.equal(summary.ratios[base].cpu.length, 1);
});
