// Issue 18, one connection shared by every tab (createSharedClient), in real Chromium against the real server,
// both with a SharedWorker and in the leader-election mode (SharedWorker removed before the page loads: a leader
// tab holds the connection and relays over BroadcastChannel, Web Locks elect the next one):
// - three tabs of one user hold one server connection (the server's /metrics), their token provider is asked
//   once, and all three get every message of a channel, in order;
// - closing the tab that attached first (in leader mode: the leader) while a publisher sends loses and
//   duplicates nothing in the others; in leader mode another tab holds the connection again within 1 s;
// - a tab signed in as another user, and a tab with shareAcrossTabs: false, get their own connections;
// - the connection closes only once every tab is hidden past hiddenCloseMs (in leader mode, hiding the leader
//   tab alone keeps it), and comes back when one is visible again.
//
//   node --test tests/browser/shared-connection.test.mjs
//
// Needs build/native/src/server/tidewire-server (or TIDEWIRE_SERVER_BIN), web/dist and /usr/bin/chromium.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { connectAuthed } from '../support/raw-client.mjs';
import { browserSkipReason, SHARE_MODES, shareModeContext, watchPage, withFailureScreenshots } from './helpers/browser.mjs';
import { servedPageSite } from './helpers/served-page-site.mjs';
import { waitFor } from '../support/wait.mjs';

const skip = browserSkipReason();

// `?user=…&channel=…[&share=0]`: records the channel's messages (tw.received) and the token fetches.
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shared test</title><link rel="icon" href="data:,"></head>
<body>
<script type="module">
  import { createSharedClient } from '/tidewire/shared.js';
  const params = new URLSearchParams(location.search);
  const user = params.get('user');
  const tw = (window.tw = { received: [], errors: [], tokenFetches: 0, connectedAt: [] });
  const client = createSharedClient({
    url: 'ws://' + location.host + '/ws',
    shareKey: user,
    shareAcrossTabs: params.get('share') !== '0',
    ...(params.has('hiddenCloseMs') ? { hiddenCloseMs: Number(params.get('hiddenCloseMs')) } : {}),
    token: async () => {
      tw.tokenFetches += 1;
      const res = await fetch('/dev/token?user=' + encodeURIComponent(user));
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return (await res.json()).token;
    },
  });
  tw.client = client;
  client.onError((e) => tw.errors.push(e.code));
  client.onStateChange(({ to }) => to === 'connected' && tw.connectedAt.push(Date.now()));
  const ch = client.channel(params.get('channel')).subscribe();
  ch.on('n', (m) => tw.received.push(m.payload));
  await ch.whenSubscribed();
  document.body.dataset.ready = 'true';
</script>
</body></html>`;

// Each test starts once the server has seen the previous tests' connections close (they close in `finally`, and
// the server counts them down a moment later): the counts below are then exact.
async function noConnections(server) {
  await waitFor(async () => (await connections(server)) === 0, 5000, "the previous tests' connections closed");
}

const connections = (server) => server.metric('tidewire_connections');

const received = (page) => page.evaluate(() => window.tw.received.slice());
// Headless pages are always visible: the test sets what document.visibilityState says and fires the event, as
// switching tabs would.
const setVisible = (page, visible) =>
  page.evaluate((v) => {
    Object.defineProperty(document, 'visibilityState', { value: v ? 'visible' : 'hidden', configurable: true });
    Object.defineProperty(document, 'hidden', { value: !v, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, visible);
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

for (const mode of SHARE_MODES) describe(`browser: one connection shared by the tabs of one user (${mode})`, { skip }, () => {
  const site = servedPageSite({ 'shared-test.html': PAGE }, { prefix: 'tidewire-shared-site-' });

  async function openTabs(context, query, n, problems) {
    const pages = [];
    for (let i = 0; i < n; i += 1) {
      const page = await context.newPage();
      problems.push(watchPage(page, `${query.user}-${i}`));
      await page.goto(`${site.server.httpUrl}/shared-test.html?${new URLSearchParams(query)}`);
      await page.locator('body[data-ready="true"]').waitFor({ state: 'attached', timeout: 10000 });
      pages.push(page);
    }
    return pages;
  }

  test('three tabs: one connection, one token fetch, every message in every tab; closing a tab loses nothing', { timeout: 60000 }, async () => {
    const channel = `room:shared-${mode.replace(' ', '-')}`;
    await noConnections(site.server);
    const context = await shareModeContext(site.browser, mode);
    const problems = [];
    const publisher = await connectAuthed(site.server, 'bob');
    try {
      const base = await connections(site.server); // the publisher
      const tabs = await openTabs(context, { user: 'alice', channel }, 3, problems);
      await withFailureScreenshots(tabs, 'shared-connection', async () => {
        const hasWorker = await tabs[0].evaluate(() => typeof SharedWorker !== 'undefined');
        assert.equal(hasWorker, mode === 'SharedWorker', 'the mode under test');
        assert.equal(await connections(site.server), base + 1, 'three tabs of alice hold one connection');
        const fetches = await Promise.all(tabs.map((p) => p.evaluate(() => window.tw.tokenFetches)));
        assert.equal(fetches.reduce((a, b) => a + b, 0), 1, 'the token provider was called in one tab, once');

        // An RPC from a tab that does not hold the connection (in leader mode) goes through it.
        const room = await tabs[2].evaluate(async () => (await window.tw.client.request('chat_create_room', { name: 'shared' })).room);
        assert.equal(room.createdBy, 'alice');
        const refused = await tabs[2].evaluate(() => window.tw.client.request('chat_join', { roomId: '999999' }).then(() => 'ok', (e) => e.code));
        assert.equal(refused, 'not_found');
        for (const n of range(1, 20)) await publisher.publish(channel, 'n', n);
        for (const page of tabs) await waitFor(async () => (await received(page)).length >= 20, 5000, '20 messages in every tab');
        for (const page of tabs) assert.deepEqual(await received(page), range(1, 20));

        // The first tab closes while the publisher sends: the others lose and duplicate nothing.
        const sending = (async () => {
          for (const n of range(21, 60)) {
            await publisher.publish(channel, 'n', n);
            await new Promise((r) => setTimeout(r, 5));
          }
        })();
        await waitFor(async () => (await received(tabs[1])).length >= 25, 5000, 'the burst under way');
        const closedAt = Date.now();
        await tabs[0].close();
        await sending;
        for (const page of tabs.slice(1)) await waitFor(async () => (await received(page)).length >= 60, 5000, '60 messages');
        for (const page of tabs.slice(1)) assert.deepEqual(await received(page), range(1, 60), 'once each, in order');
        if (mode === 'leader election') {
          // The next leader connected within 1 s, and the tabs heard it.
          const at = await tabs[1].evaluate((t) => window.tw.connectedAt.find((c) => c >= t), closedAt);
          assert.ok(at !== undefined && at - closedAt <= 1000, `the next leader connected ${at - closedAt} ms after the close`);
        }
        await waitFor(async () => (await connections(site.server)) === base + 1, 5000, 'one connection');
        assert.deepEqual(problems.flat(), []);
      });
    } finally {
      await publisher.close();
      await context.close().catch(() => undefined);
    }
  });

  test('the connection closes only once every tab is hidden past hiddenCloseMs', { timeout: 60000 }, async () => {
    const channel = `room:shared-hidden-${mode.replace(' ', '-')}`;
    await noConnections(site.server);
    const context = await shareModeContext(site.browser, mode);
    const problems = [];
    const publisher = await connectAuthed(site.server, 'bob');
    try {
      const base = await connections(site.server);
      const [first, second] = await openTabs(context, { user: 'alice', channel, hiddenCloseMs: '300' }, 2, problems);
      assert.equal(await connections(site.server), base + 1);
      await setVisible(first, false);
      // Nothing must happen here: wait well past hiddenCloseMs (a real browser, no virtual clock to drive).
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(await connections(site.server), base + 1, 'one tab still visible: the connection stays');
      await setVisible(second, false);
      await waitFor(async () => (await connections(site.server)) === base, 5000, 'every tab hidden: the connection closed');
      await setVisible(second, true);
      await waitFor(async () => (await connections(site.server)) === base + 1, 5000, 'a tab visible again: reconnected');
      await waitFor(async () => (await second.evaluate(() => window.tw.client.state)) === 'connected', 5000, 'connected');
      await publisher.publish(channel, 'n', 1);
      for (const page of [first, second]) await waitFor(async () => (await received(page)).includes(1), 5000, 'message after the return');
      assert.deepEqual(problems.flat(), []);
    } finally {
      await publisher.close();
      await context.close().catch(() => undefined);
    }
  });

  test('another user, and shareAcrossTabs: false, get their own connections', { timeout: 60000 }, async () => {
    const channel = `room:shared-users-${mode.replace(' ', '-')}`;
    await noConnections(site.server);
    const context = await shareModeContext(site.browser, mode);
    const problems = [];
    try {
      const base = await connections(site.server);
      const alice = await openTabs(context, { user: 'alice', channel }, 2, problems);
      assert.equal(await connections(site.server), base + 1);
      const carol = await openTabs(context, { user: 'carol', channel }, 1, problems);
      assert.equal(await connections(site.server), base + 2, "carol's tab has its own connection");
      const alone = await openTabs(context, { user: 'alice', channel, share: '0' }, 1, problems);
      assert.equal(await connections(site.server), base + 3, 'shareAcrossTabs: false opens its own');
      const ids = await Promise.all([...alice, ...carol].map((p) => p.evaluate(() => window.tw.client.userId)));
      assert.deepEqual(ids, ['alice', 'alice', 'carol']);
      assert.equal(await carol[0].evaluate(() => window.tw.tokenFetches), 1, "carol's own provider answered for her worker");
      void alone;
      assert.deepEqual(problems.flat(), []);
    } finally {
      await context.close().catch(() => undefined);
    }
  });
});
