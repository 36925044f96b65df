// Presence, chat and data sync (docs/PROTOCOL.md sections 10-12) over the wire, with two raw `ws` clients
// against the real server binary (databases in memory).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { connectAuthed, startServer } from './helpers/server.mjs';

describe('tidewire-server services', () => {
  let server;
  before(async () => {
    server = await startServer();
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
    bob.send({ type: 'chat_history', roomId: room.id, ref: 'h' });
    const history = (await bob.nextOfType('reply', { ref: 'h' })).data;
    assert.deepEqual(history.messages.map((m) => m.text), ['hello bob']);
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
