// The HTTP transports (docs/PROTOCOL.md "HTTP transports": SSE and long polling beside /ws) against the real
// server binary with real HTTP requests: the same protocol messages and session semantics as a WebSocket
// (auth, acks, limits), resume with no loss and no duplicate, and hostile input answered with a status and a
// JSON error code while the server stays up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

import { startServer } from './helpers/server.mjs';
import { connectAuthed } from '../support/raw-client.mjs';
import { HttpSessionClient } from '../support/http-session-client.mjs';
import { waitFor } from '../support/wait.mjs';

const channelMessages = (c, channel) => c.received.filter((m) => m.type === 'channel_message' && m.channel === channel);


// A client binary publish frame (section 13): 0x01, channel, event, ref, id as str8, then the payload.
function binaryPublish({ channel, event, ref = '', id = '', payload }) {
  const str8 = (t) => Buffer.concat([Buffer.from([Buffer.byteLength(t)]), Buffer.from(t)]);
  return Buffer.concat([Buffer.from([1]), str8(channel), str8(event), str8(ref), str8(id), payload]);
}

// A server binary channel message: 0x01, channel, event as str8, offset and ts u64, from and epoch as str8, payload.
function decodeBinaryBroadcast(buf) {
  let pos = 1;
  const str8 = () => {
    const n = buf[pos];
    const t = buf.subarray(pos + 1, pos + 1 + n).toString();
    pos += 1 + n;
    return t;
  };
  const channel = str8();
  const event = str8();
  const offset = Number(buf.readBigUInt64LE(pos));
  pos += 16;
  const from = str8();
  str8(); // epoch
  return { channel, event, offset, from, payload: Buffer.from(buf.subarray(pos)) };
}

// A channel's messages as compact strings: `json:<payload.i>@offset` or `bin:<payload hex>@offset`.
function channelTrace(c, channel) {
  const out = [];
  for (const m of c.received) {
    if (m.binary) {
      const b = decodeBinaryBroadcast(m.binary);
      if (b.channel === channel) out.push(`bin:${b.payload.toString('hex')}@${b.offset}:${b.from}`);
    } else if (m.type === 'channel_message' && m.channel === channel) {
      out.push(`json:${m.payload.i}@${m.offset}:${m.from}`);
    }
  }
  return out;
}

// Sends raw bytes on a TCP connection and resolves with what the server answered until it closed.
function rawHttp(port, chunks, { gapMs = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (answer += d));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.on('connect', async () => {
      for (const c of chunks) {
        socket.write(c);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

describe('HTTP transports: SSE and long polling', () => {
  let server;
  before(async () => {
    server = await startServer({
      // Timeouts with room for a loaded machine: a session must not expire between two requests of one test.
      args: ['--max-connections-per-user', '3', '--http-session-timeout-ms', '2000', '--poll-timeout-ms', '1000',
        '--http-request-timeout-ms', '500', '--rate-limit', '1000', '--rate-burst', '1000', '--max-queued-messages', '200',
        '--max-message-bytes', '4096'],
    });
  });
  after(() => server.stop());

  test('SSE receives what a WebSocket client publishes, and its POSTs reach the WebSocket subscriber', async () => {
    const ws = await connectAuthed(server, 'wsuser');
    await ws.subscribe('room1');
    const h = new HttpSessionClient(server.httpUrl, server.token('sseuser'));
    const s = h.openStream();
    const open = await s.opened;
    assert.match(open.session, /^s-[0-9a-f]{32}$/);
    const welcome = await h.next((m) => m.type === 'auth_success');
    assert.equal(welcome.userId, 'sseuser');
    assert.equal((await h.send({ type: 'subscribe', channel: 'room1', ref: 's1' })).status, 204);
    await h.next((m) => m.type === 'subscribed' && m.ref === 's1');

    for (let i = 0; i < 5; i++) await ws.publish('room1', 'chat', { i });
    await waitFor(() => channelMessages(h, 'room1').length === 5);
    assert.deepEqual(channelMessages(h, 'room1').map((m) => m.payload.i), [0, 1, 2, 3, 4]);
    assert.ok(channelMessages(h, 'room1').every((m) => m.from === 'wsuser'));

    // The other way: an acked publish over POST, delivered to the WebSocket subscriber.
    await h.send({ type: 'channel_message', channel: 'room1', event: 'chat', payload: { from: 'sse' }, ref: 'p1', id: 'm-1' });
    const ack = await h.next((m) => m.type === 'ack' && m.ref === 'p1');
    assert.equal(ack.offset, 6);
    const got = await ws.nextChannelMessage((m) => m.payload.from === 'sse');
    assert.equal(got.from, 'sseuser');
    // Several messages in one POST are handled in order (as a WebSocket text frame).
    await h.send([{ type: 'ping', ref: 'a' }, { type: 'ping', ref: 'b' }]);
    const pongs = [await h.next((m) => m.ref === 'a'), await h.next((m) => m.ref === 'b')];
    assert.deepEqual(pongs.map((p) => p.type), ['pong', 'pong']);
    s.drop();
    await ws.close();
  });

  test('binary frames: a WebSocket binary publication reaches an SSE and a poll session, in order, nothing dropped', async () => {
    const ws = await connectAuthed(server, 'binws');
    const sse = new HttpSessionClient(server.httpUrl, server.token('binsse'));
    const stream = sse.openStream();
    await stream.opened;
    await sse.send({ type: 'subscribe', channel: 'bin1', ref: 's' });
    await sse.next((m) => m.type === 'subscribed');
    const poller = new HttpSessionClient(server.httpUrl, server.token('binpoll'));
    await poller.poll();
    await poller.send({ type: 'subscribe', channel: 'bin1', ref: 's' });
    await poller.poll();
    assert.ok(poller.received.some((m) => m.type === 'subscribed'));
    const drops = await server.metric('tidewire_drops_total');

    // Bytes a text line could not carry: newlines, NUL, 0xff, a lone UTF-8 continuation byte.
    const payload = Buffer.from([0x00, 0x0a, 0x0d, 0xff, 0x80, 0x7b, 0x0a]);
    await ws.publish('bin1', 'e', { i: 0 });
    ws.send(binaryPublish({ channel: 'bin1', event: 'raw', ref: 'b1', payload }));
    const ack = await ws.nextOfType('ack', { ref: 'b1' });
    await ws.publish('bin1', 'e', { i: 2 });
    const expected = [`json:0@${ack.offset - 1}:binws`, `bin:${payload.toString('hex')}@${ack.offset}:binws`, `json:2@${ack.offset + 1}:binws`];

    await waitFor(() => channelTrace(sse, 'bin1').length >= 3);
    assert.deepEqual(channelTrace(sse, 'bin1'), expected);
    for (let i = 0; i < 5 && channelTrace(poller, 'bin1').length < 3; i++) await poller.poll();
    assert.deepEqual(channelTrace(poller, 'bin1'), expected);
    // The binary message was a queued message like the others: acknowledged by the next poll, never sent again.
    const after = await poller.poll();
    assert.deepEqual(after.body.messages, []);
    assert.equal(await server.metric('tidewire_drops_total'), drops, 'nothing dropped for the HTTP sessions');

    // A stream resumed from before the binary message gets it again, with the same sequence numbers.
    const replay = new HttpSessionClient(server.httpUrl, server.token('binsse'));
    replay.session = sse.session;
    const seqBefore = sse.ack;
    replay.ack = seqBefore - 2; // the last two sequence numbers: the binary message and the JSON one after it
    stream.drop();
    await stream.ended;
    const resumed = replay.openStream();
    await resumed.opened;
    await waitFor(() => replay.received.length >= 2);
    assert.deepEqual(channelTrace(replay, 'bin1'), expected.slice(1));
    assert.equal(replay.ack, seqBefore);
    resumed.drop();
    await ws.close();
  });

  test('binary frames: an application/octet-stream POST is published as a binary WebSocket frame would be', async () => {
    const ws = await connectAuthed(server, 'binsub');
    await ws.subscribe('bin2');
    for (const mode of ['sse', 'poll']) {
      const h = new HttpSessionClient(server.httpUrl, server.token(`binpub-${mode}`));
      const stream = mode === 'sse' ? h.openStream() : null;
      if (stream) await stream.opened;
      else await h.poll();
      const pollFor = async (pred) => {
        if (!stream) for (let i = 0; i < 5 && !h.inbox.some(pred); i++) await h.poll();
        return h.next(pred);
      };
      const payload = Buffer.from(`\n${mode}\u0000\xff`, 'latin1');
      const sent = await h.sendBinary(binaryPublish({ channel: 'bin2', event: 'raw', ref: `r-${mode}`, id: `id-${mode}`, payload }));
      assert.equal(sent.status, 204);
      const ack = await pollFor((m) => m.type === 'ack' && m.ref === `r-${mode}`);
      assert.ok(ack.offset > 0);
      const got = await ws.next((m) => m.binary && decodeBinaryBroadcast(m.binary).offset === ack.offset);
      const b = decodeBinaryBroadcast(got.binary);
      assert.deepEqual([b.channel, b.event, b.from], ['bin2', 'raw', `binpub-${mode}`]);
      assert.deepEqual(b.payload, payload);
      // The same id again: deduplicated (the same offset), as on a WebSocket.
      await h.sendBinary(binaryPublish({ channel: 'bin2', event: 'raw', ref: `r2-${mode}`, id: `id-${mode}`, payload }));
      assert.equal((await pollFor((m) => m.type === 'ack' && m.ref === `r2-${mode}`)).offset, ack.offset);
      // A frame the handler cannot read: 204, and its bad_request on the stream or poll (as on a WebSocket).
      assert.equal((await h.sendBinary(Buffer.from([0x01, 0x05, 0x61]))).status, 204);
      assert.match((await pollFor((m) => m.type === 'error')).code, /bad_request/);
      // Over --max-message-bytes (4096): 413 message_too_large, nothing published.
      const big = await h.sendBinary(binaryPublish({ channel: 'bin2', event: 'raw', ref: 'big', payload: Buffer.alloc(5000, 7) }));
      assert.equal(big.status, 413);
      assert.equal(big.body.error, 'message_too_large');
      stream?.drop();
    }
    assert.equal(ws.received.filter((m) => m.binary).length, 2, 'one publication per session: no duplicate, not the oversize one');
    await ws.close();
  });

  test('long polling: a session opens on the first poll, waits for messages, answers empty after the timeout', async () => {
    const h = new HttpSessionClient(server.httpUrl, server.token('poller'));
    const first = await h.poll();
    assert.equal(first.body.messages[0].type, 'auth_success');
    assert.equal(first.body.ack, 1);
    await h.send({ type: 'subscribe', channel: 'room2', ref: 's' });
    await h.poll();
    assert.ok(h.received.some((m) => m.type === 'subscribed'));
    // A poll waiting when a message is published answers at once with it.
    const ws = await connectAuthed(server, 'pub2');
    const started = Date.now();
    const waiting = h.poll();
    await new Promise((r) => setTimeout(r, 50));
    await ws.publish('room2', 'e', { n: 1 });
    const answered = await waiting;
    assert.equal(answered.body.messages[0].payload.n, 1);
    assert.ok(Date.now() - started < 900, 'answered before the poll timeout');
    // Nothing to send: an empty batch after --poll-timeout-ms (1000), the ack unchanged.
    const t0 = Date.now();
    const empty = await h.poll();
    assert.deepEqual(empty.body.messages, []);
    assert.equal(empty.body.ack, h.ack);
    assert.ok(Date.now() - t0 >= 900);
    await ws.close();
  });

  test('a poll response lost in flight is sent again; an acknowledged one never is', async () => {
    const h = new HttpSessionClient(server.httpUrl, server.token('lossy'));
    await h.poll();
    await h.send({ type: 'subscribe', channel: 'room3', ref: 's' });
    await h.poll();
    const ws = await connectAuthed(server, 'pub3');
    for (let i = 0; i < 3; i++) await ws.publish('room3', 'e', { i });
    const lost = await h.poll({ keep: false }); // the client never saw this response
    assert.equal(lost.body.messages.length, 3);
    const again = await h.poll(); // same ack as before: the same messages, the same sequence numbers
    assert.deepEqual(again.body.messages, lost.body.messages);
    assert.equal(again.body.ack, lost.body.ack);
    await ws.publish('room3', 'e', { i: 3 });
    const next = await h.poll();
    assert.deepEqual(next.body.messages.map((m) => m.payload.i), [3]);
    assert.deepEqual(channelMessages(h, 'room3').map((m) => m.payload.i), [0, 1, 2, 3]);
    await ws.close();
  });

  test('resume after a dropped SSE stream: nothing lost, nothing twice', async () => {
    const ws = await connectAuthed(server, 'pub4');
    const h = new HttpSessionClient(server.httpUrl, server.token('resumer'));
    const s1 = h.openStream();
    await s1.opened;
    await h.send({ type: 'subscribe', channel: 'room4', ref: 's' });
    await h.next((m) => m.type === 'subscribed');
    for (let i = 0; i < 10; i++) await ws.publish('room4', 'e', { i });
    await waitFor(() => channelMessages(h, 'room4').length === 10);
    s1.drop();
    await s1.ended;
    // Published while no stream is open (within the session timeout): kept for the session.
    for (let i = 10; i < 20; i++) await ws.publish('room4', 'e', { i });
    const s2 = h.openStream(); // ack = the last event id seen
    const open = await s2.opened;
    assert.equal(open.session, h.session);
    for (let i = 20; i < 25; i++) await ws.publish('room4', 'e', { i });
    await waitFor(() => channelMessages(h, 'room4').length >= 25);
    await new Promise((r) => setTimeout(r, 100)); // a duplicate would have arrived by now
    assert.deepEqual(channelMessages(h, 'room4').map((m) => m.payload.i), [...Array(25).keys()]);
    // Resuming with an older ack (the last events were lost in flight) sends them again, in order.
    s2.drop();
    await s2.ended;
    h.ack -= 3;
    const before = channelMessages(h, 'room4').length;
    const s3 = h.openStream();
    await s3.opened;
    await waitFor(() => channelMessages(h, 'room4').length === before + 3);
    assert.deepEqual(channelMessages(h, 'room4').slice(-3).map((m) => m.payload.i), [22, 23, 24]);
    // A new stream supersedes the old one, which ends.
    const s4 = h.openStream();
    await s4.opened;
    await s3.ended;
    s4.drop();
    await ws.close();
  });

  test('a session without a stream or poll ends after --http-session-timeout-ms and frees its slot', async () => {
    const sessions = [];
    for (let i = 0; i < 3; i++) {
      const h = new HttpSessionClient(server.httpUrl, server.token('idle'));
      await h.poll();
      sessions.push(h);
    }
    const refused = await new HttpSessionClient(server.httpUrl, server.token('idle')).poll();
    assert.equal(refused.body.close.code, 4005); // the user is at the limit (3)
    // Nobody polls: after 2 s (and the next 1 s sweep) the sessions end and the slots are free again.
    await waitFor(async () => !(await new HttpSessionClient(server.httpUrl, server.token('idle')).poll()).body.close,
      10000, 'a free slot', 100);
    const r = await sessions[0].poll({ keep: false });
    assert.equal(r.status, 404);
    assert.equal(r.body.error, 'unknown_session');
  });

  test('CORS: a page of another origin gets its preflight answered and the Access-Control-Allow-Origin header', async () => {
    const origin = 'http://app.example';
    const pre = await fetch(`${server.httpUrl}/ws/send`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), origin);
    assert.match(pre.headers.get('access-control-allow-headers'), /Authorization/);
    const res = await fetch(`${server.httpUrl}/ws/poll`, { headers: { origin, authorization: `Bearer ${server.token('cors')}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
    const { session } = JSON.parse((await res.text()).split('\n')[0]);
    // The session id in a header too, for a load balancer's stickiness (README "Running several nodes").
    assert.equal(res.headers.get('tidewire-session'), session);
    const h = new HttpSessionClient(server.httpUrl, server.token('cors'));
    h.session = session;
    h.ack = 1;
    const sse = await new Promise((resolve) => {
      import('node:http').then(({ default: http }) => {
        const req = http.get(`${server.httpUrl}/ws/sse?session=${session}&ack=1`,
          { headers: { origin, authorization: `Bearer ${server.token('cors')}` } }, (r) => {
            resolve(r.headers);
            req.destroy();
          });
      });
    });
    assert.equal(sse['access-control-allow-origin'], origin);
    assert.equal(sse['tidewire-session'], session, 'a resumed stream names its session too');
  });

  test('POST send with close=1 ends the session at once (its slot is free)', async () => {
    const h = new HttpSessionClient(server.httpUrl, server.token('closer'));
    await h.poll();
    assert.equal((await h.send('', { query: { close: 1 } })).status, 204);
    const r = await h.poll({ keep: false });
    assert.equal(r.body.error, 'unknown_session');
  });

  test('HTTP sessions count in the per-user connection limit (4005 on the one past it)', async () => {
    const a = await connectAuthed(server, 'capped');
    const b = await connectAuthed(server, 'capped');
    const h1 = new HttpSessionClient(server.httpUrl, server.token('capped'));
    await h1.poll();
    assert.equal(h1.received[0].type, 'auth_success');
    const h2 = new HttpSessionClient(server.httpUrl, server.token('capped'));
    const r = await h2.poll();
    assert.equal(r.body.close.code, 4005);
    assert.match(r.body.close.reason, /too many connections.*limit 3/);
    assert.equal((await h2.poll({ keep: false })).status, 404); // the refused session is gone
    await Promise.all([a.close(), b.close()]);
  });

  test('slow consumer: past --max-queued-messages unacknowledged, close 1013 as on a WebSocket', async () => {
    const slow = new HttpSessionClient(server.httpUrl, server.token('slow'));
    await slow.poll();
    await slow.send({ type: 'subscribe', channel: 'room5', ref: 's' });
    await slow.poll();
    const ws = await connectAuthed(server, 'pub5');
    for (let i = 0; i < 210; i++) ws.send({ type: 'channel_message', channel: 'room5', event: 'e', payload: i });
    await ws.publish('room5', 'e', 'last');
    await waitFor(async () => (await slow.poll(), slow.closed), 5000, 'the 1013 close');
    assert.equal(slow.closed.code, 1013);
    assert.equal(slow.closed.reason, 'slow consumer');
    await ws.close();
  });

  test('hostile input: a status and a JSON error code for each, and the server stays up', async () => {
    const alice = new HttpSessionClient(server.httpUrl, server.token('alice'));
    await alice.poll();
    const mallory = new HttpSessionClient(server.httpUrl, server.token('mallory'));
    await mallory.poll();
    const base = `${server.httpUrl}/ws`;
    const auth = { authorization: `Bearer ${server.token('alice')}` };
    const expect = async (res, status, code) => {
      assert.equal(res.status, status);
      const body = await res.json();
      assert.equal(body.error, code);
      assert.equal(typeof body.message, 'string');
      return body;
    };
    // Wrong and unknown session ids, another user's session.
    await expect(await fetch(`${base}/poll?session=s-00000000000000000000000000000000`, { headers: auth }), 404, 'unknown_session');
    await expect(await fetch(`${base}/poll?session=`, { headers: auth }), 404, 'unknown_session');
    await expect(await fetch(`${base}/sse?session=${mallory.session}`, { headers: auth }), 403, 'session_forbidden');
    await expect(await fetch(`${base}/send?session=${mallory.session}`, { method: 'POST', body: '{"type":"ping"}', headers: auth }), 403, 'session_forbidden');
    // Auth: none, a bad token, an expired one, a token in the URL.
    await expect(await fetch(`${base}/poll`), 401, 'auth_required');
    await expect(await fetch(`${base}/poll`, { headers: { authorization: 'Bearer nope' } }), 401, 'auth_failed');
    const expired = server.token('alice', {}, { expiresInSec: -10 });
    await expect(await fetch(`${base}/poll`, { headers: { authorization: `Bearer ${expired}` } }), 401, 'token_expired');
    await expect(await fetch(`${base}/poll?token=${server.token('alice')}`, { headers: auth }), 400, 'token_in_url');
    // Bad acks.
    await expect(await fetch(`${base}/poll?session=${alice.session}&ack=999`, { headers: auth }), 400, 'bad_ack');
    await expect(await fetch(`${base}/poll?session=${alice.session}&ack=x`, { headers: auth }), 400, 'bad_ack');
    // Bad JSON: refused as a whole, nothing handled.
    const bad = await alice.send('{"type":"ping","ref":"ok"}\n{nope');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'bad_json');
    // Huge bodies: over --max-message-bytes (4096), and over the parser's limit.
    const big = await alice.send(JSON.stringify({ type: 'ping', ref: 'x'.repeat(5000) }));
    assert.equal(big.status, 413);
    assert.equal(big.body.error, 'message_too_large');
    const huge = await fetch(`${base}/send?session=${alice.session}`, { method: 'POST', body: 'x'.repeat(200 * 1024), headers: auth })
      .catch((e) => e);
    if (!(huge instanceof Error)) await expect(huge, 413, 'body_too_large');
    // Wrong methods.
    const wrong = await fetch(`${base}/send`, { headers: auth });
    assert.equal(wrong.headers.get('allow'), 'POST');
    await expect(wrong, 405, 'method_not_allowed');
    await expect(await fetch(`${base}/poll`, { method: 'POST', body: '{}', headers: auth }), 405, 'method_not_allowed');
    await expect(await fetch(`${base}/sse`, { method: 'DELETE', headers: auth }), 405, 'method_not_allowed');
    // A slow body: headers and part of the body, then nothing: 408 after --http-request-timeout-ms (500).
    const t0 = Date.now();
    const answer = await rawHttp(server.port, [
      `POST /ws/send?session=${alice.session} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token('alice')}\r\n` +
      'Content-Length: 100\r\n\r\n{"type":',
    ]);
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.match(answer, /"error":"request_timeout"/);
    assert.ok(Date.now() - t0 >= 450);
    // Still up, and alice's session still works (the refused requests changed nothing).
    assert.equal((await fetch(`${server.httpUrl}/healthz`)).status, 200);
    await alice.send({ type: 'ping', ref: 'still' });
    await alice.poll();
    assert.ok(alice.received.some((m) => m.type === 'pong' && m.ref === 'still'));
    assert.ok(!alice.received.some((m) => m.ref === 'ok'), 'nothing of the bad_json body was handled');
    assert.ok((await server.metric('tidewire_connections')) >= 2);
  });
});

describe('HTTP transports: rate limit', () => {
  let server;
  before(async () => {
    server = await startServer({ args: ['--rate-limit', '20', '--rate-burst', '10'] });
  });
  after(() => server.stop());

  test('messages over POST take rate-limit tokens as on a WebSocket', async () => {
    const h = new HttpSessionClient(server.httpUrl, server.token('fast'));
    await h.poll();
    await h.send(Array.from({ length: 15 }, (_, i) => ({ type: 'ping', ref: `p${i}` })));
    await h.poll();
    const limited = h.received.filter((m) => m.type === 'error' && m.code === 'rate_limited');
    assert.ok(limited.length >= 4, `rate_limited errors: ${limited.length}`);
    assert.ok(limited[0].retryAfterMs > 0);
    assert.ok(limited.every((m) => /^p\d+$/.test(m.ref)));
  });
});
