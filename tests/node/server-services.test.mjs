// Presence, chat and data sync (docs/PROTOCOL.md sections 10-12) over the wire, with two raw `ws` clients
// against the real server binary, once with chat and sync in SQLite (in memory) and once in Postgres (#16).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from './helpers/server.mjs';
import { storeBackends } from './helpers/store-backends.mjs';
import { connectAuthed } from '../support/raw-client.mjs';

const stores = storeBackends();

for (const backend of stores.names) {
  describe(`tidewire-server services (${backend})`, () => {
    let server;
    before(async () => {
      server = await startServer({ args: await stores.serverArgs(backend) });
    });
    after(() => server.stop());

    const subscribe = async (c, channel) => {
      c.send({ type: 'subscribe', channel, ref: `sub-${channel}` });
      return c.nextOfType('subscribed', { ref: `sub-${channel}` });
    };

    test('presence: join is replied with the members and diffed to subscribers; a leave follows the grace', async () => {
      const alice = await connectAuthed(server, 'p-alice');
      const bob = await connectAuthed(server, 'p-bob');
      await subscribe(alice, 'room:pres');
      await subscribe(bob, 'room:pres');
      alice.send({ type: 'presence_join', channel: 'room:pres', status: 'away', info: { name: 'Alice' }, ref: 'j' });
      const joined = await alice.nextOfType('reply', { ref: 'j' });
      assert.ok(joined.data.members.some((m) => m.userId === 'p-alice' && m.status === 'away'));
      const diff = await bob.nextOfType('presence_diff');
      assert.equal(diff.channel, 'room:pres');
      assert.equal(diff.joins[0].userId, 'p-alice');
      assert.deepEqual(diff.joins[0].info, { name: 'Alice' });
      bob.send({ type: 'presence_get', channel: 'room:pres', ref: 'g' });
      const got = await bob.nextOfType('reply', { ref: 'g' });
      assert.deepEqual(got.data.members.map((m) => m.userId), ['p-alice']);
      await alice.close(); // the last connection leaves: after the grace period, one leave
      const left = await bob.next((m) => m.type === 'presence_diff' && m.leaves?.length > 0, 'a leave', 6000);
      assert.deepEqual(left.leaves, [{ userId: 'p-alice' }]);
      bob.send({ type: 'presence_join', channel: 'room:unsubscribed', ref: 'x' });
      assert.equal((await bob.nextOfType('error', { ref: 'x' })).code, 'not_subscribed');
      await bob.close();
    });

    test('chat: a room, a message broadcast on chat:<roomId>, history, and participants-only subscription', async () => {
      const alice = await connectAuthed(server, 'c-alice');
      const bob = await connectAuthed(server, 'c-bob');
      const eve = await connectAuthed(server, 'c-eve');
      alice.send({ type: 'chat_create_room', name: 'Lobby', visibility: 'private', participants: ['c-bob'], ref: 'c' });
      const { room } = (await alice.nextOfType('reply', { ref: 'c' })).data;
      assert.equal(room.name, 'Lobby');
      const channel = `chat:${room.id}`;
      await subscribe(bob, channel);
      eve.send({ type: 'subscribe', channel, ref: 'e' });
      assert.equal((await eve.nextOfType('error', { ref: 'e' })).code, 'forbidden');
      alice.send({ type: 'chat_send', roomId: room.id, text: 'hello bob', id: 'k1', ref: 's' });
      const sent = (await alice.nextOfType('reply', { ref: 's' })).data.message;
      assert.equal(sent.text, 'hello bob');
      const live = await bob.nextOfType('channel_message');
      assert.equal(live.channel, channel);
      assert.equal(live.event, 'message');
      assert.equal(live.payload.text ?? live.payload.message?.text, 'hello bob');
      assert.match(live.epoch, /^e-/);
      // The client id travels with the stored message (reply, event, history): the sender's tab settles its
      // pending copy by it whichever arrives first.
      assert.equal(sent.clientId, 'k1');
      assert.equal(live.payload.clientId, 'k1');
      bob.send({ type: 'chat_history', roomId: room.id, ref: 'h' });
      const history = (await bob.nextOfType('reply', { ref: 'h' })).data;
      assert.deepEqual(history.messages.map((m) => m.text), ['hello bob']);
      assert.equal(history.messages[0].clientId, 'k1');
      bob.send({ type: 'channel_message', channel, event: 'message', payload: {}, ref: 'direct' });
      assert.equal((await bob.nextOfType('error', { ref: 'direct' })).code, 'forbidden');
      eve.send({ type: 'chat_history', roomId: room.id, ref: 'eh' });
      assert.equal((await eve.nextOfType('error', { ref: 'eh' })).type, 'error');
      await Promise.all([alice.close(), bob.close(), eve.close()]);
    });

    test('sync: insert and update reach subscribers; a stale version is refused with the current item', async () => {
      const alice = await connectAuthed(server, 's-alice');
      const bob = await connectAuthed(server, 's-bob');
      await subscribe(alice, 'doc:1');
      await subscribe(bob, 'doc:1');
      alice.send({ type: 'sync_insert', channel: 'doc:1', resource: 'todos', data: { title: 'a' }, ref: 'i' });
      const { item } = (await alice.nextOfType('reply', { ref: 'i' })).data;
      assert.equal(item.version, 1);
      const inserted = await bob.nextOfType('channel_message');
      assert.equal(inserted.event, 'sync_insert');
      assert.deepEqual(inserted.payload.item.data, { title: 'a' });
      bob.send({ type: 'sync_update', channel: 'doc:1', resource: 'todos', id: item.id, version: 1, data: { done: true }, ref: 'u' });
      assert.equal((await bob.nextOfType('reply', { ref: 'u' })).data.item.version, 2);
      alice.send({ type: 'sync_update', channel: 'doc:1', resource: 'todos', id: item.id, version: 1, data: { done: false }, ref: 'stale' });
      const conflict = await alice.nextOfType('error', { ref: 'stale' });
      assert.equal(conflict.code, 'version_conflict');
      assert.equal(conflict.current.version, 2);
      bob.send({ type: 'sync_snapshot', channel: 'doc:1', resource: 'todos', ref: 'n' });
      const snap = (await bob.nextOfType('reply', { ref: 'n' })).data.items;
      assert.deepEqual(snap.map((x) => [x.id, x.version, x.data]), [[item.id, 2, { title: 'a', done: true }]]);
      await Promise.all([alice.close(), bob.close()]);
    });
  });

  // Issue #12 over the wire: access revocation with the `unsubscribed` push, chat_delete_room, the live room list on
  // user:<id>, history `after`, reactedBy, the text and id rules, publishing without subscribing, and chat:
  // channels refusing presence and sync.
  describe(`tidewire-server access and chat rules (${backend})`, () => {
    let server;
    before(async () => {
      server = await startServer({ args: await stores.serverArgs(backend) });
    });
    after(() => server.stop());

    let refs = 0;
    const request = async (c, msg) => {
      const ref = `q${++refs}`;
      c.send({ ...msg, ref });
      const answer = await c.next((m) => m.ref === ref, `the answer to ${msg.type}`);
      return answer.type === 'reply' ? answer.data : answer;
    };
    const subscribe = async (c, channel) => {
      const ref = `s${++refs}`;
      c.send({ type: 'subscribe', channel, ref });
      return c.next((m) => m.ref === ref, `the answer to subscribe ${channel}`);
    };
    const createRoom = async (c, participants) =>
      (await request(c, { type: 'chat_create_room', name: 'Team', visibility: 'private', participants })).room.id;
    // Nothing more of `pred` arrives within a short while (the server answers a ping after anything queued before).
    const nothingMore = async (c, pred) => {
      const ref = `p${++refs}`;
      c.send({ type: 'ping', ref });
      await c.nextOfType('pong', { ref });
      assert.equal(c.inbox.filter(pred).length, 0, JSON.stringify(c.inbox.filter(pred)));
    };

    test('chat_leave ends the room subscription on every connection of that user, with reason room_left', async () => {
      const alice = await connectAuthed(server, 'rv-alice');
      const bob1 = await connectAuthed(server, 'rv-bob');
      const bob2 = await connectAuthed(server, 'rv-bob');
      const roomId = await createRoom(alice, ['rv-bob']);
      const channel = `chat:${roomId}`;
      for (const c of [alice, bob1, bob2]) assert.equal((await subscribe(c, channel)).type, 'subscribed');
      await request(bob1, { type: 'chat_leave', roomId });
      for (const c of [bob1, bob2]) {
        const pushed = await c.nextOfType('unsubscribed', { channel });
        assert.equal(pushed.reason, 'room_left');
        assert.equal(typeof pushed.message, 'string');
        assert.equal('ref' in pushed, false);
        // member_left came before the push; nothing of the room may follow it.
        assert.ok(c.inbox.some((m) => m.event === 'member_left'));
        c.inbox.length = 0;
      }
      await request(alice, { type: 'chat_send', roomId, text: 'bob is gone' });
      await alice.next((m) => m.type === 'channel_message' && m.payload.text === 'bob is gone', 'her own message');
      for (const c of [bob1, bob2]) await nothingMore(c, (m) => m.type === 'channel_message' && m.channel === channel);
      assert.equal((await subscribe(bob2, channel)).code, 'forbidden');
      await Promise.all([alice.close(), bob1.close(), bob2.close()]);
    });

    test('a token refresh that narrows channels ends the now-forbidden subscriptions; presence and sync there are refused', async () => {
      const alice = await connectAuthed(server, 'rf-alice', { claims: { channels: ['room:*'] } });
      const bob = await connectAuthed(server, 'rf-bob');
      for (const ch of ['room:rf-a', 'room:rf-b']) assert.equal((await subscribe(alice, ch)).type, 'subscribed');
      await subscribe(bob, 'room:rf-b');
      assert.ok((await request(alice, { type: 'presence_join', channel: 'room:rf-b' })).members);
      alice.send({ type: 'auth', token: server.token('rf-alice', { channels: ['room:rf-a'] }), ref: 'refresh' });
      await alice.nextOfType('auth_refreshed', { ref: 'refresh' });
      const pushed = await alice.nextOfType('unsubscribed', { channel: 'room:rf-b' });
      assert.equal(pushed.reason, 'access_revoked');
      assert.equal((await request(alice, { type: 'presence_join', channel: 'room:rf-b' })).code, 'forbidden');
      assert.equal(
        (await request(alice, { type: 'sync_insert', channel: 'room:rf-b', resource: 't', data: {} })).code,
        'forbidden',
      );
      assert.equal(
        (await request(alice, { type: 'channel_message', channel: 'room:rf-b', event: 'e', payload: 1 })).code,
        'forbidden',
      );
      bob.send({ type: 'channel_message', channel: 'room:rf-b', event: 'e', payload: 'after', ref: 'b' });
      await bob.nextOfType('ack', { ref: 'b' });
      await nothingMore(alice, (m) => m.type === 'channel_message' && m.channel === 'room:rf-b');
      const ack = await request(alice, { type: 'channel_message', channel: 'room:rf-a', event: 'e', payload: 1 });
      assert.equal(ack.type, 'ack');
      await Promise.all([alice.close(), bob.close()]);
    });

    test('chat_delete_room: the creator only, not a DM; every subscriber gets room_deleted then unsubscribed', async () => {
      const alice = await connectAuthed(server, 'dl-alice');
      const bob = await connectAuthed(server, 'dl-bob');
      const roomId = await createRoom(alice, ['dl-bob']);
      const channel = `chat:${roomId}`;
      await subscribe(alice, channel);
      await subscribe(bob, channel);
      await subscribe(bob, 'user:dl-bob');
      assert.equal((await request(bob, { type: 'chat_delete_room', roomId })).code, 'forbidden');
      assert.deepEqual(await request(alice, { type: 'chat_delete_room', roomId }), { roomId });
      const event = await bob.next((m) => m.type === 'channel_message' && m.channel === channel, 'room_deleted');
      assert.equal(event.event, 'room_deleted');
      assert.deepEqual(event.payload, { roomId });
      assert.equal((await bob.nextOfType('unsubscribed', { channel })).reason, 'room_deleted');
      assert.equal((await alice.nextOfType('unsubscribed', { channel })).reason, 'room_deleted');
      const removed = await bob.next((m) => m.channel === 'user:dl-bob' && m.event === 'room_removed', 'room_removed');
      assert.deepEqual(removed.payload, { roomId, reason: 'room_deleted' });
      assert.equal((await request(bob, { type: 'chat_history', roomId })).code, 'not_found');
      const dm = (await request(alice, { type: 'chat_open_dm', userId: 'dl-bob' })).room.id;
      assert.equal((await request(alice, { type: 'chat_delete_room', roomId: dm })).code, 'bad_request');
      await Promise.all([alice.close(), bob.close()]);
    });

    test('the room list is pushed on user:<id>: created, new message with unread counts, read marker, left', async () => {
      const alice = await connectAuthed(server, 'ls-alice');
      const bob = await connectAuthed(server, 'ls-bob');
      assert.equal((await subscribe(bob, 'user:ls-bob')).type, 'subscribed');
      assert.equal((await subscribe(alice, 'user:ls-bob')).code, 'forbidden');
      const roomPush = (pred, what) =>
        bob.next((m) => m.type === 'channel_message' && m.channel === 'user:ls-bob' && pred(m), what);
      const roomId = await createRoom(alice, ['ls-bob']);
      const created = await roomPush((m) => m.event === 'room', 'room created');
      assert.equal(created.from, '');
      assert.equal(created.payload.room.id, roomId);
      assert.equal(created.payload.room.unreadCount, 0);
      const sent = (await request(alice, { type: 'chat_send', roomId, text: 'ping' })).message;
      const update = await roomPush((m) => m.payload.room?.lastMessage?.id === sent.id, 'new message');
      assert.equal(update.payload.room.unreadCount, 1);
      const listed = (await request(bob, { type: 'chat_list_rooms' })).rooms.find((r) => r.id === roomId);
      assert.deepEqual(update.payload.room, listed);
      await request(bob, { type: 'chat_mark_read', roomId, messageId: sent.id });
      assert.equal((await roomPush((m) => m.event === 'room', 'read marker')).payload.room.unreadCount, 0);
      await request(bob, { type: 'chat_leave', roomId });
      const removed = await roomPush((m) => m.event === 'room_removed', 'room_removed');
      assert.deepEqual(removed.payload, { roomId, reason: 'room_left' });
      // Through the hub: offsets count up and recovery replays what a reconnect missed.
      assert.ok(removed.offset > created.offset);
      await bob.close();
      const again = await connectAuthed(server, 'ls-bob');
      again.send({ type: 'subscribe', channel: 'user:ls-bob', since: { offset: created.offset, epoch: created.epoch }, ref: 'r' });
      const resumed = await again.nextOfType('subscribed', { ref: 'r' });
      assert.equal(resumed.recovered, true);
      const replayed = await again.next((m) => m.event === 'room_removed', 'the replayed room_removed');
      assert.equal(replayed.offset, removed.offset);
      await Promise.all([alice.close(), again.close()]);
    });

    test('history after, reactedBy with a toggle, emoji at most 32 bytes', async () => {
      const alice = await connectAuthed(server, 'hx-alice');
      const bob = await connectAuthed(server, 'hx-bob');
      const roomId = await createRoom(alice, ['hx-bob']);
      const ids = [];
      for (const text of ['one', 'two', 'three']) ids.push((await request(alice, { type: 'chat_send', roomId, text })).message.id);
      const page = await request(bob, { type: 'chat_history', roomId, after: ids[0], limit: 1 });
      assert.deepEqual(page.messages.map((m) => m.text), ['two']);
      assert.equal(page.hasMore, true);
      assert.equal((await request(bob, { type: 'chat_history', roomId, after: ids[0], before: ids[2] })).code, 'bad_request');
      const messageId = ids[2];
      await request(bob, { type: 'chat_react', roomId, messageId, emoji: '👍', add: true });
      const both = await request(alice, { type: 'chat_react', roomId, messageId, emoji: '👍', add: true });
      assert.deepEqual(both.reactedBy, { '👍': ['hx-alice', 'hx-bob'] });
      const toggled = await request(alice, { type: 'chat_react', roomId, messageId, emoji: '👍', add: false });
      assert.deepEqual(toggled.reactions, { '👍': 1 });
      assert.deepEqual(toggled.reactedBy, { '👍': ['hx-bob'] });
      const last = (await request(bob, { type: 'chat_history', roomId, limit: 1 })).messages[0];
      assert.deepEqual(last.reactedBy, { '👍': ['hx-bob'] });
      const big = await request(bob, { type: 'chat_react', roomId, messageId, emoji: 'e'.repeat(33), add: true });
      assert.equal(big.code, 'bad_request');
      await Promise.all([alice.close(), bob.close()]);
    });

    test('text: whitespace or zero-width only and over 4000 characters are refused, never cut; ids must be strings', async () => {
      const alice = await connectAuthed(server, 'tx-alice');
      const roomId = await createRoom(alice, []);
      for (const text of ['', '   ', '\u200b\u200d\ufeff', '\u00a0\u3000\n']) {
        const e = await request(alice, { type: 'chat_send', roomId, text });
        assert.equal(e.code, 'bad_request', JSON.stringify(text));
        assert.match(e.message, /whitespace/);
      }
      const pasted = await request(alice, { type: 'chat_send', roomId, text: 'x'.repeat(10000) });
      assert.equal(pasted.code, 'bad_request');
      assert.match(pasted.message, /10000 characters; the limit is 4000/);
      const max = '😀'.repeat(4000);
      assert.equal((await request(alice, { type: 'chat_send', roomId, text: max })).message.text, max);
      const history = await request(alice, { type: 'chat_history', roomId });
      assert.deepEqual(history.messages.map((m) => m.text.length), [8000]); // only the 4000-character one, whole
      for (const msg of [
        { type: 'chat_send', roomId: Number(roomId), text: 'x' },
        { type: 'chat_history', roomId, before: 5 },
        { type: 'chat_mark_read', roomId, messageId: 1 },
      ]) {
        const e = await request(alice, msg);
        assert.equal(e.code, 'bad_request', JSON.stringify(msg));
        assert.match(e.message, /must be a string of digits, like "12"/);
      }
      await subscribe(alice, 'doc:tx');
      const e = await request(alice, { type: 'sync_delete', channel: 'doc:tx', resource: 't', id: 1 });
      assert.equal(e.code, 'bad_request');
      assert.match(e.message, /id must be a string of digits/);
      await alice.close();
    });

    test('publishing without subscribing works where the access rules allow; chat: channels refuse presence and sync', async () => {
      const alice = await connectAuthed(server, 'pb-alice');
      const bob = await connectAuthed(server, 'pb-bob');
      await subscribe(bob, 'room:pb');
      const ack = await request(alice, { type: 'channel_message', channel: 'room:pb', event: 'note', payload: { n: 1 } });
      assert.equal(ack.type, 'ack');
      const got = await bob.nextOfType('channel_message', { channel: 'room:pb' });
      assert.deepEqual(got.payload, { n: 1 });
      assert.equal(got.offset, ack.offset);
      assert.equal((await request(alice, { type: 'channel_message', channel: 'user:pb-alice', event: 'e', payload: 1 })).type, 'ack');
      assert.equal((await request(alice, { type: 'channel_message', channel: 'user:pb-bob', event: 'e', payload: 1 })).code, 'forbidden');
      const roomId = await createRoom(alice, []);
      const channel = `chat:${roomId}`;
      await subscribe(alice, channel);
      assert.equal((await request(alice, { type: 'channel_message', channel, event: 'e', payload: 1 })).code, 'forbidden');
      assert.equal((await request(alice, { type: 'presence_join', channel })).code, 'forbidden');
      const insert = await request(alice, { type: 'sync_insert', channel, resource: 't', data: { x: 1 } });
      assert.equal(insert.code, 'forbidden');
      assert.match(insert.message, /chat/);
      await nothingMore(alice, (m) => m.type === 'channel_message' && m.channel === channel);
      await Promise.all([alice.close(), bob.close()]);
    });
  });
}
