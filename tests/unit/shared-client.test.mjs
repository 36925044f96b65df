// createSharedClient's choices that need no browser (issue #18): the options it refuses, how a token names its user, the same in every
// browser, and the plain per-tab client it falls back to where tabs cannot share (here: Node, which has neither
// a document nor Web Locks). The sharing itself runs in Chromium: tests/browser/shared-connection.test.mjs and
// tests/browser/shared-objects.test.mjs (createClient shares by default there).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TidewireClient } from '../../build/web-tsc/client.js';
import { createSharedClient } from '../../build/web-tsc/shared_client.js';
import { tokenUser } from '../../build/web-tsc/remote_engine.js';

const url = 'ws://127.0.0.1:1/ws';

test('a token provider without shareKey is accepted (the tab learns its user from the token\'s sub)', () => {
  const c = createSharedClient({ url, token: () => 't' });
  assert.ok(c instanceof TidewireClient);
  c.close();
});

test('tokenUser reads a JWT\'s sub (base64url, UTF-8) and nothing else', () => {
  const jwt = (payload) => `h.${Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)).toString('base64url')}.s`;
  assert.equal(tokenUser(jwt({ sub: 'alice' })), 'alice');
  assert.equal(tokenUser(jwt({ sub: 'zoë?>' })), 'zoë?>'); // base64url's - and _, no padding
  for (const t of [jwt({ sub: 42 }), jwt({ sub: '' }), jwt({}), jwt('null'), jwt('not json'), 'opaque', 'a.b', 'a.%%%.c', null, 7, undefined]) {
    assert.equal(tokenUser(t), undefined, String(t));
  }
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
