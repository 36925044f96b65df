// createSharedClient's choices that need no browser (issue #18): the options it refuses, the same in every
// browser, and the plain per-tab client it falls back to where tabs cannot share (here: Node, which has neither
// a document nor Web Locks). The sharing itself runs in Chromium: tests/browser/shared-connection.test.mjs and
// tests/browser/shared-objects.test.mjs (createClient shares by default there).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TidewireClient } from '../../build/web-tsc/client.js';
import { createSharedClient } from '../../build/web-tsc/shared_client.js';

const url = 'ws://127.0.0.1:1/ws';

test('a token provider needs shareKey (whose tabs share): a TypeError that says so', () => {
  assert.throws(() => createSharedClient({ url, token: () => 't' }), (e) => e instanceof TypeError && /shareKey/.test(e.message));
});

test('options a shared connection cannot take are refused everywhere, unless shareAcrossTabs is false', () => {
  assert.throws(() => createSharedClient({ url: () => url, token: 't' }), /options\.url/);
  const own = createSharedClient({ url: () => url, token: () => 't', shareAcrossTabs: false });
  assert.ok(own instanceof TidewireClient);
  own.close();
  // A persisted outbox is per tab, and goes over a shared connection (each tab keeps its own sends).
  createSharedClient({ url, token: 't', persistOutbox: true }).close();
});

test('shareAcrossTabs and shareKey of the wrong type: a TypeError that names them', () => {
  assert.throws(() => new TidewireClient({ url, shareAcrossTabs: 'no' }), (e) => e instanceof TypeError && /shareAcrossTabs/.test(e.message));
  assert.throws(() => new TidewireClient({ url, shareKey: 42 }), (e) => e instanceof TypeError && /shareKey/.test(e.message));
});

test('where tabs cannot share (Node: no document, no Web Locks), it is a plain per-tab client, shared or default', () => {
  for (const c of [createSharedClient({ url, token: 't' }), new TidewireClient({ url, token: 't', shareKey: 'ann' })]) {
    assert.ok(c instanceof TidewireClient);
    assert.equal(c.sharedAcrossTabs, false);
    c.close();
  }
});
