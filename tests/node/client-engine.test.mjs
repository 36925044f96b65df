// The wasm client's harder guarantees, against the real server and against a hostile fake server:
// wasm object hygiene, bad frames from the server, the outbox API, and the rules that need server limits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { WebSocketServer } from 'ws';

import { createClient, loadModule } from '../../web/dist/index.js';
import { startServer } from './helpers/server.mjs';
import { waitFor } from '../support/wait.mjs';

describe('wasm object hygiene', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => server?.stop());

  test('after unsubscribing everything and closing the client, live wasm objects are back to where they started', async () => {
    const module = await loadModule();
    // Warm up once so lazily created, module-wide state is not counted as a leak.
    const warm = createClient({ url: server.wsUrl, token: server.token('warm'), graceMs: 10 });
    await warm.channel('room:hyg').whenSubscribed();
    warm.close();
    await new Promise((r) => setTimeout(r, 50));

    const start = module.liveObjects();
    for (let i = 0; i < 3; i += 1) {
      const c = createClient({ url: server.wsUrl, token: server.token(`h${i}`), graceMs: 10 });
      const ch = c.channel('room:hyg').subscribe();
      ch.on('e', () => {});
      await ch.whenSubscribed();
      await c.send('room:hyg', 'e', { i });
      ch.unsubscribe();
      await waitFor(() => c.state === 'idle');
      c.close();
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(module.liveObjects(), start);
  });
});

describe('hostile server', () => {
  let wss;
  let port;
  const script = [];
  before(async () => {
    wss = new WebSocketServer({ port: 0, handleProtocols: (protocols) => (protocols.has('jwt') ? 'jwt' : false) });
    await new Promise((r) => wss.once('listening', r));
    port = wss.address().port;
    wss.on('connection', (ws) => {
      ws.send(JSON.stringify({ type: 'auth_success', version: 1, connectionId: 'c-fake' }));
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data));
        if (msg.type !== 'subscribe') return;
        ws.send(JSON.stringify({ type: 'subscribed', channel: msg.channel, ref: msg.ref, offset: 0, epoch: 'E' }));
        for (const frame of script) ws.send(frame);
      });
    });
  });
  after(() => wss?.close());

  test('bad frames produce error events, not a crash, and good messages still arrive', async () => {
    script.push(
      'not json at all',
      '{"type":',
      '[1,2,3]',
      '{"no":"type"}',
      '{"type":"channel_message","channel":"room:x","event":"e","payload":{"broken"}',
      Buffer.from([1, 200, 1, 2]), // a truncated binary frame
      '{"type":"channel_message","channel":"room:x","event":"e","offset":1,"epoch":"E","payload":{"ok":true}}',
      '{"type":"totally_new_type","channel":"room:x"}',
      '{"type":"channel_message","channel":"room:x","event":"e","offset":2,"epoch":"E","payload":{"ok":2}}',
    );
    const c = createClient({ url: `ws://127.0.0.1:${port}/ws`, token: 'anything' });
    try {
      const errors = [];
      c.onError((e) => errors.push(e.code));
      const got = [];
      c.subscribe('room:x', (m) => got.push(m.payload));
      await waitFor(() => got.length === 2);
      assert.deepEqual(got, [{ ok: true }, { ok: 2 }]);
      assert.equal(c.state, 'connected');
      assert.ok(errors.filter((e) => e === 'bad_frame').length >= 5, JSON.stringify(errors));
    } finally {
      c.close();
    }
  });
});

describe('outbox', () => {
  test('queued sends can be inspected and cleared; a TTL expires them', async () => {
    // Nothing listens on this port: the client stays disconnected and everything waits in the outbox.
    const c = createClient({ url: 'ws://127.0.0.1:9/ws', token: 't', reconnectBaseMs: 60_000 });
    try {
      c.subscribe('room:o', () => {});
      const p1 = c.send('room:o', 'e', 1);
      const p2 = c.send('room:o', 'e', 2, { ttlMs: 30 });
      await c.ready;
      assert.deepEqual(
        c.getOutbox().map((e) => [e.channel, e.event, e.inFlight]),
        [
          ['room:o', 'e', false],
          ['room:o', 'e', false],
        ],
      );
      await assert.rejects(p2, (e) => e.code === 'expired');
      assert.equal(c.clearOutbox(), 1);
      await assert.rejects(p1, (e) => e.code === 'cleared');
      assert.deepEqual(c.getOutbox(), []);
      assert.equal(c.getMetrics().messagesExpired, 1);
    } finally {
      c.close();
    }
  });

  test('a full outbox refuses new sends instead of dropping', async () => {
    const c = createClient({ url: 'ws://127.0.0.1:9/ws', token: 't', reconnectBaseMs: 60_000, outboxMaxMessages: 2 });
    try {
      c.subscribe('room:o', () => {});
      const pending = [c.send('room:o', 'e', 1), c.send('room:o', 'e', 2)];
      await assert.rejects(c.send('room:o', 'e', 3), (e) => e.code === 'outbox_full' && /outbox/.test(e.message));
      assert.equal(c.getOutbox().length, 2);
      c.close();
      await Promise.allSettled(pending);
    } finally {
      c.close();
    }
  });
});

describe('binary messages', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => server?.stop());

  test('binary payloads go both ways through the real server', async () => {
    const a = createClient({ url: server.wsUrl, token: server.token('bin-a') });
    const b = createClient({ url: server.wsUrl, token: server.token('bin-b') });
    try {
      const got = [];
      const ch = b.channel('room:bin').subscribe();
      ch.on('blob', (m) => got.push(m));
      await ch.whenSubscribed();
      await a.channel('room:bin').whenSubscribed();
      const bytes = new Uint8Array([0, 1, 2, 255, 10, 13]);
      const ack = await a.send('room:bin', 'blob', bytes);
      assert.ok(ack.offset >= 1);
      await waitFor(() => got.length === 1);
      assert.equal(got[0].binary, true);
      assert.deepEqual([...got[0].payload], [...bytes]);
      assert.equal(got[0].from, 'bin-a');
    } finally {
      a.close();
      b.close();
    }
  });
});
