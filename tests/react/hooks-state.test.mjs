// tidewire/react state hooks against the real server (docs/PROTOCOL.md sections 10-12), rendered by react-dom
// in jsdom under StrictMode: useRealtimePresence, useRealtimeSync, useChatRoom and useChatRooms. Each renders
// from the client's state objects through useSyncExternalStore; bursts of 200 changes must all land.
//
//   node --test tests/react/hooks-state.test.mjs
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { consoleErrors, h, liveServer, mount, waitFor } from './helpers/env.mjs';

const { useRealtimePresence, useRealtimeSync, useChatRoom, useChatRooms } = await import('../../web/dist/react/index.js');

const TIMEOUT = 30000;
const { newClient, inProvider } = liveServer();

describe('useRealtimePresence', () => {
  test('two users see each other with names and statuses; updateStatus; leave on unmount; one socket each', { timeout: TIMEOUT }, async () => {
    const alice = newClient('alice');
    const bob = newClient('bob');
    const api = {};
    function Who({ me, name, extra }) {
      const { users, onlineCount, updateStatus } = useRealtimePresence({
        channel: 'doc:1',
        user: { id: me, name, ...extra },
      });
      api[me] = { updateStatus };
      return h(
        'div',
        { id: `who-${me}`, 'data-count': String(onlineCount) },
        users.map((u) => h('span', { key: u.id, className: 'u', 'data-id': u.id, 'data-status': u.status }, `${u.name}${u.role ? `/${u.role}` : ''}`)),
      );
    }
    const a = mount(inProvider(alice, h(Who, { me: 'alice', name: 'Alice', extra: { role: 'editor' } })));
    const b = mount(inProvider(bob, h(Who, { me: 'bob', name: 'Bob' })));
    const names = (view, me) => view.$$(`#who-${me} .u`).map((el) => el.textContent).sort();
    try {
      await waitFor(() => a.$('#who-alice')?.dataset.count === '2', 5000, 'alice to see 2 members');
      await waitFor(() => b.$('#who-bob')?.dataset.count === '2', 5000, 'bob to see 2 members');
      assert.deepEqual(names(a, 'alice'), ['Alice/editor', 'Bob'], 'users carry name and the other info fields');
      assert.deepEqual(names(b, 'bob'), ['Alice/editor', 'Bob']);
      assert.equal(alice.getMetrics().connectionAttempts, 1, 'StrictMode: one socket');
      assert.equal(alice.getMetrics().subscriberCount, 1, 'StrictMode: the presence was not joined twice');

      await api.bob.updateStatus('away');
      await waitFor(() => a.$('#who-alice [data-id="bob"]')?.dataset.status === 'away', 5000, 'alice to see bob away');

      b.unmount();
      await waitFor(() => bob.getMetrics().subscriberCount === 0, 2000, 'bob released');
      await waitFor(() => a.$('#who-alice').dataset.count === '1', 8000, 'alice to see bob leave');
      assert.deepEqual(names(a, 'alice'), ['Alice/editor']);
    } finally {
      a.unmount();
      b.unmount();
    }
    await waitFor(() => alice.getMetrics().subscriberCount === 0, 2000, 'alice released on unmount');
  });
});

describe('useRealtimeSync', () => {
  test('initialData until the snapshot; optimistic insert/update/remove; other clients\' changes reach the latest callbacks', { timeout: TIMEOUT }, async () => {
    const carol = newClient('carol');
    const dave = newClient('dave');
    const other = dave.sync('tasks', 'task');
    const calls = [];
    const api = {};
    const shown = []; // what each render showed
    function Tasks({ tag }) {
      const { data, insert, update, remove } = useRealtimeSync({
        channel: 'tasks',
        resource: 'task',
        initialData: [{ id: 'placeholder', title: 'Loading…' }],
        onInsert: (t) => calls.push(`${tag}:insert:${t.title}`),
        onUpdate: (t) => calls.push(`${tag}:update:${t.title}:${t.completed}`),
        onDelete: (id) => calls.push(`${tag}:delete:${typeof id}`),
      });
      Object.assign(api, { insert, update, remove });
      shown.push(data.map((t) => t.title).join(','));
      return h(
        'ul',
        { id: 'tasks' },
        data.map((t) =>
          h('li', { key: t.id, 'data-id': t.id, 'data-pending': String(Boolean(t.pending)) }, `${t.title}:${Boolean(t.completed)}`),
        ),
      );
    }
    const view = mount(inProvider(carol, h(Tasks, { tag: 'v1' })));
    const items = () => view.$$('#tasks li').map((li) => li.textContent);
    try {
      await waitFor(() => shown.length > 0 && items().length === 0, 5000, 'the (empty) snapshot to replace initialData');
      assert.equal(shown[0], 'Loading…', 'initialData rendered first, until the snapshot');

      const inserted = await api.insert({ title: 'write tests', completed: false });
      assert.equal(inserted.title, 'write tests');
      assert.equal(typeof inserted.id, 'string');
      await waitFor(() => items().includes('write tests:false'), 3000, 'the insert to render');
      assert.equal(view.$(`#tasks li[data-id="${inserted.id}"]`).dataset.pending, 'false', 'confirmed');

      await api.update(inserted.id, { completed: true });
      await waitFor(() => items().includes('write tests:true'), 3000, 'the update to render');

      // Another client's changes, with a re-rendered (new) callback set.
      view.render(inProvider(carol, h(Tasks, { tag: 'v2' })));
      const theirs = await other.insert({ title: 'from dave', completed: false });
      await waitFor(() => items().includes('from dave:false'), 3000, 'dave\'s insert to render');
      await other.update(theirs.id, { completed: true });
      await waitFor(() => items().includes('from dave:true'), 3000, 'dave\'s update to render');
      await other.remove(theirs.id);
      await waitFor(() => !items().some((i) => i.startsWith('from dave')), 3000, 'dave\'s delete to render');
      assert.ok(calls.includes('v2:insert:from dave'), calls.join(','));
      assert.ok(calls.includes('v2:update:from dave:true'), calls.join(','));
      assert.ok(calls.includes('v2:delete:string'), calls.join(','));
      assert.ok(!calls.some((c) => c.startsWith('v1:') && c.includes('from dave')), 'no stale callback ran');

      await api.remove(inserted.id);
      await waitFor(() => items().length === 0, 3000, 'our delete to render');
    } finally {
      view.unmount();
      other.close();
    }
    await waitFor(() => carol.getMetrics().subscriberCount === 0, 2000, 'released on unmount');
  });

  // Issue #12: the same tick from two users is no error; a real conflict is one plain message that can be dismissed.
  test('conflicts: an equal refused change stays quiet; a real one shows in `error` until dismissError()', { timeout: TIMEOUT }, async () => {
    const uma = newClient('uma');
    const vic = newClient('vic');
    const theirs = vic.sync('tasks:conflicts', 'task');
    const api = {};
    function Tasks() {
      const { data, update, error, dismissError } = useRealtimeSync({ channel: 'tasks:conflicts', resource: 'task' });
      Object.assign(api, { update, dismissError, data });
      return h('p', { id: 'sync', 'data-error': error ? error.message : '' }, data.map((t) => `${t.title}:${t.done}`).join(','));
    }
    const view = mount(inProvider(uma, h(Tasks)));
    const el = () => view.$('#sync');
    try {
      await theirs.whenLoaded();
      const item = await theirs.insert({ title: 'milk', done: false });
      // The item inserted while the hook's snapshot was on its way is not lost under it.
      await waitFor(() => el()?.textContent === 'milk:false', 5000, 'the item');
      const same = await Promise.allSettled([api.update(item.id, { done: true }), theirs.update(item.id, { done: true })]);
      assert.deepEqual(same.map((r) => r.status), ['fulfilled', 'fulfilled']);
      await waitFor(() => el().textContent === 'milk:true', 3000, 'ticked');
      assert.equal(el().dataset.error, '', 'no error for a change that is already stored');

      // uma edits offline against version 2 while vic's edit makes version 3: refused on reconnect.
      uma.disconnect();
      await waitFor(() => uma.state === 'disconnected', 3000, 'uma offline');
      const mine = api.update(item.id, { title: 'oat milk' });
      await theirs.update(item.id, { title: 'soy milk' });
      uma.connect();
      await assert.rejects(mine, (e) => e.code === 'version_conflict');
      await waitFor(() => /Someone else changed this item/.test(el().dataset.error), 3000, 'a plain message');
      await waitFor(() => el().textContent === 'soy milk:true', 3000, 'their version is shown');
      api.dismissError();
      await waitFor(() => el().dataset.error === '', 3000, 'dismissed');
    } finally {
      view.unmount();
      theirs.close();
    }
  });

  test('a burst of 200 inserts from another client: 200 onInsert calls, and the list renders all 200', { timeout: TIMEOUT }, async () => {
    const erin = newClient('erin');
    const frank = newClient('frank');
    const other = frank.sync('burst', 'item');
    let inserts = 0;
    let renders = 0;
    function List() {
      const { data } = useRealtimeSync({ channel: 'burst', resource: 'item', onInsert: () => (inserts += 1) });
      renders += 1;
      return h('p', { id: 'n' }, String(data.length));
    }
    const view = mount(inProvider(erin, h(List)));
    try {
      await waitFor(() => erin.getMetrics().state === 'connected' && view.$('#n')?.textContent === '0', 5000);
      await new Promise((r) => setTimeout(r, 200)); // the snapshot is in
      const before = renders;
      await Promise.all(Array.from({ length: 200 }, (_, n) => other.insert({ n })));
      await waitFor(() => view.$('#n').textContent === '200', 10000, '200 items to render');
      await waitFor(() => inserts === 200, 3000, `200 onInsert calls (got ${inserts})`);
      console.log(`# sync burst: 200 inserts, ${renders - before} renders`);
    } finally {
      view.unmount();
      other.close();
    }
  });
});

describe('useChatRoom and useChatRooms', () => {
  test('rooms, messages, typing, reactions, paging with loadOlder, markRead; a 200-message burst', { timeout: TIMEOUT }, async () => {
    const gina = newClient('gina');
    const hank = newClient('hank');
    // hank's room, with gina invited, and 60 messages of history.
    const room = await hank.chat.createRoom('planning', { visibility: 'private', participants: ['gina'] });
    for (let i = 1; i <= 60; i += 1) await hank.request('chat_send', { roomId: room.id, text: `old ${i}` });
    const api = {};
    function Rooms() {
      const { rooms, createRoom, openDm, refresh } = useChatRooms();
      Object.assign(api, { createRoom, openDm, refresh });
      return h(
        'ul',
        { id: 'rooms' },
        rooms.map((r) => h('li', { key: r.id, 'data-unread': String(r.unreadCount ?? 0) }, `${r.name}|${r.lastMessage?.text ?? ''}`)),
      );
    }
    function Room({ roomId }) {
      const { messages, typingUsers, hasMore, loadOlder, send, react, setTyping, markRead } = useChatRoom(roomId);
      Object.assign(api, { loadOlder, send, react, setTyping, markRead, messages });
      return h(
        'div',
        { id: 'room', 'data-count': String(messages.length), 'data-more': String(hasMore), 'data-typing': typingUsers.join(',') },
        messages.length > 0 ? h('span', { id: 'last' }, messages[messages.length - 1].text) : null,
        messages.length > 0 ? h('span', { id: 'first' }, messages[0].text) : null,
      );
    }
    const view = mount(inProvider(gina, h('div', null, h(Rooms), h(Room, { roomId: room.id }))));
    const roomEl = () => view.$('#room');
    try {
      await waitFor(() => view.$$('#rooms li').some((li) => li.textContent === 'planning|old 60'), 5000, 'the room list');
      assert.equal(view.$('#rooms li').dataset.unread, '60');

      await waitFor(() => roomEl()?.dataset.count === '50', 5000, 'the first page (50)');
      assert.equal(roomEl().dataset.more, 'true');
      assert.equal(view.$('#first').textContent, 'old 11');
      const more = await api.loadOlder();
      assert.equal(more, false);
      await waitFor(() => roomEl().dataset.count === '60' && roomEl().dataset.more === 'false', 3000, 'all 60 after loadOlder');
      assert.equal(view.$('#first').textContent, 'old 1');

      // Live: hank types, sends; gina reacts and replies.
      const hankRoom = hank.chat.room(room.id);
      await hank.channel(`chat:${room.id}`).whenSubscribed();
      hankRoom.setTyping(true);
      await waitFor(() => roomEl().dataset.typing === 'hank', 3000, 'hank typing');
      await hankRoom.send('hello gina');
      await waitFor(() => view.$('#last').textContent === 'hello gina', 3000, 'hank\'s message');
      hankRoom.setTyping(false);
      await waitFor(() => roomEl().dataset.typing === '', 3000, 'typing ended');
      const last = api.messages[api.messages.length - 1];
      await api.react(last.id, '👍');
      await waitFor(() => hankRoom.snapshot.messages.at(-1)?.reactions['👍'] === 1, 3000, 'the reaction to reach hank');
      await waitFor(() => api.messages.at(-1).reactions['👍'] === 1, 3000, 'the reaction to render for gina');
      await api.send('hi hank');
      await waitFor(() => view.$('#last').textContent === 'hi hank', 3000, 'gina\'s own message');

      await api.markRead(api.messages.at(-1).id);
      await api.refresh();
      await waitFor(() => view.$$('#rooms li').some((li) => li.textContent === 'planning|hi hank' && li.dataset.unread === '0'), 3000, 'read');

      // createRoom / openDm refresh the list.
      await api.createRoom('random');
      await api.openDm('hank');
      await waitFor(() => view.$$('#rooms li').length === 3, 3000, 'three rooms');

      // A burst of 200 messages from hank: all of them render.
      await Promise.all(Array.from({ length: 200 }, (_, i) => hank.request('chat_send', { roomId: room.id, text: `burst ${i + 1}` })));
      await waitFor(() => roomEl().dataset.count === String(62 + 200), 10000, 'all 262 messages');
      assert.equal(view.$('#last').textContent, 'burst 200');
      hankRoom.close();
    } finally {
      view.unmount();
    }
    await waitFor(() => gina.getMetrics().subscriberCount === 0, 2000, 'released on unmount');
  });
});

// Issue #12: the room list is live. The server pushes each change of this user's rooms on `user:<me>`; the hook
// applies it at once, with no poll and no refetch (counted: no chat_list_rooms after the first list).
describe('useChatRooms: live room list', () => {
  test('a DM opened by another user, a message in another room (unread count and preview), a deleted room: at once, no polling', { timeout: TIMEOUT }, async () => {
    const kim = newClient('kim');
    const leo = newClient('leo');
    const lists = [];
    const request = kim.request.bind(kim);
    kim.request = (type, ...rest) => {
      if (type === 'chat_list_rooms') lists.push(Date.now());
      return request(type, ...rest);
    };
    function List() {
      const { rooms, loading } = useChatRooms();
      return h(
        'ul',
        { id: 'list', 'data-loading': String(loading) },
        rooms.map((r) =>
          h('li', { key: r.id, 'data-unread': String(r.unreadCount ?? 0) }, `${r.participants.join('+')}|${r.lastMessage?.text ?? ''}`),
        ),
      );
    }
    const general = await leo.chat.createRoom('general', { participants: ['kim'] });
    const view = mount(inProvider(kim, h(List)));
    const items = () => view.$$('#list li').map((li) => `${li.textContent}#${li.dataset.unread}`);
    try {
      await waitFor(() => view.$('#list')?.dataset.loading === 'false', 5000, 'the first list');
      await waitFor(() => kim.getMetrics().subscriberCount > 0 && items().length === 1, 5000, 'subscribed to user:kim');
      await new Promise((r) => setTimeout(r, 100)); // the subscription's own refetch settles
      const fetched = lists.length;

      const dm = await leo.chat.openDm('kim');
      await waitFor(() => items().length === 2, 3000, 'the DM in the list');
      await leo.request('chat_send', { roomId: general.id, text: 'in general' });
      await waitFor(() => items()[0] === 'kim+leo|in general#1', 3000, 'unread count and preview of the other room, first in the list');
      await leo.request('chat_send', { roomId: general.id, text: 'again' });
      await waitFor(() => items()[0] === 'kim+leo|again#2', 3000, 'the count goes up');
      await leo.request('chat_send', { roomId: dm.id, text: 'psst' });
      await waitFor(() => items()[0].endsWith('|psst#1'), 3000, 'the DM moves up with its message');
      await leo.chat.deleteRoom(general.id);
      await waitFor(() => items().length === 1, 3000, 'the deleted room leaves the list');
      assert.equal(lists.length, fetched, 'every change came by push: no chat_list_rooms after the first list');
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
