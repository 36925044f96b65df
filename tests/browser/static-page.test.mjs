// End-to-end in a real browser: the built site (build/site) served by the real server, loaded in Chromium.
//
//   node --test tests/browser/static-page.test.mjs
//
// Needs build/native/src/server/tidewire-server, web/dist (built) and /usr/bin/chromium. Screenshots go to
// test-results/browser/.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer } from '../node/helpers/server.mjs';
import {
  assembleSite,
  browserSkipReason,
  launchChromium,
  screenshot,
  siteDir,
  watchPage,
  withFailureScreenshots,
} from './helpers/browser.mjs';
import { connectRaw } from './helpers/raw-client.mjs';

const skip = browserSkipReason();
const TEST_TIMEOUT = 30000;
const UI_TIMEOUT = 10000;

describe('browser: the built site', { skip }, () => {
  let server;
  let browser;

  before(async () => {
    assembleSite();
    server = await startServer({ args: ['--static-dir', siteDir, '--dev-tokens'] });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  test('static.html receives a message published from Node', { timeout: TEST_TIMEOUT }, async () => {
    const channel = 'room:static';
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchPage(page, 'static.html');
    let raw;
    try {
      await withFailureScreenshots([page], 'static-page', async () => {
        const query = new URLSearchParams({ token: server.token('page-user'), channel });
        const response = await page.goto(`${server.httpUrl}/static.html?${query}`);
        assert.equal(response.status(), 200);

        // Deterministic: the page sets data-subscribed once channel.whenSubscribed() resolved, i.e. the server
        // has confirmed the subscription, so a publish from now on must reach it.
        await page.locator('body[data-state="connected"][data-subscribed="true"]').waitFor({ timeout: UI_TIMEOUT });

        raw = await connectRaw(server.wsUrl, server.token('node-publisher'));
        await raw.subscribe(channel);
        const payload = { text: 'hello from node', n: 1, nested: { ok: true } };
        const { offset } = await raw.publish(channel, 'chat', payload);
        assert.equal(offset, 1);

        const item = page.locator('#messages li').first();
        await item.waitFor({ timeout: UI_TIMEOUT });
        // Compare as JSON: the server re-encodes payloads (its JSON library sorts object keys).
        assert.deepEqual(JSON.parse(await item.textContent()), payload);

        // A second message, another event: the page listens to '*'.
        await raw.publish(channel, 'other', ['second']);
        await page.locator('#messages li').nth(1).waitFor({ timeout: UI_TIMEOUT });
        const texts = await page.locator('#messages li').allTextContents();
        assert.deepEqual(texts.map((t) => JSON.parse(t)), [payload, ['second']]);
        assert.equal(await page.locator('#state').textContent(), 'connected');

        await screenshot(page, 'static-page');
      });
      assert.deepEqual(problems, [], 'the page reported errors');
    } finally {
      raw?.close();
      await context.close();
    }
  });

  test('demo index.html: two signed-in pages see each other\'s messages', { timeout: TEST_TIMEOUT }, async () => {
    // Two contexts = two independent browser profiles (like two people).
    const contexts = await Promise.all([browser.newContext(), browser.newContext()]);
    const [alice, bob] = await Promise.all(contexts.map((c) => c.newPage()));
    const problemsA = watchPage(alice, 'alice');
    const problemsB = watchPage(bob, 'bob');
    try {
      await withFailureScreenshots([alice, bob], 'demo', async () => {
        async function signIn(page, name) {
          const response = await page.goto(`${server.httpUrl}/`);
          assert.equal(response.status(), 200);
          await page.locator('body[data-ready="true"]').waitFor({ timeout: UI_TIMEOUT });
          await page.getByLabel('Your name').fill(name);
          await page.getByRole('button', { name: 'Sign in' }).click();
          await page.locator('body[data-state="connected"][data-subscribed="true"]').waitFor({ timeout: UI_TIMEOUT });
          assert.equal(await page.locator('#state').textContent(), 'connected');
          assert.equal(await page.locator('#me').textContent(), name);
        }
        async function say(page, text) {
          await page.getByLabel('Message', { exact: true }).fill(text);
          await page.getByRole('button', { name: 'Send' }).click();
        }
        const message = (page, from, text) =>
          page.locator(`#messages li[data-from="${from}"]`).filter({ hasText: text });

        await Promise.all([signIn(alice, 'alice'), signIn(bob, 'bob')]);

        await say(alice, 'hi bob, alice here');
        await message(bob, 'alice', 'hi bob, alice here').waitFor({ timeout: UI_TIMEOUT });
        await message(alice, 'alice', 'hi bob, alice here').waitFor({ timeout: UI_TIMEOUT }); // own echo
        assert.equal(await message(alice, 'alice', 'hi bob').getAttribute('class'), 'message mine');
        assert.equal(await message(bob, 'alice', 'hi bob').getAttribute('class'), 'message');

        await say(bob, 'hello alice <b>not bold</b>');
        await message(alice, 'bob', 'hello alice').waitFor({ timeout: UI_TIMEOUT });
        // Text is rendered as text, never as HTML.
        assert.equal(await message(alice, 'bob', 'hello alice').locator('.text').textContent(), 'hello alice <b>not bold</b>');
        assert.equal(await alice.locator('#messages b').count(), 0);

        // Both see the same conversation, in the same order.
        const conversation = (page) => page.locator('#messages li .text').allTextContents();
        await bob.locator('#messages li').nth(1).waitFor({ timeout: UI_TIMEOUT });
        assert.deepEqual(await conversation(alice), ['hi bob, alice here', 'hello alice <b>not bold</b>']);
        assert.deepEqual(await conversation(bob), await conversation(alice));
        assert.equal(await alice.getByLabel('Message', { exact: true }).inputValue(), '', 'the input is cleared after sending');
        // The message list is announced to screen readers.
        assert.equal(await alice.locator('#messages').getAttribute('aria-live'), 'polite');

        await screenshot(alice, 'demo-alice');
        await screenshot(bob, 'demo-bob');

        // Sign out closes the client and returns to the form.
        await bob.getByRole('button', { name: 'Sign out' }).click();
        await bob.locator('#signin').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
        assert.equal(await bob.locator('body').getAttribute('data-state'), 'idle');
      });
      assert.deepEqual([...problemsA, ...problemsB], [], 'the pages reported errors');
    } finally {
      await Promise.all(contexts.map((c) => c.close()));
    }
  });

  test('demo index.html reconnects, with a fresh token, after the server restarts', { timeout: TEST_TIMEOUT }, async () => {
    // Its own server (the suite's keeps running), restarted on the same port.
    let own = await startServer({ args: ['--static-dir', siteDir, '--dev-tokens'] });
    const port = own.port;
    const restartArgs = ['--static-dir', siteDir, '--dev-tokens', '--port', String(port)];
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchPage(page, 'demo');
    const tokenRequests = [];
    page.on('request', (r) => {
      if (r.url().includes('/dev/token')) tokenRequests.push(r.url());
    });
    let raw;
    try {
      await withFailureScreenshots([page], 'demo-reconnect', async () => {
        await page.goto(`${own.httpUrl}/`);
        await page.getByLabel('Your name').fill('carol');
        await page.getByRole('button', { name: 'Sign in' }).click();
        const live = page.locator('body[data-state="connected"][data-subscribed="true"]');
        await live.waitFor({ timeout: UI_TIMEOUT });
        assert.equal(tokenRequests.length, 1);

        await own.stop();
        await page.locator('body[data-state="reconnecting"]').waitFor({ timeout: UI_TIMEOUT });
        assert.equal(await page.locator('#state').getAttribute('data-state'), 'reconnecting');
        assert.equal(await page.locator('body').getAttribute('data-subscribed'), 'false');

        own = await startServer({ args: restartArgs });
        assert.equal(own.port, port);
        // Backoff: full jitter from 1 s, doubling; a couple of attempts fit well within the timeout.
        await live.waitFor({ timeout: 20000 });
        assert.ok(tokenRequests.length >= 2, 'the reconnect fetched a fresh token from the token provider');

        // The resubscribed channel delivers again.
        raw = await connectRaw(own.wsUrl, own.token('node-publisher'));
        await raw.subscribe('room:lobby');
        await raw.publish('room:lobby', 'chat', { text: 'welcome back' });
        await page.locator('#messages li[data-from="node-publisher"]').filter({ hasText: 'welcome back' }).waitFor({ timeout: UI_TIMEOUT });
        await screenshot(page, 'demo-reconnected');
      });
      // While the server was down the browser logged failed WebSocket attempts: expected here.
      const unexpected = problems.filter((p) => !/WebSocket connection to .* failed/.test(p));
      assert.deepEqual(unexpected, [], 'the page reported errors');
    } finally {
      raw?.close();
      await context.close();
      await own.stop();
    }
  });
});
