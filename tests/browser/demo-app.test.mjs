// End-to-end in real headless Chromium: the React demo app (web/demo/app, bundled into build/site/app.js by
// scripts/build-demo.mjs) served by the real server, two users in two browser contexts.
//
//   node --test tests/browser/demo-app.test.mjs
//
// Each test starts its own server (isolated chat and tasks) and saves screenshots under test-results/browser/.
// The app exposes what the tests wait for as data attributes (<body data-state>, #connection[data-state],
// #presence li[data-user-id][data-status], #tasks li[data-title][data-done][data-pending], ...): no sleeps.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { startServer } from '../node/helpers/server.mjs';
import { assembleSite, browserSkipReason, launchChromium, screenshot, watchPage, withFailureScreenshots } from './helpers/browser.mjs';
import {
  EXPECTED_WHILE_DOWN,
  SERVER_ARGS,
  UI_TIMEOUT,
  addTask,
  message,
  openRoom,
  openRoomView,
  person,
  roomButton,
  queueDepth,
  say,
  setNetwork,
  setVisibility,
  settled,
  sharedRoom,
  signIn,
  task,
  twoUsers,
} from './helpers/demo.mjs';
import { waitFor } from '../support/wait.mjs';

const skip = browserSkipReason();
const TEST_TIMEOUT = 45000;

// --- tests -------------------------------------------------------------------------------------------------

// The demo's sources (no browser needed): one file per panel, composed by main.tsx, with every piece of live
// state taken from the library's hooks and components, none kept beside them.
describe('the React demo app\'s sources', () => {
  const appDir = join(dirname(fileURLToPath(import.meta.url)), '../../web/demo/app');
  const sources = new Map(
    readdirSync(appDir)
      .filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts'))
      .map((f) => [f, readFileSync(join(appDir, f), 'utf8')]),
  );

  test('main.tsx composes panels that live in their own files', () => {
    const main = sources.get('main.tsx');
    assert.ok(main, 'web/demo/app/main.tsx');
    assert.doesNotMatch(main, /<(section|form|header)\b/, 'main.tsx renders no panel of its own');
    for (const [file, id] of [
      ['sign_in.tsx', 'signin'],
      ['chat_panel.tsx', 'chat'],
      ['presence_panel.tsx', 'presence'],
      ['tasks_panel.tsx', 'tasks'],
      ['connection_panel.tsx', 'connection'],
    ]) {
      assert.match(sources.get(file) ?? '', new RegExp(`id="${id}"`), `#${id} is rendered by ${file}`);
    }
  });

  test('live state comes from the library\'s hooks: no client listeners, no copied state', () => {
    // Listening to the client directly (the connection's state, a channel, a list) re-implements a hook.
    const direct = /\.(onStateChange|onError|onChange|onMessage|on)\(|client\.state\b|\.channel\(|\.presence\(|\.sync\(|chat\.rooms\(/;
    for (const [file, text] of sources) assert.doesNotMatch(text, direct, `${file} listens to the client itself`);
    // The connection's state has one source, useRealtimeConnection (or the components).
    const connection = [...sources].filter(([, text]) => /useRealtimeConnection\(/.test(text)).map(([f]) => f).sort();
    assert.deepEqual(connection, ['connection_panel.tsx', 'page_state.tsx', 'presence_panel.tsx']);
    // The lobby's presence is joined once; its members are passed down, not copied into state.
    assert.equal([...sources.values()].join('\n').match(/useRealtimePresence\(/g)?.length, 1);
    for (const [file, text] of sources) assert.doesNotMatch(text, /useState<PresenceUser/, `${file} copies the presence list`);
  });
});

describe('browser: the React demo app', { skip }, () => {
  let browser;

  before(async () => {
    assembleSite();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
  });

  test('two users chat in a room and a DM, see each other\'s presence and status, and share tasks', { timeout: TEST_TIMEOUT }, async () => {
    const server = await startServer({ args: SERVER_ARGS });
    let users;
    try {
      users = await twoUsers(browser, server.httpUrl);
      const { alice, bob } = users;
      await withFailureScreenshots([alice, bob], 'demo-app', async () => {
        // Presence: each sees the other online, then bob's status change.
        assert.equal(await alice.locator('#presence').getAttribute('data-count'), '2');
        await person(alice, 'bob', 'online').waitFor({ timeout: UI_TIMEOUT });
        await bob.getByLabel('Your status').selectOption('away');
        await person(alice, 'bob', 'away').waitFor({ timeout: UI_TIMEOUT });
        assert.equal(await alice.locator('#presence .tw-avatar[data-user-id="bob"]').getAttribute('aria-label'), 'bob (away)');
        await bob.getByLabel('Your status').selectOption('busy');
        await person(alice, 'bob', 'busy').waitFor({ timeout: UI_TIMEOUT });

        // Chat in a room alice creates (bob, online, is invited and sees it appear).
        await sharedRoom(alice, bob, 'general');
        await say(alice, 'general', 'hi bob, alice here');
        await message(bob, 'alice', 'hi bob, alice here').waitFor({ timeout: UI_TIMEOUT });
        await say(bob, 'general', 'hello alice <b>not bold</b>');
        await message(alice, 'bob', 'hello alice').waitFor({ timeout: UI_TIMEOUT });
        // Text stays text; own messages are marked; both see the same conversation in the same order.
        assert.equal(await alice.locator('.tw-message b').count(), 0);
        assert.match(await message(alice, 'alice', 'hi bob').getAttribute('class'), /tw-message--own/);
        assert.doesNotMatch(await message(alice, 'bob', 'hello alice').getAttribute('class'), /tw-message--own/);
        const conversation = (page) => page.locator('.tw-message__text').allTextContents();
        await waitFor(async () => (await conversation(bob)).length === 2, UI_TIMEOUT, 'bob has both messages');
        assert.deepEqual(await conversation(alice), ['hi bob, alice here', 'hello alice <b>not bold</b>']);
        assert.deepEqual(await conversation(bob), await conversation(alice));
        assert.equal(await alice.getByRole('log').getAttribute('aria-live'), 'polite');

        // A direct message from the presence list.
        await alice.getByRole('button', { name: 'Direct message to bob' }).click();
        await openRoomView(alice, 'bob').waitFor({ timeout: UI_TIMEOUT });
        await say(alice, 'bob', 'just between us');
        await openRoom(bob, 'alice', '@alice');
        await message(bob, 'alice', 'just between us').waitFor({ timeout: UI_TIMEOUT });

        // Tasks: add, toggle, delete, each seen by the other.
        await addTask(alice, 'buy milk');
        await task(bob, 'buy milk').waitFor({ timeout: UI_TIMEOUT });
        await task(alice, 'buy milk').and(alice.locator('[data-pending="false"]')).waitFor({ timeout: UI_TIMEOUT });
        await addTask(bob, 'write tests');
        await task(alice, 'write tests').waitFor({ timeout: UI_TIMEOUT });
        await task(bob, 'buy milk').getByRole('checkbox').check();
        await alice.locator('#tasks li.task[data-title="buy milk"][data-done="true"]').waitFor({ timeout: UI_TIMEOUT });
        assert.equal(await task(alice, 'buy milk').getByRole('checkbox').isChecked(), true);
        await screenshot(alice, 'demo-app-alice');
        await screenshot(bob, 'demo-app-bob');
        await alice.getByRole('button', { name: 'Delete buy milk' }).click();
        await task(bob, 'buy milk').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
        assert.equal(await bob.locator('#tasks').getAttribute('data-count'), '1');
        assert.deepEqual(await alice.locator('#tasks li.task').evaluateAll((els) => els.map((e) => e.dataset.title)), ['write tests']);

        // One connection per user (per browser context) for every hook and component (the app renders under
        // <StrictMode>); two users in two contexts, two connections.
        assert.equal(await users.connections(), 2);
        // A second tab of alice shares her connection (the demo's token provider names the user: its JWT `sub`).
        const aliceAgain = await users.contexts[0].newPage();
        const againProblems = watchPage(aliceAgain, 'alice, second tab');
        // The demo serves shared_worker.js beside app.js: no falling back to leader election.
        aliceAgain.on('console', (m) => m.text().includes('shared_worker.js') && againProblems.push(m.text()));
        await signIn(aliceAgain, server.httpUrl, 'alice');
        for (const page of [alice, aliceAgain]) assert.equal(await page.evaluate(() => window.tidewireDemo.client.sharedAcrossTabs), true);
        assert.equal(await users.connections(), 2, "alice's two tabs and bob: two connections");
        await aliceAgain.close();
        assert.deepEqual(againProblems, []);

        // Sign out closes the client: alice sees bob leave.
        await bob.getByRole('button', { name: 'Sign out' }).click();
        await bob.locator('#signin').waitFor({ timeout: UI_TIMEOUT });
        assert.equal(await bob.locator('body').getAttribute('data-state'), 'idle');
        await person(alice, 'bob').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
      });
      assert.deepEqual(users.problems(), [], 'the pages reported errors');
    } finally {
      await Promise.all((users?.contexts ?? []).map((c) => c.close().catch(() => undefined)));
      await server.stop();
    }
  });

  test('a page hidden then shown closes and reopens its socket, then shows what was sent meanwhile', { timeout: TEST_TIMEOUT }, async () => {
    const server = await startServer({ args: SERVER_ARGS });
    let users;
    try {
      users = await twoUsers(browser, server.httpUrl);
      const { alice, bob } = users;
      await withFailureScreenshots([alice, bob], 'demo-app-hidden', async () => {
        await sharedRoom(alice, bob, 'general');
        await say(alice, 'general', 'before hiding');
        await message(bob, 'alice', 'before hiding').waitFor({ timeout: UI_TIMEOUT });
        await bob.locator('#connection[data-state="connected"]').waitFor({ timeout: UI_TIMEOUT });

        const opened = await users.connectionsTotal();
        // Hidden: the client closes the socket after hiddenCloseMs (1 s by default).
        await setVisibility(bob, 'hidden');
        await bob.locator('body[data-state="disconnected"]').waitFor({ timeout: UI_TIMEOUT });
        await bob.locator('#connection[data-state="disconnected"]').waitFor({ timeout: UI_TIMEOUT });
        // bob left presence with his socket.
        await person(alice, 'bob').waitFor({ state: 'detached', timeout: UI_TIMEOUT });

        // Meanwhile alice writes and adds a task.
        await say(alice, 'general', 'sent while bob was away');
        await message(alice, 'alice', 'sent while bob was away').waitFor({ timeout: UI_TIMEOUT });
        await addTask(alice, 'review while hidden');
        await task(alice, 'review while hidden').and(alice.locator('[data-pending="false"]')).waitFor({ timeout: UI_TIMEOUT });
        assert.equal(await message(bob, 'alice', 'sent while bob was away').count(), 0);
        assert.equal(await bob.locator('body').getAttribute('data-state'), 'disconnected', 'still closed while hidden');

        // Shown again: the socket reopens and the missed message arrives (recovered with `since`).
        await setVisibility(bob, 'visible');
        await bob.locator('body[data-state="connected"]').waitFor({ timeout: UI_TIMEOUT });
        await bob.locator('#connection[data-state="connected"]').waitFor({ timeout: UI_TIMEOUT });
        await message(bob, 'alice', 'sent while bob was away').waitFor({ timeout: UI_TIMEOUT });
        await task(bob, 'review while hidden').waitFor({ timeout: UI_TIMEOUT });
        await person(alice, 'bob').waitFor({ timeout: UI_TIMEOUT });
        assert.deepEqual(await bob.locator('.tw-message__text').allTextContents(), ['before hiding', 'sent while bob was away']);
        assert.equal(await users.connectionsTotal(), opened + 1, 'a new connection after being shown again');
        assert.equal(await users.connections(), 2);
        await screenshot(bob, 'demo-app-hidden-shown');
      });
      assert.deepEqual(users.problems(), [], 'the pages reported errors');
    } finally {
      await Promise.all((users?.contexts ?? []).map((c) => c.close().catch(() => undefined)));
      await server.stop();
    }
  });

  test('network offline then online: what bob sent offline reaches alice', { timeout: TEST_TIMEOUT }, async () => {
    const server = await startServer({ args: SERVER_ARGS });
    let users;
    try {
      users = await twoUsers(browser, server.httpUrl);
      const { contexts, alice, bob } = users;
      await withFailureScreenshots([alice, bob], 'demo-app-offline', async () => {
        await sharedRoom(alice, bob, 'general');
        await say(bob, 'general', 'online first');
        await message(alice, 'bob', 'online first').waitFor({ timeout: UI_TIMEOUT });
        await settled(bob);

        await setNetwork(contexts[1], bob, false);
        await bob.locator('body[data-state="disconnected"]').waitFor({ timeout: UI_TIMEOUT });
        assert.equal(await bob.evaluate(() => navigator.onLine), false);

        // Sent offline: both wait in the outbox (the task shows at once, pending).
        await say(bob, 'general', 'written offline');
        // Shown at once, marked as not sent yet (the composer is cleared).
        await bob.locator('.tw-message--own.tw-message--pending', { hasText: 'written offline' }).waitFor({ timeout: UI_TIMEOUT });
        assert.match(await message(bob, 'bob', 'written offline').textContent(), /Sending…/);
        assert.equal(await bob.getByRole('textbox', { name: 'Message general', exact: true }).inputValue(), '');
        await addTask(bob, 'offline task');
        await task(bob, 'offline task').and(bob.locator('[data-pending="true"]')).waitFor({ timeout: UI_TIMEOUT });
        // (The queue also holds the typing notices chat_typing sent around the message.)
        await waitFor(async () => (await queueDepth(bob)) >= 2, UI_TIMEOUT, 'bob\'s queue depth >= 2');
        await screenshot(bob, 'demo-app-offline');
        assert.equal(await message(alice, 'bob', 'written offline').count(), 0);

        await setNetwork(contexts[1], bob, true);
        await bob.locator('body[data-state="connected"]').waitFor({ timeout: UI_TIMEOUT });
        await message(alice, 'bob', 'written offline').waitFor({ timeout: UI_TIMEOUT });
        await task(alice, 'offline task').waitFor({ timeout: UI_TIMEOUT });
        await task(bob, 'offline task').and(bob.locator('[data-pending="false"]')).waitFor({ timeout: UI_TIMEOUT });
        await message(bob, 'bob', 'written offline').waitFor({ timeout: UI_TIMEOUT });
        // Confirmed: the server's message replaced the pending one (once).
        await bob.locator('.tw-message--pending').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
        assert.equal(await message(bob, 'bob', 'written offline').count(), 1);
        await bob.locator('#connection[data-queue="0"]').waitFor({ timeout: UI_TIMEOUT });
        assert.deepEqual(await alice.locator('.tw-message__text').allTextContents(), ['online first', 'written offline']);
        await screenshot(alice, 'demo-app-offline-delivered');
      });
      const unexpected = users.problems().filter((p) => !EXPECTED_WHILE_DOWN.test(p));
      assert.deepEqual(unexpected, [], 'the pages reported errors');
    } finally {
      await Promise.all((users?.contexts ?? []).map((c) => c.close().catch(() => undefined)));
      await server.stop();
    }
  });

  test('a room deleted by its creator leaves the other\'s list at once, with a word why; leaving a room', { timeout: TEST_TIMEOUT }, async () => {
    const server = await startServer({ args: SERVER_ARGS });
    let users;
    try {
      users = await twoUsers(browser, server.httpUrl);
      const { alice, bob } = users;
      const notice = (page) => page.locator('#chat [role="alert"]');
      await withFailureScreenshots([alice, bob], 'demo-app-rooms-gone', async () => {
        await sharedRoom(alice, bob, 'general');
        await sharedRoom(alice, bob, 'doomed');
        await say(alice, 'doomed', 'this room will go');
        await message(bob, 'alice', 'this room will go').waitFor({ timeout: UI_TIMEOUT });
        // Only the creator may delete; anyone may leave.
        assert.equal(await bob.getByRole('button', { name: 'Delete #doomed' }).count(), 0);

        const focusedId = (page) => page.evaluate(() => document.activeElement?.id ?? '');
        await bob.getByRole('textbox', { name: 'Message doomed', exact: true }).focus();
        await alice.getByRole('button', { name: 'Delete #doomed' }).click();
        await openRoomView(alice, 'general').waitFor({ timeout: UI_TIMEOUT });
        // The button pressed went with its room: focus goes to the chat's heading, never to <body>.
        await waitFor(async () => (await focusedId(alice)) === 'chat-title', UI_TIMEOUT, 'alice\'s focus on the chat heading');
        // bob, who had it open, sees it go from his list and is told why.
        await roomButton(bob, '#doomed').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
        await openRoomView(bob, 'general').waitFor({ timeout: UI_TIMEOUT });
        assert.match(await notice(bob).textContent(), /“doomed” is no longer in your rooms/);
        await waitFor(async () => (await focusedId(bob)) === 'chat-title', UI_TIMEOUT, 'bob\'s focus (was in the composer) on the chat heading');
        await notice(bob).getByRole('button', { name: 'Dismiss' }).click();
        assert.equal(await notice(alice).count(), 0, 'no notice for one\'s own deletion');
        assert.equal(await roomButton(alice, '#doomed').count(), 0);

        // bob leaves "general": gone from his list (no notice), and alice's room shows him leaving.
        await bob.getByRole('button', { name: 'Leave #general' }).click();
        await roomButton(bob, '#general').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
        await bob.locator('.chat__empty').waitFor({ timeout: UI_TIMEOUT });
        assert.equal(await notice(bob).count(), 0);
        await alice.locator('.tw-member-line', { hasText: 'bob' }).waitFor({ timeout: UI_TIMEOUT });
        await screenshot(alice, 'demo-app-rooms-gone');
      });
      assert.deepEqual(users.problems(), [], 'the pages reported errors');
    } finally {
      await Promise.all((users?.contexts ?? []).map((c) => c.close().catch(() => undefined)));
      await server.stop();
    }
  });

  test('tasks ticked by both at once: no error when both wanted the same, a plain dismissable one otherwise', { timeout: TEST_TIMEOUT }, async () => {
    const server = await startServer({ args: SERVER_ARGS });
    let users;
    try {
      users = await twoUsers(browser, server.httpUrl);
      const { contexts, alice, bob } = users;
      const alert = (page) => page.locator('#tasks [role="alert"]');
      const done = (page, title, value) =>
        page.locator(`#tasks li.task[data-title="${title}"][data-done="${value}"][data-pending="false"]`);
      await withFailureScreenshots([alice, bob], 'demo-app-conflict', async () => {
        await addTask(alice, 'buy milk');
        await addTask(alice, 'write tests');
        for (const title of ['buy milk', 'write tests']) await done(bob, title, 'false').waitFor({ timeout: UI_TIMEOUT });
        await settled(alice);

        // alice, offline, ticks both; meanwhile bob ticks "buy milk" (the same wish) and ticks then unticks
        // "write tests" (a different one). alice's changes reach the server afterwards and are refused.
        await setNetwork(contexts[0], alice, false);
        await alice.locator('body[data-state="disconnected"]').waitFor({ timeout: UI_TIMEOUT });
        await task(alice, 'buy milk').getByRole('checkbox').check();
        await task(alice, 'write tests').getByRole('checkbox').check();
        await task(bob, 'buy milk').getByRole('checkbox').check();
        await done(bob, 'buy milk', 'true').waitFor({ timeout: UI_TIMEOUT });
        await task(bob, 'write tests').getByRole('checkbox').check();
        await done(bob, 'write tests', 'true').waitFor({ timeout: UI_TIMEOUT });
        await task(bob, 'write tests').getByRole('checkbox').uncheck();
        await done(bob, 'write tests', 'false').waitFor({ timeout: UI_TIMEOUT });

        // Every error alice's task panel shows from now on (a later one replaces an earlier one on screen).
        await alice.evaluate(() => {
          window.taskAlerts = [];
          const panel = document.querySelector('#tasks');
          new MutationObserver(() => {
            const shown = panel.querySelector('[role="alert"]')?.textContent;
            if (shown && shown !== window.taskAlerts.at(-1)) window.taskAlerts.push(shown);
          }).observe(panel, { childList: true, subtree: true, characterData: true });
        });
        await setNetwork(contexts[0], alice, true);
        await alice.locator('body[data-state="connected"]').waitFor({ timeout: UI_TIMEOUT });
        await settled(alice);
        // Both show bob's stored versions; "buy milk" was what alice wanted, "write tests" was not.
        await done(alice, 'buy milk', 'true').waitFor({ timeout: UI_TIMEOUT });
        await done(alice, 'write tests', 'false').waitFor({ timeout: UI_TIMEOUT });
        await alert(alice).waitFor({ timeout: UI_TIMEOUT });
        const text = await alert(alice).textContent();
        assert.match(text, /write tests/, 'the message names the task that was not saved');
        const seen = await alice.evaluate(() => window.taskAlerts);
        assert.ok(seen.some((t) => t.includes('write tests')), `the observer saw the error: ${JSON.stringify(seen)}`);
        assert.ok(!seen.some((t) => t.includes('buy milk')), `a refusal of what is already stored is not an error: ${JSON.stringify(seen)}`);
        assert.doesNotMatch(text, /version_conflict|\{/, `said in words: ${text}`);
        await screenshot(alice, 'demo-app-conflict');
        await alert(alice).getByRole('button', { name: 'Dismiss' }).click();
        await alert(alice).waitFor({ state: 'detached', timeout: UI_TIMEOUT });
        assert.equal(await alert(bob).count(), 0);
      });
      const unexpected = users.problems().filter((p) => !EXPECTED_WHILE_DOWN.test(p));
      assert.deepEqual(unexpected, [], 'the pages reported errors');
    } finally {
      await Promise.all((users?.contexts ?? []).map((c) => c.close().catch(() => undefined)));
      await server.stop();
    }
  });

  test('the server restarted: reconnecting, then live again, nothing lost', { timeout: TEST_TIMEOUT }, async () => {
    // History and chat persist in a data directory; the server comes back on the same port.
    const dataDir = mkdtempSync(join(tmpdir(), 'tidewire-demo-'));
    const args = [...SERVER_ARGS, '--data-dir', dataDir, '--history-store', 'sqlite'];
    let server = await startServer({ args });
    const port = server.port;
    let users;
    try {
      users = await twoUsers(browser, server.httpUrl);
      const { alice, bob } = users;
      await withFailureScreenshots([alice, bob], 'demo-app-restart', async () => {
        await sharedRoom(alice, bob, 'general');
        await say(alice, 'general', 'before the restart');
        await message(bob, 'alice', 'before the restart').waitFor({ timeout: UI_TIMEOUT });
        await addTask(bob, 'survives restarts');
        await task(alice, 'survives restarts').waitFor({ timeout: UI_TIMEOUT });
        await Promise.all([settled(alice), settled(bob)]);

        await server.stop();
        for (const page of [alice, bob]) {
          await page.locator('body[data-state="reconnecting"]').waitFor({ timeout: UI_TIMEOUT });
          await page.locator('.tw-status-button[data-state="reconnecting"]').waitFor({ timeout: UI_TIMEOUT });
        }
        await alice.locator('.tw-toast--reconnecting').waitFor({ timeout: UI_TIMEOUT });
        await alice.locator('#presence[data-stale="true"]').waitFor({ timeout: UI_TIMEOUT });
        // Written while the server is down: queued, delivered after the restart.
        await say(alice, 'general', 'written during the outage');
        await waitFor(async () => (await queueDepth(alice)) >= 1, UI_TIMEOUT, 'alice\'s queue depth >= 1');
        await screenshot(alice, 'demo-app-server-down');

        const tokensBefore = users.tokenRequests(alice);
        server = await startServer({ args: [...args, '--port', String(port)] });
        assert.equal(server.port, port);
        // Backoff: full jitter from 1 s, doubling; a few attempts fit well within the timeout.
        for (const page of [alice, bob]) {
          await page.locator('body[data-state="connected"]').waitFor({ timeout: 20000 });
          await page.locator('.tw-status-button[data-state="connected"]').waitFor({ timeout: UI_TIMEOUT });
        }
        assert.ok(users.tokenRequests(alice) > tokensBefore, 'the reconnect fetched a fresh token from the token provider');
        await message(bob, 'alice', 'written during the outage').waitFor({ timeout: UI_TIMEOUT });
        await say(bob, 'general', 'after the restart');
        await message(alice, 'bob', 'after the restart').waitFor({ timeout: UI_TIMEOUT });
        const expected = ['before the restart', 'written during the outage', 'after the restart'];
        for (const page of [alice, bob]) {
          await waitFor(async () => (await page.locator('.tw-message__text').allTextContents()).length === 3, UI_TIMEOUT, 'three messages');
          assert.deepEqual(await page.locator('.tw-message__text').allTextContents(), expected);
          await task(page, 'survives restarts').waitFor({ timeout: UI_TIMEOUT });
          await page.locator('#connection[data-reconnects="1"]').waitFor({ timeout: UI_TIMEOUT });
        }
        await person(alice, 'bob').waitFor({ timeout: UI_TIMEOUT });
        await person(bob, 'alice').waitFor({ timeout: UI_TIMEOUT });
        await alice.locator('#presence[data-stale="false"]').waitFor({ timeout: UI_TIMEOUT });
        await alice.locator('.tw-toast--connected').waitFor({ timeout: UI_TIMEOUT });

        // A fresh page load after the restart sees the persisted room, its history and the task.
        await bob.reload();
        await bob.getByLabel('Your name').fill('bob');
        await bob.getByRole('button', { name: 'Sign in' }).click();
        await openRoom(bob, 'general');
        await waitFor(async () => (await bob.locator('.tw-message__text').allTextContents()).length === 3, UI_TIMEOUT, 'history after reload');
        assert.deepEqual(await bob.locator('.tw-message__text').allTextContents(), expected);
        await task(bob, 'survives restarts').waitFor({ timeout: UI_TIMEOUT });
        await screenshot(alice, 'demo-app-restarted');
      });
      const unexpected = users.problems().filter((p) => !EXPECTED_WHILE_DOWN.test(p));
      assert.deepEqual(unexpected, [], 'the pages reported errors');
    } finally {
      await Promise.all((users?.contexts ?? []).map((c) => c.close().catch(() => undefined)));
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
