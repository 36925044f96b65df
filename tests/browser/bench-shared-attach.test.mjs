// Issue 18's attach budget, measured in Chromium: a tab attached to an existing shared connection (createSharedClient)
// subscribes to a channel the connection already carries and gets its first message in ≤ 5 ms. A publisher
// sends on the channel about once a millisecond, so the figure is the hop through the hub (SharedWorker port, or
// the leader tab's BroadcastChannel) plus up to one publishing interval. The page measures with
// performance.now() from subscribe() to its first message; 30 trials per mode; the median, p90 and max are printed
// (and written to test-results/bench/shared-attach.json) with the budget's verdict. In `npm test` it checks that
// every attach gets its first message; the budget is judged by `npm run bench`, which runs this file too.
//
//   node --test tests/browser/bench-shared-attach.test.mjs
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { connectAuthed } from '../support/raw-client.mjs';
import { browserSkipReason, repoRoot, SHARE_MODES, shareModeContext } from './helpers/browser.mjs';
import { servedPageSite } from './helpers/served-page-site.mjs';

const skip = browserSkipReason();
const TRIALS = 30;
const BUDGET_MS = 5;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>attach bench</title><link rel="icon" href="data:,"></head>
<body>
<script type="module">
  import { createSharedClient } from '/tidewire/shared.js';
  const params = new URLSearchParams(location.search);
  const client = createSharedClient({
    url: 'ws://' + location.host + '/ws',
    shareKey: 'alice',
    token: async () => (await (await fetch('/dev/token?user=alice')).json()).token,
  });
  window.tw = { client };
  // One subscribe, timed to its first message (the subscription is dropped after it).
  window.attachOnce = (name) =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const ch = client.channel(name).subscribe();
      ch.on('n', () => {
        const ms = performance.now() - t0;
        ch.unsubscribe();
        resolve(ms);
      });
    });
  if (params.get('hold')) {
    const ch = client.channel(params.get('hold')).subscribe();
    await ch.whenSubscribed();
  }
  document.body.dataset.ready = 'true';
</script>
</body></html>`;

const site = servedPageSite({ 'attach.html': PAGE }, { prefix: 'tidewire-attach-site-' });

const figures = {};

for (const mode of SHARE_MODES) {
  test(`${mode}: a tab attached to the shared connection gets its first message after subscribe (timed against the ${BUDGET_MS} ms budget)`, { skip, timeout: 60000 }, async (t) => {
    const channel = `room:attach-${mode.replace(' ', '-')}`;
    const context = await shareModeContext(site.browser, mode);
    const publisher = await connectAuthed(site.server, 'bob');
    let sending = true;
    try {
      // The first tab holds the channel on the connection (and, in leader mode, the connection itself).
      const holder = await context.newPage();
      await holder.goto(`${site.server.httpUrl}/attach.html?hold=${encodeURIComponent(channel)}`);
      await holder.locator('body[data-ready="true"]').waitFor({ state: 'attached', timeout: 10000 });
      const tab = await context.newPage();
      await tab.goto(`${site.server.httpUrl}/attach.html`);
      await tab.locator('body[data-ready="true"]').waitFor({ state: 'attached', timeout: 10000 });

      const pump = (async () => {
        let n = 0;
        while (sending) {
          publisher.ws.send(JSON.stringify({ type: 'channel_message', channel, event: 'n', payload: (n += 1) }));
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      const samples = [];
      for (let i = 0; i < TRIALS; i += 1) {
        samples.push(await tab.evaluate((name) => window.attachOnce(name), channel));
        await new Promise((r) => setTimeout(r, 10));
      }
      sending = false;
      await pump;
      samples.sort((a, b) => a - b);
      const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
      const f = { medianMs: at(0.5), p90Ms: at(0.9), maxMs: samples.at(-1), trials: TRIALS };
      figures[mode] = f;
      t.diagnostic(`${mode}: first message after subscribe: median ${f.medianMs.toFixed(2)} ms, p90 ${f.p90Ms.toFixed(2)} ms, max ${f.maxMs.toFixed(2)} ms`);
      // The budget is a benchmark target (scripts/bench.sh, docs/BENCHMARKS.md), not a timed test: on a loaded host
      // the median moves by milliseconds. The test checks that every attach got its first message.
      assert.equal(samples.length, TRIALS);
      assert.ok(samples.every((ms) => Number.isFinite(ms) && ms >= 0), 'every attach got its first message');
      t.diagnostic(`${mode}: ${f.medianMs <= BUDGET_MS ? 'within' : 'OVER'} the ${BUDGET_MS} ms budget (median)`);
    } finally {
      sending = false;
      await publisher.close();
      await context.close().catch(() => undefined);
      mkdirSync(join(repoRoot, 'test-results/bench'), { recursive: true });
      writeFileSync(join(repoRoot, 'test-results/bench/shared-attach.json'), `${JSON.stringify(figures)}\n`);
    }
  });
}
