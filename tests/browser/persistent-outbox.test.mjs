// Issue 18, the outbox that survives a reload (`persistOutbox: true`), in real Chromium against the real server:
// - reload while offline: sends made offline are still pending after a reload, shown by getRestoredSends(),
//   and once the network is back all of them are delivered exactly once, in order, their results reported
//   through onOutboxResult();
// - crash mid-ack: the browser is closed while 5 sends await their ack (the server is paused with SIGSTOP, so
//   the frames are on the wire but unanswered), the server then publishes them, and the reopened page resends
//   them with their original ids: the server acks them as duplicates (same offsets) and nobody sees them twice;
// - two tabs: a page that loads leaves alone the sends of another tab that is still open, and takes them over once
//   that tab is gone;
// - the reload and the crash also with the connection shared across tabs (a SharedWorker holds it; each tab
//   persists its own sends, and the worker sends them under their ids);
// - chat: messages sent offline show as pending in the room after a reload, and are stored once each;
// - quota: a send IndexedDB refuses (the origin's quota set to almost nothing over CDP) is reported through
//   onError as outbox_storage_failed with its id, and still sent.
//
//   node --test tests/browser/persistent-outbox.test.mjs
//
// Needs build/native/src/server/tidewire-server (or TIDEWIRE_SERVER_BIN), web/dist and /usr/bin/chromium.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startServer } from '../node/helpers/server.mjs';
import { browserSkipReason, chromiumArgs, chromiumPath, launchChromium, pageSite, watchPageExcept, withFailureScreenshots } from './helpers/browser.mjs';
import { waitFor } from '../support/wait.mjs';

const skip = browserSkipReason();

// `?user=…&channel=…&listen=1` records what the channel delivers (tw.received: [n, offset]); without `listen` the
// page keeps a persisted outbox and records its sends (tw.sends) and the results of an earlier page's (tw.results).
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>outbox test</title><link rel="icon" href="data:,"></head>
<body>
<script type="module">
  import { createClient } from '/tidewire/index.js';
  const params = new URLSearchParams(location.search);
  const user = params.get('user');
  const channel = params.get('channel');
  const listen = params.get('listen') === '1';
  const tw = (window.tw = { received: [], results: [], errors: [], sends: [] });
  const client = createClient({
    url: 'ws://' + location.host + '/ws',
    persistOutbox: !listen,
    // share=1: the connection is shared across tabs (issue #18; the token's sub names the user); each tab keeps
    // its own sends. share=0: the tab's own connection.
    shareAcrossTabs: params.get('share') === '1',
    reconnectBaseMs: 200,
    reconnectCapMs: 1000,
    token: async () => {
      const res = await fetch('/dev/token?user=' + encodeURIComponent(user));
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return (await res.json()).token;
    },
  });
  tw.client = client;
  client.onError((e) => tw.errors.push(e.code));
  tw.storageErrors = [];
  client.onError((e) => e.code === 'outbox_storage_failed' && tw.storageErrors.push(e.details ?? null));
  client.onOutboxResult((r) => tw.results.push({ n: r.payload.n, ok: r.ok, offset: r.offset, code: r.error?.code, id: r.id }));
  tw.send = (n) => {
    const entry = { n, result: 'pending' };
    tw.sends.push(entry);
    client.send(channel, 'chat', { n }).then(
      (ack) => Object.assign(entry, { result: 'ok', offset: ack.offset }),
      (e) => (entry.result = e.code),
    );
  };
  if (params.get('room')) tw.room = client.chat.room(params.get('room'));
  tw.roomMessages = () => tw.room.getSnapshot().messages.map((m) => [m.text, m.status ?? 'stored']);
  if (listen) {
    const ch = client.channel(channel).subscribe();
    ch.on('chat', (m) => tw.received.push([m.payload.n, m.offset]));
    await ch.whenSubscribed();
  } else {
    client.connect();
    await client.ready;
  }
  document.body.dataset.ready = 'true';
</script>
</body></html>`;

// Refused connections and aborted token fetches are what these tests do on purpose; anything else is a problem.
const EXPECTED = /ERR_FAILED|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|WebSocket connection to .* failed/;

async function openPage(context, server, query, problems) {
  const page = await context.newPage();
  watchPageExcept(page, query.user, EXPECTED, problems);
  await page.goto(`${server.httpUrl}/outbox-test.html?${new URLSearchParams(query)}`);
  await page.locator('body[data-ready="true"]').waitFor({ state: 'attached', timeout: 10000 });
  return page;
}

const tw = (page, fn, arg) => page.evaluate(fn, arg);
const received = (page) => tw(page, () => window.tw.received.slice());
const results = (page) => tw(page, () => window.tw.results.slice());
const connected = (page) => tw(page, () => window.tw.client.state === 'connected');
const ns = (pairs) => pairs.map(([n]) => n);

describe('browser: persistOutbox keeps sends across a reload and a crash', { skip }, () => {
  let browser;
  let staticDir;
  let server;
  const dirs = [];

  before(async () => {
    staticDir = pageSite({ 'outbox-test.html': PAGE }, 'tidewire-outbox-site-');
    const dataDir = mkdtempSync(join(tmpdir(), 'tidewire-outbox-data-'));
    dirs.push(dataDir);
    server = await startServer({ args: ['--static-dir', staticDir, '--dev-tokens', '--data-dir', dataDir, '--history-store', 'sqlite'] });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    for (const d of [staticDir, ...dirs]) if (d) rmSync(d, { recursive: true, force: true });
  });

  for (const share of ['0', '1']) test(`offline, 5 sends, reload, online: all 5 delivered exactly once, in order${share === '1' ? ' (shared connection)' : ''}`, { timeout: 60000 }, async () => {
    const channel = `room:outbox-reload-${share}`;
    const problems = [];
    const bobContext = await browser.newContext();
    const aliceContext = await browser.newContext();
    try {
      const bob = await openPage(bobContext, server, { user: 'bob', channel, listen: '1' }, problems);
      const alice = await openPage(aliceContext, server, { user: 'alice', channel, share }, problems);
      await withFailureScreenshots([alice, bob], 'persistent-outbox-reload', async () => {
        await waitFor(() => connected(alice), 10000, 'alice connected');

        // Offline: the client drops its socket. The token endpoint is then blocked, so that coming back online
        // cannot reconnect before the reload (the reloaded page must be the one that sends).
        await aliceContext.setOffline(true);
        await waitFor(async () => (await tw(alice, () => window.tw.client.state)) === 'disconnected', 5000, 'alice offline');
        await aliceContext.route('**/dev/token*', (route) => route.abort());
        for (let n = 1; n <= 5; n += 1) await tw(alice, (k) => window.tw.send(k), n);
        await tw(alice, () => window.tw.client.outboxPersisted());
        await aliceContext.setOffline(false);

        await alice.reload();
        await alice.locator('body[data-ready="true"]').waitFor({ state: 'attached', timeout: 10000 });
        // Shown as pending after the reload, in their order.
        const pending = await tw(alice, () => window.tw.client.getRestoredSends().map((s) => s.payload.n));
        assert.deepEqual(pending, [1, 2, 3, 4, 5]);
        assert.equal(await connected(alice), false, 'the token endpoint is still blocked');
        assert.deepEqual(ns(await received(bob)), [], 'nothing was delivered before the reload');

        await aliceContext.unroute('**/dev/token*');
        await waitFor(async () => (await results(alice)).length === 5, 15000, 'the 5 results at alice');
        const r = await results(alice);
        assert.deepEqual(r.map((x) => [x.n, x.ok]), [1, 2, 3, 4, 5].map((n) => [n, true]));
        assert.deepEqual(await tw(alice, () => window.tw.client.getRestoredSends().length), 0);

        // One more send after them: once bob has it, anything duplicated would have arrived before it.
        await tw(alice, () => window.tw.send(6));
        await waitFor(async () => (await received(bob)).length >= 6, 10000, 'message 6 at bob');
        const got = await received(bob);
        assert.deepEqual(ns(got), [1, 2, 3, 4, 5, 6], 'every message exactly once, in order');
        assert.deepEqual(r.map((x) => x.offset), got.slice(0, 5).map(([, offset]) => offset), 'acks carry the offsets bob saw');

        // Settled sends left IndexedDB: another reload resends nothing.
        await waitFor(async () => (await tw(alice, () => window.tw.sends.at(-1).result)) === 'ok', 5000, 'send 6 acked');
        await tw(alice, () => window.tw.client.outboxPersisted());
        await alice.reload();
        await alice.locator('body[data-ready="true"]').waitFor({ state: 'attached', timeout: 10000 });
        assert.deepEqual(await tw(alice, () => window.tw.client.getRestoredSends().length), 0);
        assert.deepEqual(problems, []);
      });
    } finally {
      await aliceContext.close().catch(() => undefined);
      await bobContext.close().catch(() => undefined);
    }
  });

  test('another open tab keeps its sends; once it is closed, a reload resends them', { timeout: 60000 }, async () => {
    const channel = 'room:outbox-tabs';
    const problems = [];
    const bobContext = await browser.newContext();
    const context = await browser.newContext();
    try {
      const bob = await openPage(bobContext, server, { user: 'bob', channel, listen: '1' }, problems);
      await context.route('**/dev/token*', (route) => route.abort()); // nothing connects until the end
      const first = await openPage(context, server, { user: 'alice', channel }, problems);
      for (let n = 1; n <= 3; n += 1) await tw(first, (k) => window.tw.send(k), n);
      await tw(first, () => window.tw.client.outboxPersisted());
      const second = await openPage(context, server, { user: 'alice', channel }, problems);
      assert.deepEqual(await tw(second, () => window.tw.client.getRestoredSends().length), 0, "the open tab's sends are its own");

      await first.close();
      await second.reload();
      await second.locator('body[data-ready="true"]').waitFor({ state: 'attached', timeout: 10000 });
      const pending = await tw(second, () => window.tw.client.getRestoredSends().map((s) => s.payload.n));
      assert.deepEqual(pending, [1, 2, 3], 'the closed tab left them');
      await context.unroute('**/dev/token*');
      await waitFor(async () => (await results(second)).length === 3, 15000, 'the 3 results');
      assert.deepEqual((await results(second)).map((x) => [x.n, x.ok]), [[1, true], [2, true], [3, true]]);
      await tw(second, () => window.tw.send(4));
      await waitFor(async () => (await received(bob)).length >= 4, 10000, 'message 4 at bob');
      assert.deepEqual(ns(await received(bob)), [1, 2, 3, 4]);
      assert.deepEqual(problems, []);
    } finally {
      await context.close().catch(() => undefined);
      await bobContext.close().catch(() => undefined);
    }
  });

  test('chat: sent offline, pending after the reload, stored once each', { timeout: 60000 }, async () => {
    const problems = [];
    const context = await browser.newContext();
    try {
      let alice = await openPage(context, server, { user: 'alice', channel: 'room:unused' }, problems);
      await waitFor(() => connected(alice), 10000, 'alice connected');
      const roomId = await tw(alice, async () => (await window.tw.client.request('chat_create_room', { name: 'outbox' })).room.id);
      await alice.goto(`${server.httpUrl}/outbox-test.html?${new URLSearchParams({ user: 'alice', channel: 'room:unused', room: roomId })}`);
      await alice.locator('body[data-ready="true"]').waitFor({ state: 'attached', timeout: 10000 });
      await waitFor(async () => (await tw(alice, () => window.tw.room.getSnapshot().loaded)), 10000, 'the room loaded');

      await context.setOffline(true);
      await waitFor(async () => (await tw(alice, () => window.tw.client.state)) === 'disconnected', 5000, 'offline');
      await context.route('**/dev/token*', (route) => route.abort());
      for (const text of ['one', 'two', 'three']) await tw(alice, (t) => void window.tw.room.send(t).catch(() => undefined), text);
      assert.deepEqual(await tw(alice, () => window.tw.roomMessages()), [['one', 'pending'], ['two', 'pending'], ['three', 'pending']]);
      await tw(alice, () => window.tw.client.outboxPersisted());
      await context.setOffline(false);

      await alice.reload();
      await alice.locator('body[data-ready="true"]').waitFor({ state: 'attached', timeout: 10000 });
      await waitFor(async () => (await tw(alice, () => window.tw.roomMessages())).length === 3, 10000, 'the 3 shown after the reload');
      assert.deepEqual(await tw(alice, () => window.tw.roomMessages()), [['one', 'pending'], ['two', 'pending'], ['three', 'pending']]);

      await context.unroute('**/dev/token*');
      const stored = [['one', 'stored'], ['two', 'stored'], ['three', 'stored']];
      await waitFor(async () => JSON.stringify(await tw(alice, () => window.tw.roomMessages())) === JSON.stringify(stored), 15000, 'the 3 stored');
      const history = await tw(alice, async (id) => (await window.tw.client.request('chat_history', { roomId: id })).messages.map((m) => m.text), roomId);
      assert.deepEqual(history, ['one', 'two', 'three'], 'stored once each, in order');
      assert.deepEqual(problems, []);
    } finally {
      await context.close().catch(() => undefined);
    }
  });

  test('quota exceeded: reported with the ids it could not store, and the send still goes', { timeout: 60000 }, async () => {
    const channel = 'room:outbox-quota';
    const problems = [];
    const bobContext = await browser.newContext();
    const context = await browser.newContext();
    try {
      const bob = await openPage(bobContext, server, { user: 'bob', channel, listen: '1' }, problems);
      const alice = await openPage(context, server, { user: 'alice', channel }, problems);
      await waitFor(() => connected(alice), 10000, 'alice connected');
      const cdp = await context.newCDPSession(alice);
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.httpUrl, quotaSize: 1 });
      // Offline, so that the send waits in the outbox (its IndexedDB write is tried while it waits).
      await context.setOffline(true);
      await waitFor(async () => (await tw(alice, () => window.tw.client.state)) === 'disconnected', 5000, 'offline');
      const big = 'x'.repeat(1000);
      await tw(alice, (text) => void window.tw.client.send('room:outbox-quota', 'chat', { n: 1, text }), big);
      await tw(alice, () => window.tw.client.outboxPersisted());
      const errors = await tw(alice, () => window.tw.storageErrors);
      assert.equal(errors.length, 1, 'one storage failure reported');
      assert.equal(errors[0].ids.length, 1);
      assert.deepEqual(errors[0].channels, [channel]);
      await context.setOffline(false);
      await waitFor(async () => (await received(bob)).length === 1, 10000, 'the send delivered anyway');
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.httpUrl });
      assert.deepEqual(problems, []);
    } finally {
      await context.close().catch(() => undefined);
      await bobContext.close().catch(() => undefined);
    }
  });

  for (const share of ['0', '1']) test(`the browser closed while 5 sends await their ack: reopened, no duplicates${share === '1' ? ' (shared connection)' : ''}`, { timeout: 60000 }, async () => {
    const { chromium } = await import('playwright-core');
    const channel = `room:outbox-crash-${share}`;
    const problems = [];
    const profile = mkdtempSync(join(tmpdir(), 'tidewire-outbox-profile-'));
    dirs.push(profile);
    const launch = () => chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArgs, timeout: 15000 });
    const bobContext = await browser.newContext();
    let aliceContext;
    try {
      const bob = await openPage(bobContext, server, { user: 'bob', channel, listen: '1' }, problems);
      aliceContext = await launch();
      let alice = await openPage(aliceContext, server, { user: 'alice', channel, share }, problems);
      await waitFor(() => connected(alice), 10000, 'alice connected');

      // The server stops answering (its socket stays open): the sends go out and wait for their acks.
      server.process.kill('SIGSTOP');
      let resumed = false;
      try {
        for (let n = 1; n <= 5; n += 1) await tw(alice, (k) => window.tw.send(k), n);
        await tw(alice, () => window.tw.client.outboxPersisted());
        await waitFor(
          async () => (await tw(alice, () => window.tw.client.getOutbox().filter((e) => e.inFlight).length)) === 5,
          5000,
          'the 5 sends in flight',
        );
        await aliceContext.close(); // the page dies with its sends unacknowledged
        aliceContext = undefined;
      } finally {
        server.process.kill('SIGCONT');
        resumed = true;
      }
      assert.ok(resumed);
      // The server reads the frames that were on the wire and publishes them once.
      await waitFor(async () => (await received(bob)).length === 5, 10000, 'the 5 messages at bob');

      aliceContext = await launch();
      alice = await openPage(aliceContext, server, { user: 'alice', channel, share }, problems);
      await waitFor(async () => (await results(alice)).length === 5, 15000, 'the 5 resent sends settled');
      const r = await results(alice);
      assert.deepEqual(r.map((x) => [x.n, x.ok]), [1, 2, 3, 4, 5].map((n) => [n, true]));
      const got = await received(bob);
      // Acked as duplicates with the offsets of the first publication.
      assert.deepEqual(r.map((x) => x.offset), got.map(([, offset]) => offset));

      await tw(alice, () => window.tw.send(6));
      await waitFor(async () => (await received(bob)).length >= 6, 10000, 'message 6 at bob');
      assert.deepEqual(ns(await received(bob)), [1, 2, 3, 4, 5, 6], 'no duplicates');
      assert.deepEqual(problems, []);
    } finally {
      await aliceContext?.close().catch(() => undefined);
      await bobContext.close().catch(() => undefined);
    }
  });
});
