// Every object a tidewire/react hook returns works from the first render (issue #13): each component below calls
// its hook's action in the body of its first render, before any effect ran and before the client's socket is up
// (a fresh client: its wasm engine is not even attached). The store behind the hook is created during render
// without side effects; the action holds it online, and its request waits in the client's outbox until the
// connection is there. Real server, react-dom in jsdom, StrictMode.
//
//   node --test tests/react/hooks-first-render.test.mjs
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { consoleErrors, h, liveServer, mount, waitFor } from './helpers/env.mjs';

const { useRealtimePresence, useRealtimeSync, useChatRoom, useChatRooms, useRealtimeChannel } = await import('../../web/dist/react/index.js');

const TIMEOUT = 20000;
const { newClient, inProvider } = liveServer();

/**
 * Calls `action` once, in the first render's body (StrictMode renders twice: the second render does not call
 * it again), and records the client's state at that moment and how the promise settled.
 */
function firstRender(client, action) {
  const record = { calls: 0, stateAtCall: '', settled: undefined };
  record.call = () => {
    if (record.calls > 0) return;
    record.calls += 1;
    record.stateAtCall = client.state;
    record.promise = Promise.resolve()
      .then(() => action())
      .then(
        (value) => (record.settled = { ok: true, value }),
        (error) => (record.settled = { ok: false, error }),
      );
    // Synchronously: the action must not throw (it used to: "before the hook mounted").
  };
  return record;
}

async function settledOk(record, label) {
  await waitFor(() => record.settled !== undefined, 10000, `${label} to settle`);
  assert.equal(record.settled.ok, true, `${label}: ${record.settled.error?.message}`);
  assert.notEqual(record.stateAtCall, 'connected', `${label} was called before the socket was up`);
  return record.settled.value;
}

describe('hooks: actions from the first render', () => {
  test('useRealtimePresence: updateStatus() in the first render reaches the others', { timeout: TIMEOUT }, async () => {
    const ann = newClient('ann');
    const bob = newClient('bob');
    let updateStatus;
    const record = firstRender(ann, () => updateStatus('busy'));
    function Who() {
      const presence = useRealtimePresence({ channel: 'first:presence', user: { id: 'ann', name: 'Ann' } });
      updateStatus = presence.updateStatus;
      record.call();
      return h('span', { id: 'count' }, String(presence.onlineCount));
    }
    const view = mount(inProvider(ann, h(Who)));
    const watcher = bob.presence('first:presence', { status: 'online' });
    try {
      await settledOk(record, 'updateStatus');
      await waitFor(() => watcher.members.find((m) => m.userId === 'ann')?.status === 'busy', 5000, 'bob to see ann busy');
    } finally {
      view.unmount();
      watcher.leave();
    }
  });

  test('useRealtimeSync: insert() in the first render is stored and rendered', { timeout: TIMEOUT }, async () => {
    const cara = newClient('cara');
    let insert;
    const record = firstRender(cara, () => insert({ title: 'from the first render' }));
    function Tasks() {
      const sync = useRealtimeSync({ channel: 'first:sync', resource: 'task' });
      insert = sync.insert;
      record.call();
      return h('ul', { id: 'tasks' }, sync.data.map((t) => h('li', { key: t.id, 'data-pending': String(!!t.pending) }, t.title)));
    }
    const view = mount(inProvider(cara, h(Tasks)));
    try {
      const item = await settledOk(record, 'insert');
      assert.match(item.id, /^\d+$/, 'resolves with the item as the server stored it');
      await waitFor(
        () => view.$$('#tasks li').some((li) => li.textContent === 'from the first render' && li.dataset.pending === 'false'),
        5000,
        'the stored item to render',
      );
    } finally {
      view.unmount();
    }
  });

  test('useChatRoom: send() in the first render is delivered once', { timeout: TIMEOUT }, async () => {
    const dana = newClient('dana');
    const room = await newClient('erin').chat.createRoom('first-render', { visibility: 'private', participants: ['dana'] });
    let send;
    const record = firstRender(dana, () => send('hello from the first render'));
    function Room() {
      const chat = useChatRoom(room.id);
      send = chat.send;
      record.call();
      return h('ul', { id: 'messages' }, chat.messages.map((m) => h('li', { key: m.id, 'data-status': m.status ?? 'stored' }, m.text)));
    }
    const view = mount(inProvider(dana, h(Room)));
    try {
      const message = await settledOk(record, 'send');
      assert.equal(message.text, 'hello from the first render');
      await waitFor(
        () => view.$$('#messages li').filter((li) => li.dataset.status === 'stored').length === 1,
        5000,
        'the stored message to render once',
      );
      const history = await dana.request('chat_history', { roomId: room.id, limit: 10 });
      assert.equal(history.messages.filter((m) => m.text === 'hello from the first render').length, 1, 'stored once');
    } finally {
      view.unmount();
    }
  });

  test('useChatRooms: createRoom() in the first render shows the room', { timeout: TIMEOUT }, async () => {
    const finn = newClient('finn');
    let createRoom;
    const record = firstRender(finn, () => createRoom('made in the first render'));
    function Rooms() {
      const list = useChatRooms();
      createRoom = list.createRoom;
      record.call();
      return h('ul', { id: 'rooms' }, list.rooms.map((r) => h('li', { key: r.id }, r.name)));
    }
    const view = mount(inProvider(finn, h(Rooms)));
    try {
      const room = await settledOk(record, 'createRoom');
      assert.equal(room.name, 'made in the first render');
      await waitFor(() => view.$$('#rooms li').some((li) => li.textContent === 'made in the first render'), 5000, 'the room to render');
    } finally {
      view.unmount();
    }
  });

  test('useRealtimeChannel: send() in the first render is acknowledged and delivered', { timeout: TIMEOUT }, async () => {
    const gail = newClient('gail');
    const seen = [];
    let send;
    const record = firstRender(gail, () => send('note', { text: 'first' }));
    function Notes() {
      const channel = useRealtimeChannel({ channel: 'first:channel', events: { note: (p) => seen.push(p.text) } });
      send = channel.send;
      record.call();
      return h('span', { id: 'subscribed' }, String(channel.subscribed));
    }
    const view = mount(inProvider(gail, h(Notes)));
    try {
      const ack = await settledOk(record, 'send');
      assert.ok(ack.offset >= 1, 'acknowledged by the server');
      await waitFor(() => view.$('#subscribed')?.textContent === 'true', 5000, 'subscribed to render');
    } finally {
      view.unmount();
    }
  });
});

describe('console', () => {
  test('React and tidewire logged no errors', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
