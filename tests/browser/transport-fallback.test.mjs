// Issue 17 in real Chromium: pages whose `WebSocket` constructor fails (replaced before the library loads, as
// where a proxy blocks WebSocket) fall back to SSE; chat (acked sends), presence and recovery after a kill -9 of
// the server work there, every message once. Through a real proxy that buffers whole responses, SSE never opens
// and long polling carries the session. WebSocket unblocked mid-stream: the client upgrades, no loss, no duplicate.
//
//   node --test tests/browser/transport-fallback.test.mjs
//
// Needs build/native/src/server/tidewire-server, web/dist and /usr/bin/chromium.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startServer } from '../node/helpers/server.mjs';
import { startProxy } from '../node/helpers/http-proxy.mjs';
import { assembleSite, browserSkipReason, launchChromium, siteDir, withFailureScreenshots } from './helpers/browser.mjs';
import { waitFor } from '../support/wait.mjs';

const skip = browserSkipReason();

// ?block=1 replaces WebSocket with a constructor that throws, in a classic script that runs before the module
// (and so before the library loads); window.unblock() puts the real one back.
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fallback test</title><link rel="icon" href="data:,"></head>
<body data-state="idle">
<script>
  window.RealWebSocket = window.WebSocket;
  if (new URLSearchParams(location.search).get('block') === '1') {
    window.WebSocket = function BlockedWebSocket() { throw new DOMException('WebSocket is blocked here', 'SecurityError'); };
  }
  window.unblock = () => { window.WebSocket = window.RealWebSocket; };
</script>
<script type="module">
  import { createClient } from '/tidewire/index.js';
  const params = new URLSearchParams(location.search);
  const user = params.get('user');
  const tw = (window.tw = { received: [], states: [], sends: [], members: [] });
  const client = createClient({
    url: 'ws://' + location.host + '/ws',
    reconnectBaseMs: 200,
    reconnectCapMs: 2000,
    upgradeProbeMs: Number(params.get('probe') ?? 30000),
    // The tab's own connection: the page blocks its own WebSocket (a shared one would live in a SharedWorker),
    // and reads the transport in use (not known in a sharing tab).
    shareAcrossTabs: false,
    token: async () => (await (await fetch('/dev/token?user=' + encodeURIComponent(user))).json()).token,
  });
  tw.client = client;
  client.onStateChange((c) => {
    tw.states.push(c.to + ':' + (c.transport ?? ''));
    document.body.dataset.state = c.to;
  });
  tw.send = (n) => {
    const entry = { n, result: 'pending' };
    tw.sends.push(entry);
    client.send(params.get('channel'), 'chat', { n, from: user }).then(
      () => (entry.result = 'ok'),
      (e) => (entry.result = e.code),
    );
  };
  tw.join = (channel) => {
    const p = client.presence(channel, { info: { name: user } });
    p.onChange((members) => (tw.members = members.map((m) => m.userId).sort()));
  };
  const channel = client.channel(params.get('channel')).subscribe();
  channel.on('chat', (m) => tw.received.push(m.payload.n));
  await channel.whenSubscribed();
  document.body.dataset.ready = 'true';
</script>
</body></html>`;

function watchForProblems(page, label, problems) {
  page.on('pageerror', (e) => problems.push(`${label}: uncaught ${e.stack ?? e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (/ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|ERR_INCOMPLETE_CHUNKED_ENCODING|token_provider_failed|WebSocket connection to .* failed|Failed to load resource/.test(text)) return;
    problems.push(`${label}: console.error: ${text}`);
  });
}

const tw = (page, fn, arg) => page.evaluate(fn, arg);
const received = (page) => tw(page, () => window.tw.received.slice());
const transport = (page) => tw(page, () => window.tw.client.getMetrics().transport);

describe('browser: transport fallback', { skip }, () => {
  let browser;
  let staticDir;
  const contexts = [];

  async function openPage(baseUrl, query, problems) {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    watchForProblems(page, query.user, problems);
    await page.goto(`${baseUrl}/fallback-test.html?${new URLSearchParams(query)}`);
    await page.locator('body[data-ready="true"][data-state="connected"]').waitFor({ state: 'attached', timeout: 20000 });
    return page;
  }

  before(async () => {
    assembleSite();
    staticDir = mkdtempSync(join(tmpdir(), 'tidewire-fallback-site-'));
    cpSync(join(siteDir, 'tidewire'), join(staticDir, 'tidewire'), { recursive: true });
    writeFileSync(join(staticDir, 'fallback-test.html'), PAGE);
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    if (staticDir) rmSync(staticDir, { recursive: true, force: true });
  });

  test('WebSocket blocked: SSE carries chat, presence and acked sends; after a kill -9 and restart, every message once', { timeout: 90_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tidewire-fallback-'));
    const args = ['--static-dir', staticDir, '--dev-tokens', '--data-dir', dataDir, '--history-store', 'sqlite'];
    let server = await startServer({ args });
    const port = server.port;
    const problems = [];
    const channel = 'room:blocked';
    try {
      const alice = await openPage(server.httpUrl, { user: 'alice', channel, block: '1' }, problems);
      const bob = await openPage(server.httpUrl, { user: 'bob', channel, block: '1' }, problems);
      const pages = [alice, bob];
      await withFailureScreenshots(pages, 'transport-fallback-blocked', async () => {
        for (const page of pages) assert.equal(await transport(page), 'sse');
        await tw(alice, () => window.tw.send(1));
        await tw(bob, () => window.tw.send(2));
        for (const page of pages) await waitFor(async () => (await received(page)).length === 2, 5000, 'messages 1-2');
        // Presence over SSE.
        for (const page of pages) await tw(page, () => window.tw.join('presence:blocked'));
        for (const page of pages) {
          await waitFor(async () => (await tw(page, () => window.tw.members)).join() === 'alice,bob', 5000, 'both present');
        }
        // kill -9, a send while down, restart on the same data dir: recovery over SSE.
        server.process.kill('SIGKILL');
        await server.stop();
        for (const page of pages) {
          await waitFor(async () => (await tw(page, () => window.tw.client.state)) !== 'connected', 15000, 'the outage noticed');
        }
        await tw(alice, () => window.tw.send(3));
        server = await startServer({ args: [...args, '--port', String(port)] });
        for (const page of pages) {
          await waitFor(async () => (await tw(page, () => window.tw.client.state)) === 'connected', 20000, 'reconnected');
        }
        await tw(bob, () => window.tw.send(4));
        for (const page of pages) await waitFor(async () => (await received(page)).length >= 4, 10000, 'messages 1-4');
        await new Promise((r) => setTimeout(r, 500));
        for (const page of pages) assert.deepEqual(await received(page), [1, 2, 3, 4], 'every message once, in order');
        for (const page of pages) assert.deepEqual(await tw(page, () => window.tw.sends.map((s) => s.result)), ['ok', 'ok']);
        for (const page of pages) assert.notEqual(await transport(page), 'websocket');
      });
      assert.deepEqual(problems, []);
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a proxy that buffers responses: SSE never opens, long polling works', { timeout: 60_000 }, async () => {
    const server = await startServer({ args: ['--static-dir', staticDir, '--dev-tokens'] });
    const proxy = await startProxy(server.port, { buffer: true });
    const problems = [];
    const channel = 'room:buffered';
    try {
      // The page itself comes through the proxy (buffered whole, which a page survives).
      const alice = await openPage(proxy.httpUrl, { user: 'alice', channel, block: '1' }, problems);
      const bob = await openPage(server.httpUrl, { user: 'bob', channel }, problems);
      await withFailureScreenshots([alice, bob], 'transport-fallback-buffered', async () => {
        assert.equal(await transport(alice), 'polling');
        assert.equal(await transport(bob), 'websocket');
        for (let n = 1; n <= 10; n++) await tw(n % 2 ? alice : bob, (k) => window.tw.send(k), n);
        for (const page of [alice, bob]) await waitFor(async () => (await received(page)).length === 10, 10000, '10 messages');
        // Two senders interleave in the server's order, which both see: the same sequence, each message once.
        const [a, b] = [await received(alice), await received(bob)];
        assert.deepEqual(a, b);
        assert.deepEqual([...a].sort((x, y) => x - y), [...Array(10).keys()].map((i) => i + 1));
        for (const page of [alice, bob]) assert.deepEqual(await tw(page, () => window.tw.sends.map((s) => s.result)), ['ok', 'ok', 'ok', 'ok', 'ok']);
      });
      assert.deepEqual(problems, []);
    } finally {
      await proxy.close();
      await server.stop();
    }
  });

  test('WebSocket unblocked mid-session: the client upgrades, no loss, no duplicate', { timeout: 60_000 }, async () => {
    const server = await startServer({ args: ['--static-dir', staticDir, '--dev-tokens', '--rate-limit', '10000', '--rate-burst', '10000'] });
    const problems = [];
    const channel = 'room:upgrade';
    try {
      const alice = await openPage(server.httpUrl, { user: 'alice', channel, block: '1', probe: '500' }, problems);
      const bob = await openPage(server.httpUrl, { user: 'bob', channel }, problems);
      await withFailureScreenshots([alice, bob], 'transport-fallback-upgrade', async () => {
        assert.equal(await transport(alice), 'sse');
        const total = 300;
        // bob publishes continuously; alice's WebSocket is unblocked a third of the way in.
        await tw(bob, async (count) => {
          for (let n = 0; n < count; n++) {
            window.tw.send(n);
            if (n % 10 === 9) await new Promise((r) => setTimeout(r, 10));
          }
        }, 100);
        await tw(alice, () => window.unblock());
        await tw(bob, async ([from, to]) => {
          for (let n = from; n < to; n++) {
            window.tw.send(n);
            if (n % 10 === 9) await new Promise((r) => setTimeout(r, 10));
          }
        }, [100, total]);
        await waitFor(async () => (await transport(alice)) === 'websocket', 10000, 'the upgrade');
        await waitFor(async () => (await received(alice)).length >= total, 10000, `all ${total} at alice`);
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(await received(alice), [...Array(total).keys()], 'every message once, in order');
        const states = await tw(alice, () => window.tw.states);
        assert.ok(states.includes('connected:sse') && states.includes('connected:websocket'), states.join(' '));
      });
      assert.deepEqual(problems, []);
    } finally {
      await server.stop();
    }
  });
});
