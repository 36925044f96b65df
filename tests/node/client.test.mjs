// The wasm client (web/dist, built from the C++ core) against the real server binary, in Node ESM.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createClient, TidewireError } from '../../web/dist/index.js';
import { startServer } from './helpers/server.mjs';
import { waitFor } from '../support/wait.mjs';

describe('wasm client against the real server', () => {
  let server;
  const clients = [];
  const client = (options) => {
    const c = createClient({ url: server.wsUrl, ...options });
    clients.push(c);
    return c;
  };

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    for (const c of clients) c.close();
    await server?.stop();
  });

  test('opens no socket until the first subscriber', async () => {
    const c = client({ token: server.token('lazy') });
    await c.ready;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.state, 'idle');
    assert.equal(c.getMetrics().connectionAttempts, 0);
  });

  test('authenticates, subscribes, receives and gets acks', async () => {
    const alice = client({ token: server.token('alice') });
    const bob = client({ token: server.token('bob') });
    const got = [];
    const states = [];
    bob.onStateChange((s) => states.push(s.to));
    const chBob = bob.channel('room:node').subscribe();
    chBob.on('chat', (m) => got.push(m));
    const chAlice = alice.channel('room:node').subscribe();
    await Promise.all([chBob.whenSubscribed(), chAlice.whenSubscribed()]);
    assert.deepEqual(states, ['connecting', 'authenticating', 'connected']);

    const ack1 = await alice.send('room:node', 'chat', { text: 'hello', n: 1 });
    const ack2 = await chAlice.send('chat', { text: 'é ☃ 🎉', n: 2 });
    await alice.send('room:node', 'other', { ignored: true });
    assert.equal(ack1.offset, 1);
    assert.equal(ack2.offset, 2);

    await waitFor(() => got.length === 2);
    assert.deepEqual(
      got.map((m) => [m.channel, m.event, m.payload, m.offset, m.from]),
      [
        ['room:node', 'chat', { text: 'hello', n: 1 }, 1, 'alice'],
        ['room:node', 'chat', { text: 'é ☃ 🎉', n: 2 }, 2, 'alice'],
      ],
    );
    assert.ok(got[0].ts > Date.now() - 60_000 && got[0].ts <= Date.now() + 1000, 'ts is server time in ms');
    assert.equal(bob.getMetrics().connectionSuccesses, 1);
  });

  test('first-message auth works too', async () => {
    const c = client({ token: server.token('carol'), authMode: 'message' });
    const got = [];
    const ch = c.channel('room:fm').subscribe();
    ch.on('*', (m) => got.push(m.payload));
    await ch.whenSubscribed();
    await c.send('room:fm', 'e', 42);
    await waitFor(() => got.length === 1);
    assert.deepEqual(got, [42]);
  });

  test('a token provider is awaited before connecting', async () => {
    let calls = 0;
    const c = client({
      token: async () => {
        calls += 1;
        await new Promise((r) => setTimeout(r, 20));
        return server.token('dave');
      },
    });
    await c.channel('room:tp').whenSubscribed();
    assert.equal(calls, 1);
    assert.equal(c.state, 'connected');
  });

  test('a bad token sent as the first message stops with auth_failed instead of looping', async () => {
    const c = client({ token: 'not.a.jwt', authMode: 'message', reconnectBaseMs: 10 });
    const errors = [];
    c.onError((e) => errors.push(e));
    c.subscribe('room:bad', () => {});
    await waitFor(() => c.state === 'error');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.getMetrics().connectionAttempts, 1);
    assert.ok(errors.some((e) => e instanceof TidewireError && e.code === 'auth_failed'), JSON.stringify(errors));
  });

  const hides401 = typeof globalThis.WebSocket === 'function' && "Node 22+'s global WebSocket hides the HTTP 401, as browsers do";
  test('a bad token in the subprotocol is refused before the upgrade: in Node 20 that ends with auth_failed', { skip: hides401 }, async () => {
    // Node 20's socket (`ws`, web/src/node_socket.ts) reports the HTTP 401 as close 4001, so the client treats it as a
    // bad first-message token: a static token stops at once, a token provider is asked once more. (Browsers hide the
    // 401: there it looks like a network failure and retries stay bounded by maxReconnectAttempts.)
    const c = client({ token: 'not.a.jwt', reconnectBaseMs: 10, reconnectCapMs: 20, maxReconnectAttempts: 5 });
    const errors = [];
    c.onError((e) => errors.push(e));
    c.subscribe('room:bad2', () => {});
    await waitFor(() => c.state === 'error');
    assert.equal(c.getMetrics().connectionAttempts, 1);
    assert.deepEqual(errors.map((e) => e.code), ['auth_failed']);
    assert.match(errors[0].message, /HTTP 401/);

    let asked = 0;
    const p = client({ token: async () => (asked += 1, 'still.not.a.jwt'), reconnectBaseMs: 10, reconnectCapMs: 20, maxReconnectAttempts: 5 });
    const perrors = [];
    p.onError((e) => perrors.push(e.code));
    p.subscribe('room:bad3', () => {});
    await waitFor(() => p.state === 'error');
    assert.equal(asked, 2, 'the provider was asked for a fresh token once');
    assert.equal(p.getMetrics().connectionAttempts, 2);
    assert.ok(perrors.includes('auth_failed'), JSON.stringify(perrors));
  });

  test('a throwing listener does not stop the others', async () => {
    const c = client({ token: server.token('erin') });
    const errors = [];
    c.onError((e) => errors.push(e.code));
    const seen = [];
    const ch = c.channel('room:throw').subscribe();
    ch.on('e', () => {
      throw new Error('boom');
    });
    ch.on('e', (m) => seen.push(m.payload));
    await ch.whenSubscribed();
    await c.send('room:throw', 'e', 1);
    await c.send('room:throw', 'e', 2);
    await waitFor(() => seen.length === 2);
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(errors, ['listener_threw', 'listener_threw']);
    assert.equal(c.getMetrics().listenerErrors, 2);
  });

  test('sends made before connecting are queued and delivered in order', async () => {
    const sender = client({ token: server.token('frank') });
    const receiver = client({ token: server.token('gina') });
    const got = [];
    const ch = receiver.channel('room:queue').subscribe();
    ch.on('n', (m) => got.push(m.payload));
    await ch.whenSubscribed();
    sender.channel('room:queue').subscribe();
    const acks = await Promise.all([0, 1, 2, 3, 4].map((n) => sender.send('room:queue', 'n', n)));
    assert.deepEqual(
      acks.map((a) => a.offset),
      [1, 2, 3, 4, 5],
    );
    await waitFor(() => got.length === 5);
    assert.deepEqual(got, [0, 1, 2, 3, 4]);
  });

  test('close() rejects what still waits for the server, and is quiet with nothing pending', async () => {
    const isClosed = (e) => e instanceof TidewireError && e.code === 'client_closed' && /closed before/.test(e.message);
    const errors = [];
    // Before the engine is attached (the calls wait in the client), and after (in the engine's outbox).
    const early = client({ token: server.token('quinn') });
    early.onError((e) => errors.push(e));
    early.channel('room:closing').subscribe();
    const beforeLoad = [early.send('room:closing', 'e', 1), early.request('presence_list', { channel: 'room:closing' })];
    early.close();
    await Promise.all(beforeLoad.map((p) => assert.rejects(p, isClosed)));
    const c = client({ token: server.token('quinn') });
    c.onError((e) => errors.push(e));
    await c.ready;
    c.channel('room:closing').subscribe();
    const pending = c.send('room:closing', 'e', 1); // queued: the connection is not up yet
    c.close();
    await assert.rejects(pending, isClosed);
    assert.equal(c.closed, true);
    const idle = client({ token: server.token('quinn') });
    await idle.ready;
    idle.close();
    assert.equal(idle.closed, true);
    idle.close(); // twice: still nothing
    assert.deepEqual(errors, []);
  });

  test('invalid arguments reject with a clear error', async () => {
    const c = client({ token: server.token('hank') });
    await assert.rejects(c.send('bad channel name!', 'e', 1), (e) => e.code === 'invalid_argument' && /channel/.test(e.message));
    await assert.rejects(c.send('ok', 'e', () => 1), (e) => e.code === 'invalid_argument');
    assert.throws(() => createClient({ url: 'http://x' }), /ws:\/\/ or wss:\/\//);
    assert.throws(() => createClient({ url: 'ws://x/ws', graceMs: -1 }), /graceMs/);
  });

  test('closes the socket a grace period after the last subscriber leaves, and reuses it inside it', async () => {
    const c = client({ token: server.token('ivy'), graceMs: 150 });
    const ch = c.channel('room:grace').subscribe();
    await ch.whenSubscribed();
    ch.unsubscribe();
    const again = c.channel('room:grace2').subscribe(); // inside the grace period
    await again.whenSubscribed();
    assert.equal(c.getMetrics().connectionAttempts, 1);
    again.unsubscribe();
    await waitFor(() => c.state === 'idle', 2000);
    assert.equal(c.getMetrics().connectionAttempts, 1);
  });
});

describe('issue 12: binary payloads, publishing without subscribing, the server ending a subscription', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('a Blob payload goes as binary, in send order with the sends around it; an unreadable one rejects', async () => {
    const sender = createClient({ url: server.wsUrl, token: server.token('blob-sender') });
    const receiver = createClient({ url: server.wsUrl, token: server.token('blob-receiver') });
    try {
      const got = [];
      const ch = receiver.channel('room:blob').subscribe();
      ch.on('*', (m) => got.push(m.binary ? `bin:${Buffer.from(m.payload).toString()}` : `json:${m.payload}`));
      await ch.whenSubscribed();
      const sends = [
        sender.send('room:blob', 'e', 1),
        sender.send('room:blob', 'e', new Blob(['from a blob'])), // read asynchronously
        sender.send('room:blob', 'e', 3), // must not overtake it
        sender.send('room:blob', 'e', new Uint16Array([0x6968])), // other typed arrays are bytes too ("hi")
      ];
      await Promise.all(sends);
      await waitFor(() => got.length === 4);
      assert.deepEqual(got, ['json:1', 'bin:from a blob', 'json:3', 'bin:hi']);

      class BrokenBlob extends Blob {
        arrayBuffer() {
          return Promise.reject(new Error('the file was removed'));
        }
      }
      await assert.rejects(sender.send('room:blob', 'e', new BrokenBlob(['x'])), (e) => e instanceof TidewireError && e.code === 'invalid_argument' && /Blob/.test(e.message));
      await sender.send('room:blob', 'e', 5); // the chain goes on after a failure
      await waitFor(() => got.length === 5);
      assert.equal(got[4], 'json:5');
    } finally {
      sender.close();
      receiver.close();
    }
  });

  test('client.userId is empty before the first connection and the token\'s sub after', async () => {
    const c = createClient({ url: server.wsUrl, token: server.token('uma') });
    try {
      await c.ready;
      assert.equal(c.userId, '');
      await c.channel('room:uid').whenSubscribed();
      assert.equal(c.userId, 'uma');
    } finally {
      c.close();
    }
  });

  test('send() with no subscriber opens the connection, is delivered and acked, and the connection closes after the grace period', async () => {
    const raw = createClient({ url: server.wsUrl, token: server.token('pws-listener') });
    const c = createClient({ url: server.wsUrl, token: server.token('pws-sender'), graceMs: 200 });
    try {
      const got = [];
      const ch = raw.channel('room:pws').subscribe();
      ch.on('note', (m) => got.push(m.payload));
      await ch.whenSubscribed();
      await c.ready;
      assert.equal(c.state, 'idle');
      const ack = await c.send('room:pws', 'note', { text: 'no subscription needed' });
      assert.ok(ack.offset >= 1);
      await waitFor(() => got.length === 1);
      assert.deepEqual(got, [{ text: 'no subscription needed' }]);
      assert.equal(c.getMetrics().subscriberCount, 0);
      await waitFor(() => c.state === 'idle', 3000, 'closed after the grace period');
      assert.equal(c.getMetrics().connectionAttempts, 1);

      // Refused (chat: channels carry the chat service's events only): settled, and closed all the same.
      await assert.rejects(c.send('chat:1', 'note', 1), (e) => e.code === 'forbidden');
      await waitFor(() => c.state === 'idle', 3000, 'closed after a refused send too');
    } finally {
      raw.close();
      c.close();
    }
  });

  test('leaving a chat room ends its subscription: room_left through the channel and the client, not resubscribed on reconnect', async () => {
    const c = createClient({ url: server.wsUrl, token: server.token('leaver') });
    try {
      const { room } = await c.request('chat_create_room', { name: 'to leave', visibility: 'private' });
      const channelName = `chat:${room.id}`;
      const ch = c.channel(channelName).subscribe();
      let confirmations = 0;
      ch.onSubscribed(() => (confirmations += 1));
      await ch.whenSubscribed();
      await waitFor(() => confirmations === 1);
      const channelErrors = [];
      const clientErrors = [];
      ch.onError((e) => channelErrors.push(e));
      c.onError((e) => clientErrors.push(e.code));

      await c.request('chat_leave', { roomId: room.id });
      await waitFor(() => channelErrors.length === 1, 3000, 'the channel error');
      assert.ok(channelErrors[0] instanceof TidewireError);
      assert.equal(channelErrors[0].code, 'room_left');
      assert.equal(channelErrors[0].details.channel, channelName);
      assert.ok(channelErrors[0].message.length > 0);
      assert.deepEqual(clientErrors, ['room_left']);

      c.reconnect();
      await waitFor(() => c.state === 'connected', 5000);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(confirmations, 1, 'not subscribed again after the reconnect');

      // Joining again and subscribing explicitly starts over.
      await c.request('chat_join', { roomId: room.id });
      ch.subscribe();
      await waitFor(() => confirmations === 2, 3000, 'subscribed again');
    } finally {
      c.close();
    }
  });
});

describe('wasm client across a server restart', () => {
  test('reconnects with backoff and resubscribes', async () => {
    let server = await startServer();
    const port = server.port;
    const c = createClient({ url: server.wsUrl, token: server.token('rita'), reconnectBaseMs: 50, reconnectCapMs: 200 });
    try {
      const got = [];
      const states = [];
      c.onStateChange((s) => states.push(s.to));
      const ch = c.channel('room:restart').subscribe();
      ch.on('e', (m) => got.push(m.payload));
      await ch.whenSubscribed();
      await c.send('room:restart', 'e', 'before');
      await server.stop();
      await waitFor(() => c.state === 'reconnecting' || c.state === 'connecting');
      server = await startServer({ args: ['--port', String(port)] });
      await waitFor(() => c.state === 'connected', 10_000);
      await ch.whenSubscribed();
      await c.send('room:restart', 'e', 'after');
      await waitFor(() => got.length === 2);
      assert.deepEqual(got, ['before', 'after']);
      assert.ok(states.includes('reconnecting'));
      assert.equal(c.getMetrics().connectionSuccesses, 2);
    } finally {
      c.close();
      await server.stop();
    }
  });
});
