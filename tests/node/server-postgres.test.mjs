// Chat and sync in Postgres (issue #16) beyond the shared suites (server-services, client-services run on both
// stores): two server nodes on one database, where the database settles what both do at once, and a database
// outage, which requests see as `unavailable` while the server stays up and carries on when Postgres is back.
// Two servers with --database and --data-dir :memory: (no broker is needed for the store's guarantees), and the
// deployment the refusal of #15 was waiting for: --broker redis with --database and a data directory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startNodes, startRedis } from './helpers/cluster.mjs';

import { startPostgres } from './helpers/postgres.mjs';
import { startServer } from './helpers/server.mjs';
import { connectAuthed } from '../support/raw-client.mjs';
import { waitFor } from '../support/wait.mjs';

let refs = 0;
/** Sends `msg` with a fresh ref and resolves with the answer (a reply's data, or the error message). */
const request = async (c, msg, waitMs) => {
  const ref = `q${++refs}`;
  c.send({ ...msg, ref });
  const answer = await c.next((m) => m.ref === ref, `the answer to ${msg.type}`, waitMs);
  return answer.type === 'reply' ? answer.data : answer;
};
const subscribe = (c, channel) => request(c, { type: 'subscribe', channel });

describe('chat and sync in Postgres', () => {
  let pg;
  before(async () => {
    pg = await startPostgres();
  });
  after(() => pg?.stop());

  test('two nodes started at once migrate one database once; it holds schema version 2', async () => {
    const db = await pg.createDatabase();
    const nodes = await Promise.all([1, 2, 3].map(() => startServer({ args: ['--database', db.url] })));
    try {
      assert.equal((await db.psql('SELECT version FROM tidewire.schema_migrations ORDER BY version')).trim(), '1\n2');
      for (const node of nodes) assert.doesNotMatch(node.stderr, /unavailable|cannot/, node.stderr);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  });

  describe('two nodes on one database', () => {
    let a;
    let b;
    before(async () => {
      const db = await pg.createDatabase();
      [a, b] = await Promise.all([startServer({ args: ['--database', db.url] }), startServer({ args: ['--database', db.url] })]);
    });
    after(() => Promise.all([a?.stop(), b?.stop()]));

    test('sync_update of one item at one version from both nodes at once: exactly one wins, the other gets version_conflict with the current item', async () => {
      const alice = await connectAuthed(a, 'race-alice');
      const bob = await connectAuthed(b, 'race-bob');
      await subscribe(alice, 'doc:race');
      await subscribe(bob, 'doc:race');
      for (let round = 0; round < 10; round++) {
        const { item } = await request(alice, { type: 'sync_insert', channel: 'doc:race', resource: 'r', data: { n: 0 } });
        const base = { type: 'sync_update', channel: 'doc:race', resource: 'r', id: item.id, version: 1 };
        const answers = await Promise.all([
          request(alice, { ...base, data: { by: 'alice' } }),
          request(bob, { ...base, data: { by: 'bob' } }),
        ]);
        const won = answers.filter((x) => x.item);
        const lost = answers.filter((x) => x.code === 'version_conflict');
        assert.equal(won.length, 1, JSON.stringify(answers));
        assert.equal(lost.length, 1, JSON.stringify(answers));
        assert.equal(won[0].item.version, 2);
        assert.deepEqual(lost[0].current, won[0].item, 'the loser sees the item as the winner left it');
        const { items } = await request(bob, { type: 'sync_snapshot', channel: 'doc:race', resource: 'r' });
        assert.deepEqual(items.find((x) => x.id === item.id), won[0].item);
      }
      await Promise.all([alice.close(), bob.close()]);
    });

    test('chat_send with one client id through both nodes at once stores one message; the other answer is that message, duplicate', async () => {
      const onA = await connectAuthed(a, 'dup-alice');
      const onB = await connectAuthed(b, 'dup-alice');
      const { room } = await request(onA, { type: 'chat_create_room', name: 'Dedupe' });
      for (let round = 0; round < 10; round++) {
        const send = { type: 'chat_send', roomId: room.id, text: `hello ${round}`, id: `k-${round}` };
        const answers = await Promise.all([request(onA, send), request(onB, send)]);
        assert.ok(answers.every((x) => x.message), JSON.stringify(answers));
        assert.equal(answers[0].message.id, answers[1].message.id);
        assert.equal(answers.filter((x) => x.duplicate === true).length, 1, JSON.stringify(answers));
        assert.deepEqual(answers.map((x) => x.message.clientId), [`k-${round}`, `k-${round}`]);
      }
      const { messages } = await request(onB, { type: 'chat_history', roomId: room.id, limit: 100 });
      assert.deepEqual(messages.map((m) => m.text), Array.from({ length: 10 }, (_, i) => `hello ${i}`));
      await Promise.all([onA.close(), onB.close()]);
    });

    test('what one node stores, the other reads: a room created on A is listed, joined and written on B', async () => {
      const alice = await connectAuthed(a, 'x-alice');
      const bob = await connectAuthed(b, 'x-bob');
      const { room } = await request(alice, { type: 'chat_create_room', name: 'Shared', participants: ['x-bob'] });
      const { rooms } = await request(bob, { type: 'chat_list_rooms' });
      assert.deepEqual(rooms.map((r) => r.id), [room.id]);
      assert.equal((await subscribe(bob, `chat:${room.id}`)).type, 'subscribed');
      await request(bob, { type: 'chat_send', roomId: room.id, text: 'from b' });
      const { messages } = await request(alice, { type: 'chat_history', roomId: room.id });
      assert.deepEqual(messages.map((m) => [m.text, m.senderId]), [['from b', 'x-bob']]);
      await Promise.all([alice.close(), bob.close()]);
    });
  });

  test('--broker redis with --database and a data directory: a chat message sent through one node reaches the room on the other, stored once', async () => {
    const db = await pg.createDatabase();
    const redis = await startRedis();
    const dirs = [1, 2].map((i) => mkdtempSync(join(tmpdir(), `tw-pg-node${i}-`)));
    const nodes = [];
    try {
      for (const dir of dirs) nodes.push(...(await startNodes(redis, 1, { args: ['--database', db.url, '--data-dir', dir] })));
      const [a, b] = nodes;
      const alice = await connectAuthed(a, 'rp-alice');
      const bob = await connectAuthed(b, 'rp-bob');
      const { room } = await request(alice, { type: 'chat_create_room', name: 'Across', participants: ['rp-bob'] });
      assert.equal((await subscribe(bob, `chat:${room.id}`)).type, 'subscribed', 'node B sees the membership node A stored');
      const { message } = await request(alice, { type: 'chat_send', roomId: room.id, text: 'via redis', id: 'r1' });
      const live = await bob.next((m) => m.type === 'channel_message' && m.event === 'message', 'the message on node B');
      assert.deepEqual(live.payload, message);
      const again = await request(bob, { type: 'chat_send', roomId: room.id, text: 'x', id: 'b1' });
      assert.equal((await request(alice, { type: 'chat_history', roomId: room.id })).messages.length, 2);
      assert.equal((await request(bob, { type: 'chat_send', roomId: room.id, text: 'x', id: 'b1' })).duplicate, true);
      assert.equal(again.message.senderId, 'rp-bob');
      await Promise.all([alice.close(), bob.close()]);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.stop();
      redis.cleanup();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Postgres down: requests answer unavailable with retryAfterMs, the server stays up, and works again when it is back', async () => {
    const db = await pg.createDatabase();
    const server = await startServer({ args: ['--database', db.url] });
    const alice = await connectAuthed(server, 'out-alice');
    try {
      const { room } = await request(alice, { type: 'chat_create_room', name: 'Outage' });
      await subscribe(alice, 'doc:out');
      await pg.pause();
      for (const msg of [
        { type: 'chat_list_rooms' },
        { type: 'chat_send', roomId: room.id, text: 'lost?' },
        { type: 'sync_insert', channel: 'doc:out', resource: 'r', data: {} },
      ]) {
        const answer = await request(alice, msg);
        assert.equal(answer.code, 'unavailable', JSON.stringify(answer));
        assert.equal(answer.retryAfterMs, 1000);
        assert.match(answer.message, /database/);
      }
      const sub = await subscribe(alice, `chat:${room.id}`);
      assert.equal(sub.code, 'unavailable', 'membership could not be checked: not refused as forbidden');
      assert.equal((await subscribe(alice, 'room:any')).type, 'subscribed', 'channels without the database work');
      assert.equal((await request(alice, { type: 'ping' })).type, 'pong', 'the connection is served meanwhile');
      assert.equal(server.process.exitCode, null);
      await pg.resume();
      let listed;
      await waitFor(async () => {
        listed = await request(alice, { type: 'chat_list_rooms' });
        return Array.isArray(listed.rooms);
      }, 10000, 'chat works again', 200);
      assert.deepEqual(listed.rooms.map((r) => r.id), [room.id]);
      const sent = await request(alice, { type: 'chat_send', roomId: room.id, text: 'back' });
      assert.equal(sent.message.text, 'back');
      const { messages } = await request(alice, { type: 'chat_history', roomId: room.id });
      assert.deepEqual(messages.map((m) => m.text), ['back'], 'nothing of the outage was stored');
      assert.match(server.stderr, /database unavailable/);
    } finally {
      await alice.close();
      await server.stop();
    }
  });
});
