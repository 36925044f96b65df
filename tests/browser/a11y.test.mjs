// Accessibility of the demo app and tidewire's React components, in real headless Chromium against the real
// server: axe-core (npm devDependency, injected into the page) in every state of the demo, where focus goes
// after sign-in, and how many Tab presses lead from the room list to the composer.
//
//   node --test tests/browser/a11y.test.mjs
//
// Fails on any `serious` or `critical` axe violation, printing each as "[state] rule (impact) target: summary".
// Lesser ones (moderate, minor) are printed as diagnostics. Screenshots of failures go to test-results/browser/.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startServer } from '../node/helpers/server.mjs';
import { checkPage, describeViolations } from './helpers/axe.mjs';
import { assembleSite, browserSkipReason, launchChromium, watchPage, withFailureScreenshots } from './helpers/browser.mjs';
import {
  EXPECTED_WHILE_DOWN,
  SERVER_ARGS,
  UI_TIMEOUT,
  addTask,
  composer,
  createRoom,
  message,
  openDemo,
  openRoom,
  openRoomView,
  person,
  roomButton,
  say,
  setNetwork,
  settled,
  signIn,
  task,
  twoUsers,
} from './helpers/demo.mjs';
import { waitFor } from '../support/wait.mjs';

const skip = browserSkipReason();
const TEST_TIMEOUT = 50000;
/** The most Tab presses allowed from the first room of the list to the open room's composer. */
const MAX_TABS_TO_COMPOSER = 10;

/**
 * axe findings in components other engineers own that are reported and being fixed there, by rule id and a
 * target substring. Empty when everything is fixed; never list the demo's or styles.ts's own findings here.
 */
const KNOWN = [];

const isKnown = (v, n) => KNOWN.some((k) => k.rule === v.id && n.target.includes(k.target));

/** Collects the violations of every state; the test asserts on all of them at the end. */
function auditor(t) {
  const blocking = [];
  const seen = [];
  return {
    async check(page, state) {
      const result = await checkPage(page, state);
      seen.push(state);
      for (const v of result.blocking) {
        const nodes = v.nodes.filter((n) => !isKnown(v, n));
        if (nodes.length > 0) blocking.push({ ...v, nodes });
        const known = v.nodes.filter((n) => isKnown(v, n));
        for (const line of describeViolations([{ ...v, nodes: known }]).split('\n')) if (line) t.diagnostic(`known, reported: ${line}`);
      }
      for (const line of describeViolations(result.other).split('\n')) if (line) t.diagnostic(`not blocking: ${line}`);
    },
    assertClean() {
      assert.ok(seen.length > 0);
      assert.equal(blocking.length, 0, `serious or critical axe violations:\n${describeViolations(blocking)}`);
    },
  };
}

/** The id of the element that has focus, with its tag, role and accessible label, for messages. */
const focused = (page) =>
  page.evaluate(() => {
    const e = document.activeElement;
    if (!e || e === document.body) return { tag: 'body' };
    return {
      tag: e.tagName.toLowerCase(),
      id: e.id,
      role: e.getAttribute('role'),
      label: e.getAttribute('aria-label') ?? e.textContent?.trim().slice(0, 60),
      tabIndex: e.tabIndex,
    };
  });

describe('browser: accessibility of the demo and the components (axe-core)', { skip }, () => {
  let browser;

  before(async () => {
    assembleSite();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
  });

  test('no serious or critical axe violation in any state of the demo', { timeout: TEST_TIMEOUT }, async (t) => {
    const audit = auditor(t);
    // A data directory, so that the rooms and tasks are still there after the restart below.
    const dataDir = mkdtempSync(join(tmpdir(), 'tidewire-a11y-'));
    const args = [...SERVER_ARGS, '--data-dir', dataDir];
    let server = await startServer({ args });
    const port = server.port;
    let users;
    const signedOut = await browser.newContext();
    try {
      // Signed out: the sign-in form, then its error.
      const page = await signedOut.newPage();
      await openDemo(page, server.httpUrl);
      await audit.check(page, 'signed out');
      await page.getByLabel('Your name').fill('not a name!');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').waitFor({ timeout: UI_TIMEOUT });
      await audit.check(page, 'sign-in error');
      await signedOut.close();

      users = await twoUsers(browser, server.httpUrl);
      const { contexts, alice, bob } = users;
      await withFailureScreenshots([alice, bob], 'a11y', async () => {
        await audit.check(alice, 'signed in, no rooms, no tasks');

        // A room with messages from both, a reaction, and bob typing.
        await createRoom(alice, 'general');
        await openRoom(bob, 'general');
        await say(alice, 'general', 'hi bob, alice here');
        await message(bob, 'alice', 'hi bob').waitFor({ timeout: UI_TIMEOUT });
        await say(bob, 'general', 'hello alice');
        await say(alice, 'general', 'shall we write the tests?');
        await message(bob, 'alice', 'shall we').waitFor({ timeout: UI_TIMEOUT });
        await settled(bob);
        // bob reacts to alice's first message through the protocol (the reaction buttons' markup may vary).
        await bob.evaluate(async () => {
          const roomId = document.querySelector('#chat').dataset.roomId;
          const messageId = document.querySelector('.tw-message[data-message-id]').dataset.messageId;
          await window.tidewireDemo.client.request('chat_react', { roomId, messageId, emoji: '👍', add: true });
        });
        await waitFor(
          () => alice.locator('.tw-message').first().evaluate((e) => /👍\s*1/.test(e.textContent)),
          UI_TIMEOUT,
          'alice sees bob\'s reaction',
        );
        // bob's draft is over the limit: the composer shows the count as an error.
        await composer(bob, 'general').fill('x'.repeat(4010));
        await alice.locator('.tw-typing', { hasText: 'bob is typing' }).waitFor({ timeout: UI_TIMEOUT });
        await audit.check(alice, 'open room: messages, a reaction, someone typing');
        await audit.check(bob, 'open room: own messages, a reaction of his, a draft over the limit');
        // The components with <TidewireStyles /> alone (what an app gets without its own CSS).
        await alice.evaluate(() => {
          for (const link of document.querySelectorAll('link[rel="stylesheet"]')) link.disabled = true;
        });
        await audit.check(alice, 'open room, TidewireStyles only');
        await alice.evaluate(() => {
          for (const link of document.querySelectorAll('link[rel="stylesheet"]')) link.disabled = false;
        });

        // Tasks: one open, one done.
        await addTask(alice, 'buy milk');
        await addTask(alice, 'write tests');
        await task(alice, 'write tests').and(alice.locator('[data-pending="false"]')).waitFor({ timeout: UI_TIMEOUT });
        await task(alice, 'buy milk').getByRole('checkbox').check();
        await alice.locator('#tasks li.task[data-title="buy milk"][data-done="true"][data-pending="false"]').waitFor({ timeout: UI_TIMEOUT });
        await task(bob, 'write tests').waitFor({ timeout: UI_TIMEOUT });
        await audit.check(alice, 'tasks: open and done');

        // A DM opened from the presence list; a second room in the list with an unread message.
        await alice.getByRole('button', { name: 'Direct message to bob' }).click();
        await openRoomView(alice, 'bob').waitFor({ timeout: UI_TIMEOUT });
        await say(alice, 'bob', 'just between us');
        await roomButton(bob, '@alice').waitFor({ timeout: UI_TIMEOUT });
        await audit.check(alice, 'DM open');
        await audit.check(bob, 'room list with a new DM');

        // The connection details popover.
        await alice.locator('.tw-status-button').click();
        await alice.getByRole('dialog', { name: 'Connection details' }).waitFor({ timeout: UI_TIMEOUT });
        await audit.check(alice, 'connection details open');
        await alice.keyboard.press('Escape');

        // bob offline: presence marked as last known, a task and a message waiting to be sent.
        await setNetwork(contexts[1], bob, false);
        await bob.locator('body[data-state="disconnected"]').waitFor({ timeout: UI_TIMEOUT });
        await addTask(bob, 'offline task');
        await task(bob, 'offline task').and(bob.locator('[data-pending="true"]')).waitFor({ timeout: UI_TIMEOUT });
        await say(bob, 'general', 'written offline');
        await bob.locator('#presence[data-stale="true"]').waitFor({ timeout: UI_TIMEOUT });
        await audit.check(bob, 'offline: pending task and message');
        await setNetwork(contexts[1], bob, true);
        await bob.locator('body[data-state="connected"]').waitFor({ timeout: UI_TIMEOUT });

        // The server down: reconnecting badge and toast on both pages.
        await server.stop();
        for (const p of [alice, bob]) await p.locator('.tw-toast--reconnecting').waitFor({ timeout: UI_TIMEOUT });
        await audit.check(alice, 'server down: reconnecting');
        server = await startServer({ args: [...args, '--port', String(port)] });
        await alice.locator('.tw-toast--connected').waitFor({ timeout: 20000 });
        await audit.check(alice, 'reconnected');

        // Signed out again.
        await alice.getByRole('button', { name: 'Sign out' }).click();
        await alice.locator('#signin').waitFor({ timeout: UI_TIMEOUT });
        await audit.check(alice, 'signed out after sign-out');
      });
      audit.assertClean();
      const unexpected = users.problems().filter((p) => !EXPECTED_WHILE_DOWN.test(p));
      assert.deepEqual(unexpected, [], 'the pages reported errors');
    } finally {
      await signedOut.close().catch(() => undefined);
      await Promise.all((users?.contexts ?? []).map((c) => c.close().catch(() => undefined)));
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('no serious or critical axe violation with an own message refused (failed, Retry and Discard)', { timeout: TEST_TIMEOUT }, async (t) => {
    const audit = auditor(t);
    const server = await startServer({ args: SERVER_ARGS });
    const context = await browser.newContext();
    try {
      // The demo shares its connection between tabs; Playwright routes a page's WebSockets, not a SharedWorker's:
      // without SharedWorker, the tab (the leader of its tabs) holds the socket itself.
      await context.addInitScript(() => delete window.SharedWorker);
      // The page's socket goes through this route: a chat_send whose text starts with "refuse:" gets the error
      // the server would send for a refused message; everything else passes unchanged.
      await context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
        const upstream = ws.connectToServer();
        ws.onMessage((frame) => {
          if (typeof frame !== 'string') return upstream.send(frame);
          const kept = [];
          for (const line of frame.split('\n')) {
            const m = line.trim() === '' ? null : JSON.parse(line);
            if (m?.type === 'chat_send' && String(m.text).startsWith('refuse:')) {
              ws.send(JSON.stringify({ type: 'error', ref: m.ref, code: 'forbidden', message: 'you may not write in this room' }));
            } else kept.push(line);
          }
          if (kept.length > 0) upstream.send(kept.join('\n'));
        });
      });
      const page = await context.newPage();
      const problems = watchPage(page, 'alice');
      await withFailureScreenshots([page], 'a11y-failed', async () => {
        await signIn(page, server.httpUrl, 'alice');
        await createRoom(page, 'general');
        await say(page, 'general', 'this one is stored');
        await message(page, 'alice', 'this one is stored').waitFor({ timeout: UI_TIMEOUT });
        await say(page, 'general', 'refuse: this one is not');
        const failed = page.locator('.tw-message--failed').filter({ hasText: 'refuse: this one is not' });
        await failed.waitFor({ timeout: UI_TIMEOUT });
        await failed.getByRole('button', { name: 'Retry' }).waitFor({ timeout: UI_TIMEOUT });
        await audit.check(page, 'own message refused');
      });
      audit.assertClean();
      assert.deepEqual(problems, [], 'the page reported errors');
    } finally {
      await context.close().catch(() => undefined);
      await server.stop();
    }
  });

  test('no serious or critical axe violation on the static page (static.html)', { timeout: TEST_TIMEOUT }, async (t) => {
    const audit = auditor(t);
    const server = await startServer({ args: SERVER_ARGS });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${server.httpUrl}/static.html`);
      await page.locator('body[data-state="error"]').waitFor({ timeout: UI_TIMEOUT });
      await audit.check(page, 'static page without a token');
      await page.goto(`${server.httpUrl}/static.html?token=${server.token('alice')}&channel=room:a11y`);
      await page.locator('body[data-subscribed="true"]').waitFor({ timeout: UI_TIMEOUT });
      await audit.check(page, 'static page subscribed');
      audit.assertClean();
    } finally {
      await context.close().catch(() => undefined);
      await server.stop();
    }
  });

  test('after sign-in, focus moves from the body to the chat heading, and a status says who is signed in', { timeout: TEST_TIMEOUT }, async () => {
    const server = await startServer({ args: SERVER_ARGS });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems = watchPage(page, 'alice');
      await withFailureScreenshots([page], 'a11y-focus', async () => {
        await signIn(page, server.httpUrl, 'alice');
        await waitFor(async () => (await focused(page)).tag !== 'body', UI_TIMEOUT, 'focus to leave the body');
        const f = await focused(page);
        assert.equal(f.id, 'chat-title', `focus after sign-in: ${JSON.stringify(f)}`);
        assert.equal(f.tabIndex, -1, 'focusable by script, not a Tab stop');
        // And a status message says it (a live region filled after it was rendered).
        assert.equal(await page.getByRole('status').filter({ hasText: 'Signed in' }).textContent(), 'Signed in as alice.');
        // The first Tab from there reaches the chat's first control.
        await page.keyboard.press('Tab');
        assert.equal((await focused(page)).label, 'New room name');
      });
      assert.deepEqual(problems, [], 'the page reported errors');
    } finally {
      await context.close().catch(() => undefined);
      await server.stop();
    }
  });

  test(`at most ${MAX_TABS_TO_COMPOSER} Tab presses from the first room to the composer, with messages in the room`, { timeout: TEST_TIMEOUT }, async (t) => {
    const server = await startServer({ args: SERVER_ARGS });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems = watchPage(page, 'alice');
      await withFailureScreenshots([page], 'a11y-tabs', async () => {
        await signIn(page, server.httpUrl, 'alice');
        await createRoom(page, 'other');
        await createRoom(page, 'general');
        for (let i = 1; i <= 8; i++) await say(page, 'general', `message ${i}`);
        await message(page, 'alice', 'message 8').waitFor({ timeout: UI_TIMEOUT });
        await settled(page);
        assert.equal(await page.locator('.tw-message').count(), 8);

        await page.getByRole('navigation', { name: 'Chat rooms' }).locator('button.tw-room').first().focus();
        const target = composer(page, 'general');
        let presses = 0;
        const path = [];
        while (!(await target.evaluate((e) => e === document.activeElement)) && presses < 100) {
          await page.keyboard.press('Tab');
          presses++;
          const f = await focused(page);
          path.push(`${f.tag}${f.label ? ` "${f.label}"` : ''}`);
        }
        t.diagnostic(`${presses} Tab presses from the first room to the composer: ${path.join(' → ')}`);
        assert.ok(presses <= MAX_TABS_TO_COMPOSER, `${presses} Tab presses (at most ${MAX_TABS_TO_COMPOSER}): ${path.join(' → ')}`);
      });
      assert.deepEqual(problems, [], 'the page reported errors');
    } finally {
      await context.close().catch(() => undefined);
      await server.stop();
    }
  });
});
