// Issue 18, parity over a shared connection: the default client (createClient) of a browser page shares its
// connection with the other tabs of its user, and presence, sync collections and chat rooms work over it as
// they do over a tab's own connection. Real Chromium against the real server, with a SharedWorker and in the
// leader-election mode (SharedWorker removed before the page loads):
// - the default client shares (two tabs: one server connection); `shareAcrossTabs: false` does not; in Node
//   the client is the plain one; an app bundle that left shared_worker.js behind falls back to leader election
//   and still shares;
// - presence from three tabs of one user is one member on one connection: a tab's update updates it, diffs reach
//   every tab, and it leaves only when the last tab's presence leaves (a closed tab's presence goes with it);
// - a SyncCollection and a ChatRoom used from two tabs over one connection see each other's changes.
//
//   node --test tests/browser/shared-objects.test.mjs
//
// Needs build/native/src/server/tidewire-server (or TIDEWIRE_SERVER_BIN), web/dist and /usr/bin/chromium.
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { connectAuthed } from '../support/raw-client.mjs';
import { browserSkipReason, SHARE_MODES, shareModeContext, watchPage, withFailureScreenshots } from './helpers/browser.mjs';
import { servedPageSite } from './helpers/served-page-site.mjs';
import { waitFor } from '../support/wait.mjs';

const skip = browserSkipReason();

// `?user=…[&share=0][&lib=…]`: the default client, as an app gets it (`lib`: where tidewire is served from).
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shared objects test</title><link rel="icon" href="data:,"></head>
<body>
<script type="module">
  const params = new URLSearchParams(location.search);
  const { createClient } = await import(params.get('lib') ?? '/tidewire/index.js');
  const user = params.get('user');
  const client = createClient({
    url: 'ws://' + location.host + '/ws',
    shareKey: user,
    ...(params.get('share') === '0' ? { shareAcrossTabs: false } : {}),
    token: async () => (await (await fetch('/dev/token?user=' + encodeURIComponent(user))).json()).token,
  });
  window.tw = { client, errors: [] };
  client.onError((e) => window.tw.errors.push(e.code + ': ' + e.message));
  document.body.dataset.ready = 'true';
</script>
</body></html>`;

const connections = (server) => server.metric('tidewire_connections');

async function noConnections(server) {
  await waitFor(async () => (await connections(server)) === 0, 5000, "the previous tests' connections closed");
}

const members = (page) => page.evaluate(() => window.tw.presence.members.map((m) => `${m.userId}:${m.status}`).sort());
const serverMembers = async (observer, channel) =>
  (await observer.request({ type: 'presence_get', channel }, 'reply')).data.members.map((m) => `${m.userId}:${m.status}:${m.connections}`).sort();

test('in Node, createClient gives the plain client (nothing to share with)', async () => {
  const { createClient } = await import('../../web/dist/index.js');
  const client = createClient({ url: 'ws://127.0.0.1:1/ws', shareKey: 'alice' });
  assert.equal(client.sharedAcrossTabs, false);
  client.close();
});

for (const mode of SHARE_MODES) describe(`browser: presence, sync and chat over a shared connection (${mode})`, { skip }, () => {
  const slug = mode.replace(' ', '-');
  const site = servedPageSite({ 'objects.html': PAGE }, {
    prefix: 'tidewire-shared-objects-',
    serverArgs: ['--presence-grace-ms', '0'],
    // tidewire as an app's bundler may serve it: without the worker's file.
    prepare: (dir) => {
      cpSync(join(dir, 'tidewire'), join(dir, 'bundled'), { recursive: true });
      rmSync(join(dir, 'bundled', 'shared_worker.js'));
    },
  });

  async function openTabs(context, query, n, problems) {
    const pages = [];
    for (let i = 0; i < n; i += 1) {
      const page = await context.newPage();
      problems.push(watchPage(page, `${query.user}-${i}`));
      await page.goto(`${site.server.httpUrl}/objects.html?${new URLSearchParams(query)}`);
      await page.locator('body[data-ready="true"]').waitFor({ state: 'attached', timeout: 10000 });
      pages.push(page);
    }
    return pages;
  }

  const subscribe = (page, channel) =>
    page.evaluate(async (name) => {
      const ch = window.tw.client.channel(name).subscribe();
      await ch.whenSubscribed();
    }, channel);

  test('the default client shares; shareAcrossTabs: false does not', { timeout: 30000 }, async () => {
    await noConnections(site.server);
    const context = await shareModeContext(site.browser, mode);
    const problems = [];
    try {
      const shared = await openTabs(context, { user: 'carol' }, 2, problems);
      const own = await openTabs(context, { user: 'carol', share: '0' }, 2, problems);
      for (const page of shared) assert.equal(await page.evaluate(() => window.tw.client.sharedAcrossTabs), true);
      for (const page of own) assert.equal(await page.evaluate(() => window.tw.client.sharedAcrossTabs), false);
      for (const page of [...shared, ...own]) await subscribe(page, `room:default-${slug}`);
      assert.equal(await connections(site.server), 3, 'two sharing tabs hold one connection, two others one each');
      for (const page of [...shared, ...own]) assert.deepEqual(await page.evaluate(() => window.tw.errors), []);
      // A channel name the engine refuses: an error in the tab that asked, not in the other.
      await shared[0].evaluate(() => window.tw.client.channel('no spaces allowed').subscribe());
      await waitFor(async () => (await shared[0].evaluate(() => window.tw.errors)).length > 0, 5000, 'the refusal');
      assert.match((await shared[0].evaluate(() => window.tw.errors)).join(), /no spaces allowed/);
      await subscribe(shared[1], `room:default-${slug}-2`); // a round trip through the hub after the refusal
      assert.deepEqual(await shared[1].evaluate(() => window.tw.errors), []);
      assert.deepEqual(problems.flat(), []);
    } finally {
      await context.close();
    }
  });

  if (mode === 'SharedWorker') {
    test('without shared_worker.js the tabs elect a leader and still share', { timeout: 30000 }, async () => {
      await noConnections(site.server);
      const context = await shareModeContext(site.browser, mode);
      const problems = [];
      try {
        const tabs = await openTabs(context, { user: 'erin', lib: '/bundled/index.js' }, 3, problems);
        for (const page of tabs) await subscribe(page, `room:fallback-${slug}`);
        assert.equal(await connections(site.server), 1, 'three tabs hold one connection');
        const sent = await tabs[2].evaluate(async (name) => (await window.tw.client.send(name, 'n', 1)).offset, `room:fallback-${slug}`);
        assert.equal(sent, 1);
        for (const page of tabs) assert.deepEqual(await page.evaluate(() => window.tw.errors), []);
        // The worker's missing file is the one failed request (a 404), reported once per tab.
        assert.deepEqual(problems.flat().filter((p) => !/404|shared_worker/.test(p)), []);
      } finally {
        await context.close();
      }
    });
  }

  test('presence of three tabs is one member, which leaves with the last tab', { timeout: 30000 }, async () => {
    const channel = `room:presence-${slug}`;
    await noConnections(site.server);
    const context = await shareModeContext(site.browser, mode);
    const problems = [];
    const bob = await connectAuthed(site.server, 'bob');
    try {
      await bob.subscribe(channel);
      const tabs = await openTabs(context, { user: 'alice' }, 3, problems);
      await withFailureScreenshots(tabs, 'shared-objects', async () => {
        for (const [i, page] of tabs.entries()) {
          await page.evaluate(
            ({ name, i }) => {
              window.tw.presence = window.tw.client.presence(name, { info: { tab: i } });
            },
            { name: channel, i },
          );
        }
        for (const page of tabs) await waitFor(async () => (await members(page)).includes('alice:online'), 5000, 'each tab sees alice');
        assert.equal(await connections(site.server), 2, "alice's three tabs hold one connection (and bob one)");
        assert.deepEqual(await serverMembers(bob, channel), ['alice:online:1'], 'one member, on one connection');

        // Diffs reach every tab.
        await bob.request({ type: 'presence_join', channel, status: 'busy' }, 'reply');
        for (const page of tabs) await waitFor(async () => (await members(page)).includes('bob:busy'), 5000, 'each tab sees bob join');

        // The first tab leaves: alice stays, and another tab's update updates her entry.
        await tabs[0].evaluate(() => window.tw.presence.leave());
        await tabs[1].evaluate(() => window.tw.presence.updateStatus('away'));
        assert.deepEqual(await serverMembers(bob, channel), ['alice:away:1', 'bob:busy:1']);
        for (const page of tabs.slice(1)) await waitFor(async () => (await members(page)).includes('alice:away'), 5000, 'the update reaches the tabs');

        // The second tab closes: its presence goes with it, alice stays for the third.
        await tabs[1].close();
        await new Promise((r) => setTimeout(r, 300)); // time for the hub to hear of it (nothing to observe when right)
        await tabs[2].evaluate(() => window.tw.presence.updateStatus('online'));
        assert.deepEqual(await serverMembers(bob, channel), ['alice:online:1', 'bob:busy:1'], 'alice stays while a tab holds her presence');

        // The last tab leaves: alice leaves.
        await tabs[2].evaluate(() => window.tw.presence.leave());
        await waitFor(async () => (await serverMembers(bob, channel)).join() === 'bob:busy:1', 5000, 'alice left with the last tab');
        assert.deepEqual(await tabs[2].evaluate(() => window.tw.errors), []);
        assert.deepEqual(problems.flat(), []);
      });
    } finally {
      bob.close();
      await context.close();
    }
  });

  test('a SyncCollection and a ChatRoom from two tabs over one connection', { timeout: 30000 }, async () => {
    const channel = `tasks:shared-${slug}`;
    await noConnections(site.server);
    const context = await shareModeContext(site.browser, mode);
    const problems = [];
    try {
      const tabs = await openTabs(context, { user: 'dave' }, 2, problems);
      await withFailureScreenshots(tabs, 'shared-objects-sync-chat', async () => {
        for (const page of tabs) {
          await page.evaluate(async (name) => {
            window.tw.sync = window.tw.client.sync(name, 'task');
            await window.tw.sync.whenLoaded();
          }, channel);
        }
        const titles = (page) => page.evaluate(() => window.tw.sync.items.filter((i) => !i.pending).map((i) => i.data.title).sort());
        const item = await tabs[0].evaluate(() => window.tw.sync.insert({ title: 'one' }));
        await waitFor(async () => (await titles(tabs[1])).join() === 'one', 5000, 'the insert reaches the other tab');
        await tabs[1].evaluate((id) => window.tw.sync.update(id, { title: 'uno' }), item.id);
        await waitFor(async () => (await titles(tabs[0])).join() === 'uno', 5000, 'the update reaches the first tab');

        const roomId = await tabs[0].evaluate(async () => (await window.tw.client.chat.createRoom('two tabs')).id);
        for (const page of tabs) await page.evaluate((id) => (window.tw.room = window.tw.client.chat.room(id)), roomId);
        const texts = (page) => page.evaluate(() => window.tw.room.snapshot.messages.filter((m) => !m.status).map((m) => m.text));
        await tabs[1].evaluate(() => window.tw.room.send('from tab 1'));
        await waitFor(async () => (await texts(tabs[0])).join() === 'from tab 1', 5000, 'tab 0 sees tab 1');
        await tabs[0].evaluate(() => window.tw.room.send('from tab 0'));
        await waitFor(async () => (await texts(tabs[1])).join('|') === 'from tab 1|from tab 0', 5000, 'tab 1 sees tab 0');
        assert.deepEqual(await texts(tabs[0]), ['from tab 1', 'from tab 0'], 'each message once, in order');

        assert.equal(await connections(site.server), 1, 'both tabs used one connection');
        for (const page of tabs) assert.deepEqual(await page.evaluate(() => window.tw.errors), []);
        assert.deepEqual(problems.flat(), []);
      });
    } finally {
      await context.close();
    }
  });
});
