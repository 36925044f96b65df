// The HTTP transports load lazily (transport_fallback.ts imports http_fallback.ts on first use): a WebSocket is
// constructed at once, never behind the import; an HTTP socket is CONNECTING until its chunk has loaded, and what
// the engine did meanwhile (handlers, binaryType, a close) reaches the HttpSocket. tests/node/client-transport-
// fallback.test.mjs and tests/browser/transport-fallback.test.mjs run the fallback against a real server.
//   node --test tests/unit/transport-lazy.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { waitFor } from '../support/wait.mjs';
import { configureTransports, fallbackSocketClass, policyUrl, releaseTransports } from '../../build/web-tsc/transport_fallback.js';

/** A WebSocket class that records its instances (no network: the fallback only constructs and forwards). */
class RecordingSocket {
  static made = [];
  readyState = 0;
  binaryType = 'blob';
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;
  sent = [];
  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    RecordingSocket.made.push(this);
  }
  send(data) {
    this.sent.push(data);
  }
  close() {}
}

test('a WebSocket is constructed synchronously and used at once', () => {
  const url = policyUrl('ws://127.0.0.1:9/ws');
  const Socket = fallbackSocketClass(() => RecordingSocket);
  const s = new Socket(url, ['jwt', 't']);
  const inner = RecordingSocket.made.at(-1);
  assert.equal(s.transport, 'websocket');
  assert.equal(inner.url, 'ws://127.0.0.1:9/ws', 'the fragment naming the policy never reaches the socket');
  inner.readyState = 1;
  assert.equal(s.readyState, 1);
  s.send('x');
  assert.deepEqual(inner.sent, ['x']);
  releaseTransports(url);
});

test('an HTTP socket is CONNECTING until its chunk loads; a close meanwhile reaches it and is reported once', async () => {
  const url = policyUrl('ws://127.0.0.1:9/ws');
  configureTransports(url, { transports: ['polling'] });
  const Socket = fallbackSocketClass(() => RecordingSocket);
  const before = RecordingSocket.made.length;
  const s = new Socket(url, ['jwt', 't']);
  assert.equal(RecordingSocket.made.length, before, 'no WebSocket for a polling-only client');
  assert.equal(s.transport, 'polling');
  assert.equal(s.readyState, 0);
  assert.throws(() => s.send('x'), /not open/);
  s.binaryType = 'blob';
  assert.equal(s.binaryType, 'blob');
  const closes = [];
  s.onclose = (e) => closes.push(e);
  s.close(1000, 'bye');
  assert.equal(s.readyState, 2, 'CLOSING, as an HttpSocket closed before it opened');
  await waitFor(() => closes.length > 0, 5000, 'the close, once the chunk has loaded');
  await new Promise((r) => setTimeout(r, 50)); // and no second one
  assert.deepEqual(closes.map((e) => [e.code, e.reason, e.wasClean]), [[1000, 'bye', true]]);
  assert.equal(s.readyState, 3);
  releaseTransports(url);
});

test('handlers and binaryType set before the chunk loads are the HttpSocket\'s once it does', async () => {
  const url = policyUrl('ws://127.0.0.1:9/ws');
  configureTransports(url, { transports: ['sse'] });
  const s = new (fallbackSocketClass(() => undefined))(url, ['jwt', 't']);
  const onmessage = () => {};
  s.onmessage = onmessage;
  s.binaryType = 'blob';
  const closes = [];
  s.onclose = (e) => closes.push(e);
  // Nothing listens on port 9: the HttpSocket (loaded, then opened) fails to reach the server and closes 1006.
  await waitFor(() => closes.length > 0, 5000, 'the close 1006');
  assert.equal(s.onmessage, onmessage);
  assert.equal(s.binaryType, 'blob');
  assert.equal(closes[0].code, 1006);
  releaseTransports(url);
});
