// The client's transport fallback in Node (fetch), against the real server through a small real HTTP proxy:
// WebSocket refused by the proxy -> SSE; a proxy that buffers responses -> long polling; WebSocket allowed again
// mid-session -> upgrade with recovery, nothing lost or doubled. Plus SSE and polling chosen outright.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createClient } from '../../web/dist/index.js';
import { startServer } from './helpers/server.mjs';
import { startProxy } from './helpers/http-proxy.mjs';
import { waitFor } from '../support/wait.mjs';

const fast = { reconnectBaseMs: 50, reconnectCapMs: 300 };

async function exchange(a, b, channel, count) {
  const got = [];
  const ch = b.channel(channel).subscribe();
  ch.on('n', (m) => got.push(m.payload));
  await ch.whenSubscribed();
  const acks = [];
  for (let i = 0; i < count; i++) acks.push(a.send(channel, 'n', i));
  const results = await Promise.all(acks);
  assert.ok(results.every((r) => r.offset > 0));
  await waitFor(() => got.length >= count, 10_000, `${count} messages (got ${got.length})`);
  return got;
}

test('bad transport options: a TypeError that says what to fix', () => {
  const url = 'ws://127.0.0.1:1/ws';
  assert.throws(() => createClient({ url, transports: ['carrier-pigeon'] }), /options.transports must list some of 'websocket', 'sse', 'polling'/);
  assert.throws(() => createClient({ url, transports: [] }), TypeError);
  assert.throws(() => createClient({ url, transports: ['sse', 'sse'] }), TypeError);
  assert.throws(() => createClient({ url, fallbackAfterFailures: 0 }), /fallbackAfterFailures must be a number >= 1/);
  assert.throws(() => createClient({ url, upgradeProbeMs: Number.NaN }), /upgradeProbeMs/);
});

describe('client transports', () => {
  let server;
  before(async () => {
    server = await startServer({ args: ['--rate-limit', '10000', '--rate-burst', '10000'] });
  });
  after(() => server.stop());

  for (const transport of ['sse', 'polling']) {
    test(`transports: ['${transport}']: acked sends both ways with a WebSocket client`, { timeout: 30_000 }, async () => {
      const http = createClient({ url: server.wsUrl, token: server.token(`h-${transport}`), transports: [transport], ...fast });
      const ws = createClient({ url: server.wsUrl, token: server.token(`w-${transport}`), transports: ['websocket'], ...fast });
      try {
        const toHttp = await exchange(ws, http, `room:${transport}1`, 50);
        assert.deepEqual(toHttp, [...Array(50).keys()]);
        const toWs = await exchange(http, ws, `room:${transport}2`, 50);
        assert.deepEqual(toWs, [...Array(50).keys()]);
        assert.equal(http.getMetrics().transport, transport);
        assert.equal(http.state, 'connected');
      } finally {
        http.close();
        ws.close();
      }
    });
  }

  for (const transport of ['sse', 'polling']) {
    test(`transports: ['${transport}']: binary payloads both ways, in order with JSON messages`, { timeout: 30_000 }, async () => {
      const http = createClient({ url: server.wsUrl, token: server.token(`hb-${transport}`), transports: [transport], ...fast });
      const ws = createClient({ url: server.wsUrl, token: server.token(`wb-${transport}`), transports: ['websocket'], ...fast });
      const trace = (m) => (m.binary ? `bin:${Buffer.from(m.payload).toString('hex')}` : `json:${m.payload}`);
      // Bytes no text line could carry (newline, NUL, 0xff, a lone continuation byte), and a large frame.
      const big = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
      const sendMixed = (c, channel) => Promise.all([
        c.send(channel, 'e', 1),
        c.send(channel, 'e', new Uint8Array([0x0a, 0x00, 0xff, 0x80])),
        c.send(channel, 'e', 3),
        c.send(channel, 'e', big),
        c.send(channel, 'e', new Blob(['blob'])),
        c.send(channel, 'e', 6),
      ]);
      const expected = ['json:1', 'bin:0a00ff80', 'json:3', `bin:${Buffer.from(big).toString('hex')}`, `bin:${Buffer.from('blob').toString('hex')}`, 'json:6'];
      try {
        for (const [from, to, channel] of [[ws, http, `room:bin-${transport}1`], [http, ws, `room:bin-${transport}2`]]) {
          const got = [];
          const ch = to.channel(channel).subscribe();
          ch.on('*', (m) => got.push(trace(m)));
          await ch.whenSubscribed();
          const acks = await sendMixed(from, channel);
          assert.ok(acks.every((r, i) => r.offset === acks[0].offset + i), 'acked, consecutive offsets');
          await waitFor(() => got.length >= expected.length, 10_000, `${expected.length} messages (got ${got.length})`);
          assert.deepEqual(got, expected);
        }
        assert.equal(http.getMetrics().transport, transport);
      } finally {
        http.close();
        ws.close();
      }
    });
  }

  test('chat rooms and presence over SSE and long polling; first-message auth too', { timeout: 30_000 }, async () => {
    const a = createClient({ url: server.wsUrl, token: server.token('chat-a'), transports: ['sse'], ...fast });
    const b = createClient({ url: server.wsUrl, token: server.token('chat-b'), transports: ['polling'], authMode: 'message', ...fast });
    try {
      const room = await a.chat.createRoom('fallback-room', { participants: ['chat-b'] });
      const ra = a.chat.room(room.id);
      const rb = b.chat.room(room.id);
      for (let i = 0; i < 3; i += 1) await ra.send(`hello ${i}`);
      await waitFor(() => rb.snapshot.messages.length === 3, 10_000, 'chat messages at b');
      assert.deepEqual(rb.snapshot.messages.map((m) => m.text), ['hello 0', 'hello 1', 'hello 2']);
      await rb.send('back');
      await waitFor(() => ra.snapshot.messages.length === 4, 10_000, 'the reply at a');
      const pa = a.presence('presence:fallback', { info: { name: 'A' } });
      const pb = b.presence('presence:fallback', { status: 'busy' });
      await waitFor(() => pa.members.length === 2 && pb.members.length === 2, 10_000, 'both present');
      assert.deepEqual(pa.members.map((m) => m.userId).sort(), ['chat-a', 'chat-b']);
      pb.leave();
      await waitFor(() => pa.members.length === 1, 10_000, 'b left');
      assert.equal(a.getMetrics().transport, 'sse');
      assert.equal(b.getMetrics().transport, 'polling');
    } finally {
      a.close();
      b.close();
    }
  });

  test('WebSocket refused by a proxy: falls back to SSE after 2 failures; unblocked: upgrades, no loss, no duplicate', { timeout: 60_000 }, async () => {
    const proxy = await startProxy(server.port, { blockUpgrades: true });
    const states = [];
    const sub = createClient({ url: proxy.wsUrl, token: server.token('fb-sub'), upgradeProbeMs: 400, ...fast });
    sub.onStateChange((c) => states.push(c));
    const pub = createClient({ url: server.wsUrl, token: server.token('fb-pub'), ...fast });
    try {
      const got = [];
      const ch = sub.channel('room:fb').subscribe();
      ch.on('n', (m) => got.push(m.payload));
      await ch.whenSubscribed();
      assert.equal(sub.getMetrics().transport, 'sse');
      assert.equal(proxy.upgradesRefused, 2, 'two refused WebSocket attempts, then SSE');
      assert.ok(states.some((c) => c.to === 'connected' && c.transport === 'sse'));
      // Publish continuously while the proxy lets WebSocket through again: the client upgrades mid-stream.
      let sent = 0;
      const acks = [];
      const total = 400;
      const publishing = (async () => {
        while (sent < total) {
          acks.push(pub.send('room:fb', 'n', sent++));
          if (sent % 10 === 0) await new Promise((r) => setTimeout(r, 5));
          if (sent === 100) proxy.blockUpgrades = false;
        }
      })();
      await publishing;
      await Promise.all(acks);
      await waitFor(() => sub.getMetrics().transport === 'websocket', 10_000, 'the upgrade to websocket');
      await waitFor(() => got.length >= total, 10_000, `all ${total} (got ${got.length})`);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(got, [...Array(total).keys()], 'every message once, in order');
      assert.ok(states.some((c) => c.to === 'connected' && c.transport === 'websocket'));
    } finally {
      sub.close();
      pub.close();
      await proxy.close();
    }
  });

  test('a proxy that blocks WebSocket and buffers responses: SSE never opens, long polling works', { timeout: 60_000 }, async () => {
    const proxy = await startProxy(server.port, { blockUpgrades: true, buffer: true });
    const sub = createClient({ url: proxy.wsUrl, token: server.token('buf-sub'), ...fast });
    const pub = createClient({ url: server.wsUrl, token: server.token('buf-pub'), ...fast });
    try {
      const got = await exchange(pub, sub, 'room:buf', 100);
      assert.deepEqual(got, [...Array(100).keys()]);
      assert.equal(sub.getMetrics().transport, 'polling');
      // And the other way, through the buffering proxy.
      const back = await exchange(sub, pub, 'room:buf2', 30);
      assert.deepEqual(back, [...Array(30).keys()]);
    } finally {
      sub.close();
      pub.close();
      await proxy.close();
    }
  });
});
