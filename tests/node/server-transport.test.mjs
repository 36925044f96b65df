// The server's transport at its edges (PROTOCOL.md sections 1, 1.1, 5 and 14), against the real binary:
// oversized frames close with 1009 every time (a lingering close keeps the reset from eating the close frame),
// expired tokens are refused before anything is accepted, and request headers over the limit get 431.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';

import { startServer } from './helpers/server.mjs';
import { connectAuthed, RawClient, refusedUpgrade } from '../support/raw-client.mjs';

// Sends `request` over a raw TCP socket and resolves with everything the server sent back before closing,
// plus how the socket ended ('end' for a clean close, or the error code such as 'ECONNRESET').
function rawHttp(port, request) {
  return new Promise((resolveReply) => {
    const socket = connect(port, '127.0.0.1');
    const chunks = [];
    let ended = null;
    const finish = () => resolveReply({ text: Buffer.concat(chunks).toString('latin1'), ended });
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', (e) => {
      ended = e.code;
    });
    socket.on('end', () => {
      ended ??= 'end';
    });
    socket.on('close', finish);
    socket.write(request, () => socket.end());
  });
}

describe('tidewire-server transport: close frames, expired tokens, header limits', () => {
  let server;
  before(async () => {
    server = await startServer({ args: ['--rate-limit', '0'] });
  });
  after(() => server.stop());

  test('a frame over --max-message-bytes closes with 1009, every time, while the client is still writing', async () => {
    // 2 MiB against the 64 KiB default: the server refuses after the frame header, and the client is still
    // writing for a while. Before the lingering close, 4-7 of 10 tries saw 1006 (a reset ate the close frame).
    const big = 'x'.repeat(2 << 20);
    for (let i = 0; i < 12; i += 1) {
      const c = await connectAuthed(server, `big${i % 4}`);
      assert.equal(c.welcome.limits.maxMessageBytes, 65536);
      for (let k = 0; k < 4; k += 1) c.ws.send(big); // still writing long after the first frame's header
      const closed = await c.closed;
      assert.equal(closed.code, 1009, `try ${i + 1}: close code ${closed.code} ${closed.reason}`);
    }
  });

  test('the limit applies to the reassembled message: fragments under it that add up over it close with 1009', async () => {
    for (let i = 0; i < 3; i += 1) {
      const c = await connectAuthed(server, 'fragments');
      const piece = 'y'.repeat(16 * 1024);
      for (let f = 0; f < 5; f += 1) c.ws.send(piece, { fin: false }); // 80 KiB in five 16 KiB fragments
      c.ws.send(piece, { fin: true });
      assert.equal((await c.closed).code, 1009);
    }
    // Under the limit in all, a fragmented message is one message.
    const c = await connectAuthed(server, 'fragments');
    c.ws.send('{"type":"ping",', { fin: false });
    c.ws.send('"ref":"frag"}', { fin: true });
    await c.nextOfType('pong', { ref: 'frag' });
    await c.close();
  });

  test('a token that expired 10 s ago is refused before the upgrade with 401 token_expired', async () => {
    const expired = server.token('late', {}, { expiresInSec: -10 });
    const refusal = await refusedUpgrade(server.wsUrl, ['jwt', expired]);
    assert.equal(refusal.status, 401);
    assert.equal(refusal.body.error, 'token_expired');
    // One second past exp is just as expired: no leeway on exp.
    const justExpired = server.token('late', {}, { expiresInSec: -1 });
    assert.equal((await refusedUpgrade(server.wsUrl, ['jwt', justExpired])).status, 401);
  });

  test('first-message auth with a token that expired 10 s ago closes with 4003 at once, without auth_success', async () => {
    const c = new RawClient(server.wsUrl);
    await c.opened;
    c.send({ type: 'auth', token: server.token('late', {}, { expiresInSec: -10 }) });
    const closed = await c.closed;
    assert.equal(closed.code, 4003);
    assert.equal(closed.reason, 'token expired');
    assert.deepEqual(c.inbox.filter((m) => m.type === 'auth_success'), []);
  });

  test('a sub longer than 256 bytes is refused with a message that says so', async () => {
    const refusal = await refusedUpgrade(server.wsUrl, ['jwt', server.token('u'.repeat(257))]);
    assert.equal(refusal.status, 401);
    assert.equal(refusal.body.message, 'token sub is longer than 256 bytes; use a shorter user id');
  });

  test('request headers over the 16 KiB limit get 431 Request Header Fields Too Large, not a reset', async () => {
    for (let i = 0; i < 5; i += 1) {
      const reply = await rawHttp(server.port,
        `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'p'.repeat(64 * 1024)}\r\n\r\n`);
      assert.match(reply.text, /^HTTP\/1\.1 431 /, `try ${i + 1}: ${JSON.stringify(reply.text.slice(0, 80))} ${reply.ended}`);
      assert.match(reply.text, /"error":"headers_too_large"/);
      assert.match(reply.text, /\r\nConnection: close\r\n/i);
    }
    // Under the limit, the same request is served.
    const ok = await rawHttp(server.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'p'.repeat(8 * 1024)}\r\nConnection: close\r\n\r\n`);
    assert.match(ok.text, /^HTTP\/1\.1 200 /);
  });

  test('an upgrade with a token in headers over the limit gets 431 too', async () => {
    const refusal = await refusedUpgrade(server.wsUrl, ['jwt', 'x'.repeat(20 * 1024)]);
    assert.equal(refusal.status, 431);
    assert.equal(refusal.body.error, 'headers_too_large');
  });
});
