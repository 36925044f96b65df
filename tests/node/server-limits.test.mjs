// Token refresh and expiry (section 8), limits (14), access rules from claims, binary frames (13) and /metrics,
// against the real server binary with raw `ws` clients.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from './helpers/server.mjs';
import { connectAuthed, RawClient } from '../support/raw-client.mjs';

// Builds a client binary publish frame: 0x01, channel, event, ref, id as str8, then the payload.
function binaryPublish({ channel, event, ref = '', id = '', payload }) {
  const str8 = (s) => {
    const b = Buffer.from(s);
    return Buffer.concat([Buffer.from([b.length]), b]);
  };
  return Buffer.concat([Buffer.from([1]), str8(channel), str8(event), str8(ref), str8(id), payload]);
}

function decodeBinaryBroadcast(buf) {
  let pos = 1;
  const str8 = () => {
    const n = buf[pos];
    const s = buf.subarray(pos + 1, pos + 1 + n).toString();
    pos += 1 + n;
    return s;
  };
  const channel = str8();
  const event = str8();
  const offset = Number(buf.readBigUInt64LE(pos));
  const ts = Number(buf.readBigUInt64LE(pos + 8));
  pos += 16;
  const from = str8();
  const epoch = str8();
  return { channel, event, offset, ts, from, epoch, payload: buf.subarray(pos) };
}

describe('tidewire-server sections 8, 13, 14', () => {
  let server;
  before(async () => {
    server = await startServer({ args: ['--max-connections-per-user', '2', '--rate-limit', '20', '--rate-burst', '10'] });
  });
  after(() => server.stop());

  test('the connection past the per-user limit is accepted, then closed with 4005', async () => {
    const a = await connectAuthed(server, 'capped');
    const b = await connectAuthed(server, 'capped');
    const c = new RawClient(server.wsUrl, ['jwt', server.token('capped')]);
    await c.opened;
    const closed = await c.closed;
    assert.equal(closed.code, 4005);
    assert.match(closed.reason, /too many connections.*limit 2/);
    await a.close();
    const d = await connectAuthed(server, 'capped'); // a slot is free again
    assert.equal(d.welcome.limits.maxConnectionsPerUser, 2);
    await Promise.all([b.close(), d.close()]);
  });

  test('over the rate limit: rate_limited with retryAfterMs and the ref; sustained abuse closes with 1008', async () => {
    const c = await connectAuthed(server, 'fast');
    assert.deepEqual(c.welcome.limits.rateLimit, { messagesPerSecond: 20, burst: 10 });
    for (let i = 0; i < 12; i++) c.send({ type: 'ping', ref: `p${i}` });
    const e = await c.nextOfType('error', { ref: 'p10' });
    assert.equal(e.code, 'rate_limited');
    assert.ok(e.retryAfterMs > 0 && e.retryAfterMs <= 50, `retryAfterMs ${e.retryAfterMs}`);
    for (let i = 0; i < 400; i++) c.send({ type: 'ping' });
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
  });

  test('a token refreshed in band moves expiresAt; without a refresh the server closes with 4003', async () => {
    const c = new RawClient(server.wsUrl, ['jwt', server.token('short', {}, { expiresInSec: 2 })]);
    const auth = await c.nextOfType('auth_success');
    assert.ok(Math.abs(auth.expiresAt - (Date.now() + 2000)) < 1500);
    c.send({ type: 'auth', token: server.token('short', {}, { expiresInSec: 3 }), ref: 'r1' });
    const refreshed = await c.nextOfType('auth_refreshed', { ref: 'r1' });
    assert.ok(refreshed.expiresAt >= auth.expiresAt);
    c.send({ type: 'auth', token: server.token('someone-else'), ref: 'r2' });
    assert.equal((await c.nextOfType('error', { ref: 'r2' })).code, 'auth_failed');
    const closed = await c.closed;
    assert.equal(closed.code, 4003);
    assert.equal(closed.reason, 'token expired');
  });

  test('the channels claim and private user: channels are enforced with forbidden', async () => {
    const c = await connectAuthed(server, 'limited', { claims: { channels: ['room:*'] } });
    c.send({ type: 'subscribe', channel: 'room:ok', ref: 'a' });
    await c.nextOfType('subscribed', { ref: 'a' });
    c.send({ type: 'subscribe', channel: 'secret', ref: 'b' });
    assert.equal((await c.nextOfType('error', { ref: 'b' })).code, 'forbidden');
    const d = await connectAuthed(server, 'dora');
    d.send({ type: 'subscribe', channel: 'user:limited', ref: 'c' });
    assert.equal((await d.nextOfType('error', { ref: 'c' })).code, 'forbidden');
    d.send({ type: 'subscribe', channel: 'user:dora', ref: 'd' });
    await d.nextOfType('subscribed', { ref: 'd' });
    await Promise.all([c.close(), d.close()]);
  });

  test('a binary publish is acked in JSON and broadcast as a binary frame; binary=1 gets 0x00 JSON batches', async () => {
    const a = await connectAuthed(server, 'bin-a');
    const b = await connectAuthed(server, 'bin-b', { query: '?binary=1' });
    let sawBinaryJson = false;
    b.ws.on('message', (data, isBinary) => {
      if (isBinary && data[0] === 0) sawBinaryJson = true;
    });
    for (const c of [a, b]) {
      c.send({ type: 'subscribe', channel: 'room:bin', ref: 's' });
      await c.nextOfType('subscribed', { ref: 's' });
    }
    const payload = Buffer.from([0, 1, 2, 255, 10]);
    a.send(binaryPublish({ channel: 'room:bin', event: 'blob', ref: 'b1', id: 'x1', payload }));
    assert.deepEqual(await a.nextOfType('ack', { ref: 'b1' }), { type: 'ack', ref: 'b1', channel: 'room:bin', offset: 1 });
    const frame = (await b.next((m) => m.binary, 'a binary broadcast')).binary;
    const m = decodeBinaryBroadcast(frame);
    assert.deepEqual([m.channel, m.event, m.offset, m.from], ['room:bin', 'blob', 1, 'bin-a']);
    assert.match(m.epoch, /^e-/);
    assert.deepEqual(m.payload, payload);
    a.send({ type: 'channel_message', channel: 'room:bin', event: 'json', payload: { t: 'é' } });
    assert.deepEqual((await b.nextOfType('channel_message')).payload, { t: 'é' });
    assert.ok(sawBinaryJson, 'binary=1 receives JSON as 0x00 binary frames');
    a.send(Buffer.from([7, 1, 2]));
    assert.equal((await a.nextOfType('error')).code, 'bad_request');
    await Promise.all([a.close(), b.close()]);
  });

  test('all three encodings of one stream: v1 text, v1 binary=1 (0x00 batches), v2 compact=1 (0x02 records)', async () => {
    const pub = await connectAuthed(server, 'enc-pub');
    const text = await connectAuthed(server, 'enc-text');
    const bin = await connectAuthed(server, 'enc-bin', { query: '?binary=1' });
    const compact = await connectAuthed(server, 'enc-v2', { query: '?binary=1&compact=1' });
    const kinds = { text: new Set(), bin: new Set(), compact: new Set() };
    for (const [name, c] of Object.entries({ text, bin, compact })) {
      c.ws.on('message', (data, isBinary) => kinds[name].add(isBinary ? data[0] : 'text'));
    }
    for (const c of [pub, text, bin, compact]) {
      c.send({ type: 'subscribe', channel: 'room:enc', ref: 's' });
      assert.equal((await c.nextOfType('subscribed', { ref: 's' })).channel, 'room:enc');
    }
    const payloads = [{ n: 1, t: 'plain' }, { n: 2, t: 'é 😀 "q" \\ \n' }, null];
    for (const [i, p] of payloads.entries()) {
      pub.send({ type: 'channel_message', channel: 'room:enc', event: 'ev', payload: p, ref: `p${i}` });
    }
    await pub.nextOfType('ack', { ref: 'p2' });
    compact.send({ type: 'ping', ref: 'after' });
    pub.send(binaryPublish({ channel: 'room:enc', event: 'blob', ref: 'b', payload: Buffer.from([1, 2]) }));
    await pub.nextOfType('ack', { ref: 'b' });
    const received = {};
    for (const [name, c] of Object.entries({ text, bin, compact })) {
      received[name] = [];
      for (let i = 0; i < payloads.length; i++) received[name].push(await c.nextOfType('channel_message'));
      assert.deepEqual(decodeBinaryBroadcast((await c.next((m) => m.binary, 'the binary broadcast')).binary).payload, Buffer.from([1, 2]));
    }
    assert.equal((await compact.nextOfType('pong', { ref: 'after' })).ref, 'after'); // a control message as a 'j' record
    for (const [i, p] of payloads.entries()) {
      const want = { ...received.text[i] };
      assert.deepEqual(want.payload, p);
      assert.equal(want.offset, i + 1);
      assert.deepEqual(received.bin[i], want);
      const { payloadText, sliced, ...v2 } = received.compact[i];
      assert.deepEqual(v2, want, 'v2 carries the same fields');
      assert.equal(sliced.payload, payloadText, 'the payload sliced from the frame decoded once');
      assert.equal(sliced.from, 'enc-pub');
    }
    assert.deepEqual([...kinds.text], ['text', 1]);
    assert.deepEqual([...kinds.bin].sort(), [0, 1]);
    assert.deepEqual([...kinds.compact].sort(), [1, 2]);
    await Promise.all([pub.close(), text.close(), bin.close(), compact.close()]);
  });

  test('a text frame that is not UTF-8 closes with 1007; invalid JSON in UTF-8 is bad_json', async () => {
    const c = await connectAuthed(server, 'utf');
    c.send('{"type":');
    assert.equal((await c.nextOfType('error')).code, 'bad_json');
    c.ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
    assert.equal((await c.closed).code, 1007);
  });

  test('GET /metrics is Prometheus text with the server counters', async () => {
    const res = await fetch(`${server.httpUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const value = (name) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
    for (const name of ['tidewire_connections', 'tidewire_connections_total', 'tidewire_messages_in_total',
      'tidewire_messages_out_total', 'tidewire_deliveries_total', 'tidewire_drops_total', 'tidewire_rate_limited_total',
      'tidewire_auth_failures_total', 'tidewire_slow_consumer_closes_total', 'tidewire_channels']) {
      assert.ok(Number.isFinite(value(name)), `${name} in\n${text}`);
    }
    assert.ok(value('tidewire_connections_total') >= 5);
    assert.ok(value('tidewire_rate_limited_total') >= 1);
    assert.ok(value('tidewire_too_many_connections_total') >= 1);
    assert.ok(value('tidewire_deliveries_total') >= 2);
    assert.match(text, /# TYPE tidewire_connections gauge/);
  });

  test('logs are structured: ts=... level=... msg=...', () => {
    const lines = server.stderr.split('\n').filter(Boolean);
    assert.ok(lines.length > 0);
    for (const line of lines) assert.match(line, /^ts=\d{4}-\d\d-\d\dT[\d:.]+Z level=(error|warn|info|debug) msg=/);
  });
});
