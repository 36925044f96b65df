// The TS client (web/src/client.ts, channel.ts) over a fake engine (fake_engine.mjs): no server, no wasm, no
// sockets, so each test runs in about a millisecond. What needs the real engine or server is in tests/node.
// Runs on tsc's one-file-per-module output (build/web-tsc), which the build writes before bundling web/dist.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, test } from 'node:test';

import ts from 'typescript';

import { createClient } from '../../build/web-tsc/client.js';
import { TidewireError } from '../../build/web-tsc/errors.js';
import { _useModuleForTests } from '../../build/web-tsc/module.js';
import { fakeEngineEachTest } from './fake_setup.mjs';

const env = fakeEngineEachTest();

async function connected(options = {}) {
  const client = createClient({ url: 'ws://fake/ws', ...options });
  env.clients.push(client);
  await client.ready;
  const engine = env.fake.last;
  engine.open();
  return { client, engine };
}

test('the fake engine implements every WasmClient method the module declares', () => {
  const dts = readFileSync(new URL('../../bindings/tidewire_module.d.mts', import.meta.url), 'utf8');
  const source = ts.createSourceFile('m.d.mts', dts, ts.ScriptTarget.ES2022, true);
  const declared = [];
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === 'WasmClient') {
      for (const m of node.members) declared.push(m.name.getText(source));
    }
  });
  assert.ok(declared.length > 10);
  for (const name of declared) {
    if (name === 'delete') continue; // embind's, on the base prototype; the fake has its own below
    assert.equal(typeof env.fake.WasmClient.prototype[name], 'function', name);
  }
  assert.equal(typeof env.fake.WasmClient.prototype.delete, 'function');
});

test('handles on one channel share the engine channel; the engine counts the references', async () => {
  const { client, engine } = await connected();
  const a = client.channel('room:1').subscribe();
  const b = client.channel('room:1').subscribe();
  const [ch] = engine.channels.values();
  assert.equal(engine.channels.size, 1);
  assert.equal(ch.refs, 2);
  assert.equal(client.getMetrics().subscriberCount, 2);
  a.unsubscribe();
  assert.equal(ch.refs, 1);
  b.on('chat', () => {});
  b.unsubscribe();
  assert.equal(engine.channels.size, 0, 'the last reference unsubscribed');
  assert.equal(client.channel('room:1').listenerCount(), 0, "the channel's listeners went with it");
});

test('references taken before the module loaded reach the engine in order', async () => {
  const client = createClient({ url: 'ws://fake/ws' });
  env.clients.push(client);
  const first = client.channel('room:1').subscribe();
  first.unsubscribe();
  const second = client.channel('room:1');
  const got = [];
  second.on('chat', (m) => got.push(m.payload));
  await client.ready;
  const engine = env.fake.last;
  assert.deepEqual(
    engine.calls.filter(([m]) => m === 'subscribe' || m === 'unsubscribe').map(([m]) => m),
    ['subscribe', 'unsubscribe', 'subscribe'],
  );
  engine.open();
  engine.deliver('room:1', 'chat', '{"n":1}');
  assert.deepEqual(got, [{ n: 1 }], 'the later handle kept its listener');
});

test('messages go to the listeners of their event, to "*" and once to once()', async () => {
  const { client, engine } = await connected();
  const ch = client.channel('room:1');
  const chat = [];
  const all = [];
  const once = [];
  ch.on('chat', (m) => chat.push(m.payload));
  ch.on('*', (m) => all.push(m.event));
  ch.once('chat', (m) => once.push(m.payload));
  engine.deliver('room:1', 'chat', '{"a":1}', { offset: 5, from: 'u1' });
  engine.deliver('room:1', 'typing', 'true');
  engine.deliver('room:1', 'chat', '{"a":2}');
  assert.deepEqual(chat, [{ a: 1 }, { a: 2 }]);
  assert.deepEqual(all, ['chat', 'typing', 'chat']);
  assert.deepEqual(once, [{ a: 1 }]);
});

test('whenSubscribed() asks the engine: a second handle on a confirmed channel resolves at once', async () => {
  const { client, engine } = await connected();
  const a = client.channel('room:1');
  const first = a.whenSubscribed();
  engine.confirm('room:1');
  await first;
  const subscribedCalls = [];
  const b = client.channel('room:1');
  b.onSubscribed(() => subscribedCalls.push('b'));
  await b.whenSubscribed();
  await Promise.resolve();
  assert.deepEqual(subscribedCalls, ['b'], 'the new listener is told once, from the engine flag');
  engine.setState('reconnecting');
  let resolved = false;
  void b.whenSubscribed().then(() => (resolved = true));
  await Promise.resolve();
  assert.equal(resolved, false, 'after the socket dropped the engine says not subscribed');
});

test('a send resolves with the ack, and rejects with the server code or the engine status', async () => {
  const { client, engine } = await connected();
  const ok = client.send('room:1', 'chat', { text: 'hi' });
  const publish = engine.calls.find(([m]) => m === 'publish');
  assert.deepEqual(publish.slice(1), ['room:1', 'chat', '{"text":"hi"}', 0, '']);
  engine.ack(1, { offset: 9 });
  assert.deepEqual(await ok, { offset: 9 });

  const refused = client.send('room:1', 'chat', 1);
  engine.ack(2, { ok: false, code: 'rate_limited', message: 'slow down', errorJson: '{"retryAfterMs":50}' });
  await assert.rejects(refused, (e) => e instanceof TidewireError && e.code === 'rate_limited' && e.details.retryAfterMs === 50);

  engine.outboxLimit = 0;
  await assert.rejects(client.send('room:1', 'chat', 1), (e) => e.code === 'outbox_full' && /outbox is full/.test(e.message));
  assert.equal(engine.calls.at(-1)[0], 'publish');
});

test('request() resolves with the reply data and rejects with its code and details', async () => {
  const { client, engine } = await connected();
  const ok = client.request('chat_list_rooms', { limit: 2 });
  engine.reply(1, '{"rooms":[]}');
  assert.deepEqual(await ok, { rooms: [] });
  const bad = client.request('chat_send', { roomId: '1' });
  engine.reply(2, '{"field":"text"}', { ok: false, code: 'bad_request', message: 'text is required' });
  await assert.rejects(bad, (e) => e.code === 'bad_request' && e.details.field === 'text');
});

test('the server ending a subscription reaches the channel and onError; subscribe() starts it again', async () => {
  const { client, engine } = await connected();
  const errors = [];
  client.onError((e) => errors.push(`client:${e.code}`));
  const ch = client.channel('chat:7').subscribe();
  ch.onError((e) => errors.push(`channel:${e.code}:${e.details.channel}`));
  engine.revoke('chat:7', 'room_left', 'you left');
  assert.deepEqual(errors, ['channel:room_left:chat:7', 'client:room_left']);
  ch.subscribe();
  assert.ok(engine.calls.some(([m]) => m === 'resubscribe'));
  assert.equal([...engine.channels.values()][0].revoked, false);
});

test('a throwing listener is reported and the others still run', async () => {
  const { client, engine } = await connected();
  const errors = [];
  client.onError((e) => errors.push(e.code));
  const got = [];
  const ch = client.channel('room:1');
  ch.on('chat', () => {
    throw new Error('boom');
  });
  ch.on('chat', (m) => got.push(m.payload));
  engine.deliver('room:1', 'chat', '1');
  assert.deepEqual(got, [1]);
  assert.deepEqual(errors, ['listener_threw']);
  assert.equal(client.getMetrics().listenerErrors, 1);
});

test('close() rejects what waits and deletes the engine', async () => {
  const { client, engine } = await connected();
  const pending = client.send('room:1', 'chat', 1);
  client.close();
  await assert.rejects(pending, (e) => e.code === 'client_closed');
  await Promise.resolve();
  assert.equal(engine.deleted, true);
  assert.equal(env.fake.liveObjects(), 0);
});
