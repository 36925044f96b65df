// Issue 18, sharing by default with a token provider and no shareKey: the tab learns its user from its token's
// JWT `sub`. In real Chromium against the real server, with a SharedWorker and in the leader-election mode:
// - two tabs of one user share one connection (/metrics), each asked its provider once (the token it got to
//   learn its user is the first one used: no second call);
// - a tab of another user (another sub) gets its own connection;
// - a token that is not a JWT gives a per-tab connection (sharedAcrossTabs false, each tab tries on its own);
// - a tab whose user signs in as someone else moves to that user's connection with its channels: the first
//   user's connection stays theirs (its userId), and the moved tab still gets its channel's messages; once
//   every tab signed in as the new user, one connection is left (in leader mode: the leader moved too);
// - a later token that names no user moves the tab to a connection of its own.
//
//   node --test tests/browser/shared-token-identity.test.mjs
//
// Needs build/native/src/server/tidewire-server (or TIDEWIRE_SERVER_BIN), web/dist and /usr/bin/chromium.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { connectAuthed } from '../support/raw-client.mjs';
import { browserSkipReason, SHARE_MODES, shareModeContext, watchPageExcept, withFailureScreenshots } from './helpers/browser.mjs';
import { servedPageSite } from './helpers/served-page-site.mjs';
import { waitFor } from '../support/wait.mjs';

const skip = browserSkipReason();

// `?user=…&channel=…`: createClient with a token provider for window.tw.user and no shareKey. A user named
// `opaque…` gets a token that is not a JWT.
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>token identity test</title><link rel="icon" href="data:,"></head>
<body>
<script type="module">
  import { createClient } from '/tidewire/index.js';
  const params = new URLSearchParams(location.search);
  const tw = (window.tw = { user: params.get('user'), received: [], errors: [], tokenFetches: 0 });
  const client = createClient({
    url: 'ws://' + location.host + '/ws',
    token: async () => {
      tw.tokenFetches += 1;
      if (tw.user.startsWith('opaque')) return 'not-a-jwt-' + tw.user;
      const res = await fetch('/dev/token?user=' + encodeURIComponent(tw.user));
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return (await res.json()).token;
    },
  });
  tw.client = client;
  client.onError((e) => tw.errors.push(e.code));
  await client.ready;
  tw.shared = client.sharedAcrossTabs;
  const ch = (tw.ch = client.channel(params.get('channel')).subscribe());
  ch.on('n', (m) => tw.received.push(m.payload));
  if (!tw.user.startsWith('opaque')) await ch.whenSubscribed();
  document.body.dataset.ready = 'true';
</script>
</body></html>`;

const connections = (server) => server.metric('tidewire_connections');
const received = (page) => page.evaluate(() => window.tw.received.slice());

for (const mode of SHARE_MODES) describe(`browser: tabs learn their user from the token's sub (${mode})`, { skip }, () => {
  const site = servedPageSite({ 'identity-test.html': PAGE }, { prefix: 'tidewire-identity-site-' });

  async function openTab(context, query, problems, allowed = /^$/) {
    const page = await context.newPage();
    watchPageExcept(page, query.user, allowed, problems);
    await page.goto(`${site.server.httpUrl}/identity-test.html?${new URLSearchParams(query)}`);
    await page.locator('body[data-ready="true"]').waitFor({ state: 'attached', timeout: 10000 });
    return page;
  }

  test('one user: one connection, one provider call per tab; another sub: another connection', { timeout: 60000 }, async () => {
    const channel = `room:identity-${mode.replace(' ', '-')}`;
    await waitFor(async () => (await connections(site.server)) === 0, 5000, 'no connections left');
    const context = await shareModeContext(site.browser, mode);
    const problems = [];
    const publisher = await connectAuthed(site.server, 'bob');
    try {
      const base = await connections(site.server);
      const alice = [await openTab(context, { user: 'alice', channel }, problems), await openTab(context, { user: 'alice', channel }, problems)];
      await withFailureScreenshots(alice, 'shared-token-identity', async () => {
        assert.equal(await connections(site.server), base + 1, 'two tabs of alice, one connection');
        for (const page of alice) {
          assert.equal(await page.evaluate(() => window.tw.shared), true);
          assert.equal(await page.evaluate(() => window.tw.tokenFetches), 1, 'the token that named the user was the one used');
          assert.equal(await page.evaluate(() => window.tw.client.userId), 'alice');
        }
        const carol = await openTab(context, { user: 'carol', channel }, problems);
        assert.equal(await connections(site.server), base + 2, 'carol (another sub) has her own connection');
        assert.equal(await carol.evaluate(() => window.tw.client.userId), 'carol');
        await publisher.publish(channel, 'n', 1);
        for (const page of [...alice, carol]) await waitFor(async () => (await received(page)).includes(1), 5000, 'the message in every tab');
        assert.deepEqual(problems, []);
      });
    } finally {
      await publisher.close();
      await context.close().catch(() => undefined);
    }
  });

  test('a token that is not a JWT: each tab holds its own connection', { timeout: 60000 }, async () => {
    const context = await shareModeContext(site.browser, mode);
    const problems = [];
    // The server refuses these tokens: the refused upgrades are what the test causes.
    const allowed = /WebSocket|401|auth/i;
    try {
      const failures = await site.server.metric('tidewire_auth_failures_total');
      const tabs = [
        await openTab(context, { user: 'opaque', channel: 'room:opaque' }, problems, allowed),
        await openTab(context, { user: 'opaque', channel: 'room:opaque' }, problems, allowed),
      ];
      for (const page of tabs) assert.equal(await page.evaluate(() => window.tw.shared), false, 'not shared');
      // Both tabs present their token to the server themselves (a shared connection would present it once).
      await waitFor(async () => (await site.server.metric('tidewire_auth_failures_total')) >= failures + 2, 5000, 'both tabs tried');
      for (const page of tabs) {
        await waitFor(async () => (await page.evaluate(() => window.tw.errors.length)) > 0, 5000, 'the refusal reported');
      }
      assert.deepEqual(problems, []);
    } finally {
      await context.close().catch(() => undefined);
    }
  });

  test('signed in as someone else: the tab moves to that user\'s connection, with its channels', { timeout: 60000 }, async () => {
    const channel = `room:identity-switch-${mode.replace(' ', '-')}`;
    await waitFor(async () => (await connections(site.server)) === 0, 5000, 'no connections left');
    const context = await shareModeContext(site.browser, mode);
    const problems = [];
    const publisher = await connectAuthed(site.server, 'bob');
    try {
      const base = await connections(site.server);
      const first = await openTab(context, { user: 'alice', channel }, problems);
      const second = await openTab(context, { user: 'alice', channel }, problems);
      await withFailureScreenshots([first, second], 'shared-token-switch', async () => {
        assert.equal(await connections(site.server), base + 1);
        // The second tab's user signs in as dave; the next token the connection asks for is dave's (the hub asks
        // the tab attached last): it must not reach alice's connection.
        await second.evaluate(() => {
          window.tw.user = 'dave';
          window.tw.client.reconnect();
        });
        await waitFor(async () => (await second.evaluate(() => window.tw.client.userId)) === 'dave', 10000, "the second tab on dave's connection");
        await waitFor(async () => (await connections(site.server)) === base + 2, 5000, 'alice and dave: two connections');
        await waitFor(async () => (await first.evaluate(() => window.tw.client.state)) === 'connected', 5000, 'alice connected again');
        assert.equal(await first.evaluate(() => window.tw.client.userId), 'alice', "alice's connection stays alice's");
        assert.equal(await second.evaluate(() => window.tw.client.sharedAcrossTabs), true);
        await waitFor(async () => await second.evaluate(() => window.tw.ch.isSubscribed), 5000, "the channel subscribed again on dave's connection");
        await publisher.publish(channel, 'n', 2);
        for (const page of [first, second]) await waitFor(async () => (await received(page)).includes(2), 5000, 'the message in both tabs');
        // A third tab of dave joins dave's connection.
        await openTab(context, { user: 'dave', channel }, problems);
        assert.equal(await connections(site.server), base + 2, "a new tab of dave joins dave's connection");

        // Now the first tab signs in as dave too (in leader mode it leads alice's connection: it closes it and
        // moves): every tab on dave's connection, alice's gone.
        await first.evaluate(() => {
          window.tw.user = 'dave';
          window.tw.client.reconnect();
        });
        await waitFor(async () => (await first.evaluate(() => window.tw.client.userId)) === 'dave', 10000, "the first tab on dave's connection");
        await waitFor(async () => (await connections(site.server)) === base + 1, 10000, "one connection left: dave's");
        await waitFor(async () => await first.evaluate(() => window.tw.ch.isSubscribed), 5000, 'the first tab subscribed again');
        await publisher.publish(channel, 'n', 3);
        for (const page of [first, second]) await waitFor(async () => (await received(page)).includes(3), 5000, 'the message in both tabs');
        assert.deepEqual(problems, []);
      });
    } finally {
      await publisher.close();
      await context.close().catch(() => undefined);
    }
  });

  test('a later token that names no user: the tab moves to a connection of its own', { timeout: 60000 }, async () => {
    const channel = `room:identity-opaque-${mode.replace(' ', '-')}`;
    await waitFor(async () => (await connections(site.server)) === 0, 5000, 'no connections left');
    const context = await shareModeContext(site.browser, mode);
    const problems = [];
    try {
      const base = await connections(site.server);
      const first = await openTab(context, { user: 'erin', channel }, problems);
      const second = await openTab(context, { user: 'erin', channel }, problems, /WebSocket|401|auth/i);
      const failures = await site.server.metric('tidewire_auth_failures_total');
      await second.evaluate(() => {
        window.tw.user = 'opaque-erin';
        window.tw.client.reconnect();
      });
      // The second tab presents its token on a connection of its own (refused by this server: not a JWT);
      // erin's connection asks the first tab and stays erin's.
      await waitFor(async () => (await site.server.metric('tidewire_auth_failures_total')) > failures, 10000, 'the second tab tried its own connection');
      await waitFor(async () => (await first.evaluate(() => window.tw.client.state)) === 'connected', 10000, 'erin connected again');
      assert.equal(await first.evaluate(() => window.tw.client.userId), 'erin');
      assert.equal(await connections(site.server), base + 1, "only erin's connection is open");
      assert.deepEqual(problems, []);
    } finally {
      await context.close().catch(() => undefined);
    }
  });
});
