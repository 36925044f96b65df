// The live-state stores (web/src/store.ts, channel_store.ts) over a fake client and the real state module: the
// lifecycle (online with the first hold, offline a grace period after the last, on a mock clock), referentially
// stable snapshots, actions before any listener, and how often each update is parsed and serialized.
//
// Parse and serialize counts per update (issue #13 asked to measure them). Before the stores, every update was
// parsed three times and serialized twice: a presence diff was JSON.parse'd in TS (to read its type), parsed again
// by the state module, and the member list was dumped by the module and JSON.parse'd back after every update; a
// sync event's item was JSON.stringify'd, parsed by the module, and the whole list dumped and re-parsed after
// every event. Now an update is parsed once, by the state module (a presence message goes in as the server's
// text; a sync item is stringified once because the client hands channel payloads to listeners already parsed),
// and the snapshot is dumped and parsed once per read (getSnapshot after a change: once per render), not once
// per update.
//
//   node --test tests/node/state-stores.test.mjs
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';

const { Presence, SyncCollection, loadStateModule } = await import('../../web/dist/index.js');

const GRACE_MS = 1000;

/** A client with just what the stores use; `emit*` feed it server traffic, `requests` records what was asked. */
function fakeClient() {
  const channels = new Map(); // name -> {refs, events: Map<event, Set<handler>>, subscribed: Set, presence: Set}
  const stateListeners = new Set();
  const c = {
    options: {},
    graceMs: GRACE_MS,
    userId: 'me',
    isConnected: true,
    requests: [],
    replies: {},
    entry(name) {
      let e = channels.get(name);
      if (!e) channels.set(name, (e = { refs: 0, events: new Map(), subscribed: new Set(), presence: new Set() }));
      return e;
    },
    refs: (name) => channels.get(name)?.refs ?? 0,
    channel(name) {
      const e = c.entry(name);
      let mine = false;
      const offs = [];
      const add = (set, l) => {
        set.add(l);
        const off = () => set.delete(l);
        offs.push(off);
        return off;
      };
      return {
        subscribe() {
          if (!mine) e.refs += 1;
          mine = true;
          return this;
        },
        unsubscribe() {
          if (mine) e.refs -= 1;
          mine = false;
          for (const off of offs) off();
        },
        on(event, h) {
          if (!e.events.has(event)) e.events.set(event, new Set());
          return add(e.events.get(event), h);
        },
        onSubscribed: (l) => add(e.subscribed, l),
        onGap: () => () => undefined,
        onError: () => () => undefined,
      };
    },
    _stateModule: () => loadStateModule(),
    _onPresenceDiff: (name, l) => {
      const set = c.entry(name).presence;
      set.add(l);
      return () => set.delete(l);
    },
    onStateChange: (l) => (stateListeners.add(l), () => stateListeners.delete(l)),
    request(type, body, options = {}) {
      c.requests.push({ type, body });
      options.onQueued?.(c.requests.length);
      return Promise.resolve(c.replies[type]?.(body) ?? {});
    },
    notify: () => true,
    emitSubscribed: (name) => [...c.entry(name).subscribed].forEach((l) => l()),
    emitPresence: (name, text) => [...c.entry(name).presence].forEach((l) => l(text)),
    emitEvent: (name, event, payload) => [...(c.entry(name).events.get(event) ?? [])].forEach((h) => h({ channel: name, event, payload, ts: 1 })),
  };
  return c;
}

/** Counts JSON.parse / JSON.stringify calls made while `fn` runs. */
function countJson(fn) {
  const counts = { parse: 0, stringify: 0 };
  const { parse, stringify } = JSON;
  JSON.parse = (...a) => (counts.parse++, parse(...a));
  JSON.stringify = (...a) => (counts.stringify++, stringify(...a));
  try {
    fn();
  } finally {
    JSON.parse = parse;
    JSON.stringify = stringify;
  }
  return counts;
}

/** Wraps every method of a state container to count its calls by name. */
function countCalls(target) {
  const calls = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(target))) {
    if (name === 'constructor' || typeof target[name] !== 'function') continue;
    const original = target[name].bind(target);
    target[name] = (...a) => ((calls[name] = (calls[name] ?? 0) + 1), original(...a));
  }
  return calls;
}

const flush = () => new Promise((r) => setImmediate(r));

describe('stores', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('created without side effects; online with the first listener; offline a grace period after the last', async () => {
    const client = fakeClient();
    const presence = new Presence(client, 'room:1', { status: 'away' }, false);
    assert.equal(client.refs('room:1'), 0, 'creating it subscribes nothing');
    assert.equal(presence.online, false);

    const off1 = presence.subscribe(() => undefined);
    assert.equal(client.refs('room:1'), 1, 'the first listener subscribes the channel');
    off1();
    mock.timers.tick(GRACE_MS - 1);
    const off2 = presence.subscribe(() => undefined); // StrictMode's remount, a quick re-render
    mock.timers.tick(GRACE_MS);
    assert.equal(client.refs('room:1'), 1, 'a listener back within the grace period keeps the subscription');
    off2();
    mock.timers.tick(GRACE_MS - 1);
    assert.equal(client.refs('room:1'), 1, 'still online during the grace period');
    mock.timers.tick(1);
    assert.equal(client.refs('room:1'), 0, 'offline after it');
    assert.equal(presence.online, false);
  });

  test('the snapshot is the same object until something changed; presence updates are parsed once, in wasm', async () => {
    const client = fakeClient();
    client.replies.presence_join = () => ({ members: [{ userId: 'me', status: 'online', joinedAt: 1 }] });
    const presence = new Presence(client, 'room:2', {}, false);
    let notified = 0;
    const off = presence.subscribe(() => (notified += 1));
    await loadStateModule();
    await flush(); // the store has its container
    client.emitSubscribed('room:2');
    await flush();
    assert.deepEqual(client.requests.map((r) => r.type), ['presence_join']);
    const first = presence.getSnapshot();
    assert.equal(first.length, 1);
    assert.equal(presence.getSnapshot(), first, 'stable between changes');

    const wasm = countCalls(presence.state); // the WasmPresence container (a protected getter, readable from JS)
    const N = 100;
    const burst = countJson(() => {
      for (let i = 0; i < N; i += 1) {
        client.emitPresence('room:2', `{"type":"presence_diff","channel":"room:2","joins":[{"userId":"u${i}","joinedAt":${i + 2}}]}`);
      }
    });
    assert.deepEqual(burst, { parse: 0, stringify: 0 }, `${N} diffs: no JSON.parse or stringify in TS (only the module parses them)`);
    assert.equal(wasm.applyMessage, N, 'each diff goes to the module once, as text');
    assert.equal(wasm.members, undefined, 'the member list is not read per update');
    assert.ok(notified >= N, 'every change is notified');
    const read = countJson(() => presence.getSnapshot());
    assert.deepEqual(read, { parse: 1, stringify: 0 }, 'one read of the burst: one parse of the member list');
    assert.equal(wasm.members, 1, 'one dump of the member list per read');
    assert.equal(presence.getSnapshot().length, N + 1);
    assert.notEqual(presence.getSnapshot(), first, 'a new snapshot after changes');
    off();
    presence.close();
  });

  test('sync events: one stringify (the item) and one module parse each; the list is read once per getSnapshot', async () => {
    const client = fakeClient();
    client.replies.sync_snapshot = () => ({ items: [] });
    const sync = new SyncCollection(client, 'room:3', 'task', {}, false);
    const off = sync.subscribe(() => undefined);
    await loadStateModule();
    await flush();
    client.emitSubscribed('room:3');
    await flush();
    assert.equal(sync.getSnapshot().loaded, true);
    const N = 100;
    const burst = countJson(() => {
      for (let i = 0; i < N; i += 1) {
        client.emitEvent('room:3', 'sync_insert', { resource: 'task', item: { id: String(i + 1), version: 1, data: { n: i } } });
      }
    });
    assert.deepEqual(burst, { parse: 0, stringify: N }, 'per event: the item is stringified once, never parsed in TS');
    const read = countJson(() => sync.getSnapshot());
    assert.deepEqual(read, { parse: 1, stringify: 0 });
    assert.equal(sync.getSnapshot().items.length, N);
    off();
    sync.close();
  });

  test('an action before any listener brings the store online, waits for the module, and releases it after', async () => {
    const client = fakeClient();
    client.replies.sync_insert = (body) => ({ item: { id: '7', version: 1, data: body.data } });
    const sync = new SyncCollection(client, 'room:4', 'task', {}, false);
    const inserted = sync.insert({ title: 'early' }); // no listener yet: what a hook's first render does
    assert.equal(client.refs('room:4'), 1, 'online while the action runs');
    const item = await inserted;
    assert.equal(item.id, '7');
    assert.deepEqual(client.requests.map((r) => r.type), ['sync_insert']);
    mock.timers.tick(GRACE_MS);
    assert.equal(client.refs('room:4'), 0, 'released a grace period after the action settled');
    sync.close();
    await assert.rejects(sync.insert({ title: 'late' }), /was closed/, 'a closed store refuses actions with a clear message');
  });
});
