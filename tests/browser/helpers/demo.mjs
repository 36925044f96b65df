// Page helpers for the React demo app (web/demo/app: main.tsx composes one file per panel) served by the real
// server: sign in, rooms, messages, tasks, visibility and network. The app exposes what tests wait for as data
// attributes (<body data-state> from page_state.tsx, #connection[data-state], #presence li[data-user-id]
// [data-status], ...; each panel's file lists its own): no sleeps.
import assert from 'node:assert/strict';

import { siteDir, watchPage } from './browser.mjs';
import { waitFor } from '../../support/wait.mjs';
import { metric } from '../../support/metrics.mjs';

export const UI_TIMEOUT = 10000;
/** The server flags the demo needs: the site and the development token endpoint. */
export const SERVER_ARGS = ['--static-dir', siteDir, '--dev-tokens'];
/** Expected while a server is down or the network is off: the browser logs the failed attempts. */
export const EXPECTED_WHILE_DOWN =
  /WebSocket connection to .* failed|ERR_CONNECTION_REFUSED|ERR_INTERNET_DISCONNECTED|Failed to load resource|\/dev\/token/;

/** Loads the demo and waits for the sign-in form. */
export async function openDemo(page, baseUrl) {
  const response = await page.goto(`${baseUrl}/`);
  assert.equal(response.status(), 200);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: UI_TIMEOUT });
}

/** Loads the demo, signs in as `name` and waits until connected and present. */
export async function signIn(page, baseUrl, name) {
  await openDemo(page, baseUrl);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('body[data-state="connected"]').waitFor({ timeout: UI_TIMEOUT });
  // Joined presence: its own avatar shows (the dev token's user id is the name).
  await person(page, name, null, 'me').waitFor({ timeout: UI_TIMEOUT });
  assert.equal(await page.locator('#me').textContent(), name);
}

/** Someone else in the "Who is here" list (optionally with a status); kind 'me': one's own avatar. */
export function person(page, userId, status = null, kind = 'other') {
  if (kind === 'me') return page.locator(`#presence .tw-avatar[data-user-id="${userId}"]`);
  return page.locator(`#presence li.person[data-user-id="${userId}"]${status ? `[data-status="${status}"]` : ''}`);
}

export const roomButton = (page, label) =>
  page.getByRole('navigation', { name: 'Chat rooms' }).locator('button.tw-room').filter({ hasText: label });
export const openRoomView = (page, title) => page.locator(`section.tw-room-view[aria-label="Chat: ${title}"]`);
/** The composer's text box of the open room `title`. */
export const composer = (page, title) => page.getByRole('textbox', { name: `Message ${title}`, exact: true });

export async function createRoom(page, name) {
  await page.getByLabel('New room name').fill(name);
  await page.getByRole('button', { name: 'Create' }).click();
  await openRoomView(page, name).waitFor({ timeout: UI_TIMEOUT });
}

export async function openRoom(page, name, label = `#${name}`) {
  await roomButton(page, label).waitFor({ timeout: UI_TIMEOUT });
  await roomButton(page, label).click();
  await openRoomView(page, name).waitFor({ timeout: UI_TIMEOUT });
}

export async function say(page, roomTitle, text) {
  const input = composer(page, roomTitle);
  await input.fill(text);
  await input.press('Enter');
}

/** A chat message from `from` containing `text`. */
export const message = (page, from, text) =>
  page
    .locator('.tw-message')
    .filter({ has: page.locator('.tw-message__sender', { hasText: from }) })
    .filter({ hasText: text });

export const task = (page, title) => page.locator(`#tasks li.task[data-title="${title}"]`);

export async function addTask(page, title) {
  await page.getByLabel('New task').fill(title);
  await page.getByRole('button', { name: 'Add task' }).click();
}

/** Makes the page hidden or visible as far as the page (and tidewire's page listeners) can tell. */
export async function setVisibility(page, state) {
  await page.evaluate((s) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => s === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
}

/** Emulates the network going off or on: Chromium's network emulation plus the window event. */
export async function setNetwork(context, page, online) {
  await context.setOffline(!online);
  // Chromium may or may not fire the event for emulated conditions; tidewire ignores a repeated one.
  await page.evaluate((on) => window.dispatchEvent(new Event(on ? 'online' : 'offline')), online);
}

/**
 * Waits until every send of the page has its ack (chat_typing aside: the server never answers it). Going
 * offline with a send in flight makes the client send it again after reconnecting.
 */
export async function settled(page) {
  await waitFor(
    () => page.evaluate(() => !window.tidewireDemo.client.getOutbox().some((e) => e.event !== 'chat_typing')),
    UI_TIMEOUT,
    'every send acknowledged',
  );
}

/** The connection panel's queue depth (getMetrics().queueDepth, refreshed every second). */
export const queueDepth = async (page) => Number(await page.locator('#connection').getAttribute('data-queue'));

/**
 * Opens alice and bob (two contexts = two profiles), signs both in and waits until each sees the other.
 * Returns the contexts and pages, the problems the pages reported, per page the token requests made, and the
 * server's connections (open now, and accepted in all): the demo shares one connection between the tabs of a
 * user (a SharedWorker holds its WebSocket, which the page does not see), so the server counts them.
 */
export async function twoUsers(browser, baseUrl) {
  const contexts = await Promise.all([browser.newContext(), browser.newContext()]);
  const [alice, bob] = await Promise.all(contexts.map((c) => c.newPage()));
  const problems = [watchPage(alice, 'alice'), watchPage(bob, 'bob')];
  const tokenRequests = new Map([[alice, 0], [bob, 0]]);
  for (const page of [alice, bob]) {
    page.on('request', (r) => {
      if (r.url().includes('/dev/token')) tokenRequests.set(page, tokenRequests.get(page) + 1);
    });
  }
  await Promise.all([signIn(alice, baseUrl, 'alice'), signIn(bob, baseUrl, 'bob')]);
  await Promise.all([person(alice, 'bob').waitFor({ timeout: UI_TIMEOUT }), person(bob, 'alice').waitFor({ timeout: UI_TIMEOUT })]);
  return {
    contexts,
    alice,
    bob,
    problems: () => problems.flat(),
    connections: () => metric(baseUrl, 'tidewire_connections'),
    connectionsTotal: () => metric(baseUrl, 'tidewire_connections_total'),
    tokenRequests: (page) => tokenRequests.get(page),
  };
}


/** alice creates `name` (bob, online, is invited); both end up in it. */
export async function sharedRoom(alice, bob, name) {
  await createRoom(alice, name);
  await openRoom(bob, name);
}
