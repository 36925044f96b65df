// createSharedClient's choices that need no browser (issue #18): the options it refuses, the same in every
// browser, and the plain per-tab client it falls back to where tabs cannot share (here: Node, which has neither
// SharedWorker nor Web Locks). The sharing itself runs in Chromium: tests/browser/shared-connection.test.mjs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TidewireClient } from '../../build/web-tsc/client.js';
import { createSharedClient } from '../../build/web-tsc/shared_client.js';

const url = 'ws://127.0.0.1:1/ws';

test('a token provider needs shareKey (whose tabs share): a TypeError that says so', () => {
  assert.throws(() => createSharedClient({ url, token: () => 't' }), (e) => e instanceof TypeError && /shareKey/.test(e.message));
});

test('options a shared connection cannot take are refused everywhere, unless shareAcrossTabs is false', () => {
  assert.throws(() => createSharedClient({ url, token: 't', persistOutbox: true }), /persistOutbox/);
  assert.throws(() => createSharedClient({ url: () => url, token: 't' }), /options\.url/);
  const own = createSharedClient({ url, token: () => 't', persistOutbox: true, shareAcrossTabs: false });
  assert.ok(own instanceof TidewireClient);
  own.close();
});

test('where tabs cannot share (no SharedWorker, no Web Locks), it is a plain per-tab client', () => {
  const c = createSharedClient({ url, token: 't' });
  assert.ok(c instanceof TidewireClient);
  c.close();
});
