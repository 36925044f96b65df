// End-to-end in a real browser: the static-page build (build/site/static.html importing build/site/tidewire/*.js,
// no bundler) served by the real server, loaded in Chromium. The React demo app: demo-app.test.mjs.
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
import { connectRaw } from '../support/raw-client.mjs';

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
});
