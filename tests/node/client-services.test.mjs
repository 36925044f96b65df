// Presence, data sync and chat through the wasm client's typed API, against the real server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createChatService, createClient } from '../../web/dist/index.js';
import { startServer } from './helpers/server.mjs';
import { waitFor } from './helpers/wait.mjs';

describe('presence, sync and chat over the wire', () => {
  let server;
  const clients = [];
  const client = (user) => {
    const c = createClient({ url: server.wsUrl, token: server.token(user) });
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

  test('presence: members from state and diffs, status updates, leave', async () => {
    const a = client('pa');
    const b = client('pb');
    const pa = a.presence('presence:room', { info: { name: 'Ann' } });
    await waitFor(() => pa.onlineCount === 1);
    const pb = b.presence('presence:room', { status: 'busy', info: { name: 'Bob' } });
    await waitFor(() => pa.onlineCount === 2 && pb.onlineCount === 2);
    assert.deepEqual(
      pa.members.map((m) => [m.userId, m.status, m.info.name]).sort(),
      [
        ['pa', 'online', 'Ann'],
        ['pb', 'busy', 'Bob'],
      ],
    );
    await pb.updateStatus('away');
    await waitFor(() => pa.members.find((m) => m.userId === 'pb')?.status === 'away');
    pb.leave();
    await waitFor(() => pa.onlineCount === 1, 8000); // after the server's leave grace period
    assert.equal(a.userId, 'pa');
    pa.leave();
  });

  test('sync: snapshot, optimistic changes, events from others, conflicts roll back', async () => {
    const a = client('sa');
    const b = client('sb');
    const inserted = [];
    const ta = a.sync('tasks:node', 'task');
    const tb = b.sync('tasks:node', 'task', { onInsert: (item) => inserted.push(item.data.title) });
    await Promise.all([ta.whenLoaded(), tb.whenLoaded()]);
    const item = await ta.insert({ title: 'write tests', done: false });
    assert.equal(item.version, 1);
    await waitFor(() => tb.items.length === 1);
    assert.deepEqual(inserted, ['write tests']);
    const updated = await tb.update(item.id, { done: true });
    assert.equal(updated.version, 2);
    await waitFor(() => ta.items[0]?.data.done === true);
    // A stale version is refused with the item as stored, which the client hands over as error details.
    await tb.update(item.id, { title: 'renamed' });
    await waitFor(() => ta.items[0]?.version === 3);
    await assert.rejects(
      a.request('sync_update', { channel: 'tasks:node', resource: 'task', id: item.id, version: 1, data: { done: false } }),
      (e) => e.code === 'version_conflict' && e.details?.current?.version === 3,
    );
    assert.equal(ta.items[0].data.done, true);
    await ta.remove(item.id);
    await waitFor(() => tb.items.length === 0 && ta.items.length === 0);
    ta.close();
    tb.close();
  });

  test('chat: rooms, messages with paging, typing, reactions, and the seeds chat service', async () => {
    const a = client('ca');
    const b = client('cb');
    const room = await a.chat.createRoom('node-room', { participants: ['cb'] });
    const ra = a.chat.room(room.id);
    const rb = b.chat.room(room.id);
    for (let i = 0; i < 3; i += 1) await ra.send(`hello ${i}`);
    await waitFor(() => rb.snapshot.messages.length === 3);
    assert.deepEqual(
      rb.snapshot.messages.map((m) => m.text),
      ['hello 0', 'hello 1', 'hello 2'],
    );
    rb.setTyping(true);
    await waitFor(() => ra.snapshot.typingUsers.includes('cb'));
    await ra.react(rb.snapshot.messages[0].id, '👍');
    await waitFor(() => rb.snapshot.messages[0].reactions?.['👍'] === 1);
    const rooms = await b.chat.listRooms();
    assert.ok(rooms.some((r) => r.id === room.id && r.unreadCount >= 0));

    const service = createChatService(b);
    const seen = [];
    const off = service.onMessage(room.id, (m) => seen.push(m.text));
    await service.subscribeToRoom(room.id);
    await service.sendMessage(room.id, 'via the service');
    await waitFor(() => seen.includes('via the service'));
    assert.equal(service.getConnectionStatus(), 'connected');
    off();
    service.unsubscribeFromRoom(room.id);
    ra.close();
    rb.close();
  });
});
