// The database change feed (issue #16) against a real Postgres (logical decoding, wal2json) and real servers,
// spoken to with the raw protocol client: payloads of rows written by psql, `changes` (event + filter) and the
// owner rule applied server-side, the subscribe error codes, exactly-once delivery in commit order across a
// kill -9 of the server, and two nodes on Redis where one reads the slot and the other takes over when it dies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { missingPostgres, startPostgres } from './helpers/postgres.mjs';
import { startServer } from './helpers/server.mjs';
import { missingBinaries, startRedis } from './helpers/cluster.mjs';
import { connectAuthed } from '../support/raw-client.mjs';
import { waitFor } from '../support/wait.mjs';

const skip = missingPostgres() || false;


/** Waits until `server` reads the slot (what is committed from then on reaches its subscribers). */
function leading(server, timeoutMs = 10000) {
  return waitFor(async () => (await server.metric('tidewire_changefeed_leader')) === 1, timeoutMs, 'the feed leads');
}

/** Subscribes with `changes` (omitted when undefined); resolves with the reply (subscribed or error). */
function sub(client, channel, changes, extra = {}) {
  const msg = { type: 'subscribe', channel, ...extra };
  if (changes !== undefined) msg.changes = changes;
  return client.request(msg);
}

/** The postgres_changes payloads `client` got on `channel` so far. */
function changesOf(client, channel) {
  return client.received
    .filter((m) => m.type === 'channel_message' && m.channel === channel && m.event === 'postgres_changes')
    .map((m) => m.payload);
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('database change feed', { skip }, () => {
  let pg;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.stop();
  });

  describe('one server', () => {
    let db;
    let server;
    const clients = [];
    const connect = async (user, opts) => {
      const c = await connectAuthed(server, user, opts);
      clients.push(c);
      return c;
    };

    before(async () => {
      db = await pg.createDatabase();
      await db.psql(`
        CREATE TABLE todos (id int PRIMARY KEY, user_id text, title text, done boolean, prio int, meta jsonb);
        CREATE TABLE notes (id int PRIMARY KEY, user_id text NOT NULL, body text);
        ALTER TABLE notes REPLICA IDENTITY FULL;
        CREATE TABLE items (id int PRIMARY KEY, user_id text NOT NULL);
        CREATE TABLE secret (id int PRIMARY KEY);`);
      server = await startServer({
        args: ['--database', db.url, '--changefeed-tables',
          'public.todos,public.notes(user_id),public.items(user_id),public.missing'],
      });
      await leading(server);
    });
    after(async () => {
      for (const c of clients) await c.close();
      await server?.stop();
    });

    it('delivers INSERT, UPDATE and DELETE written by psql with Supabase payloads', async () => {
      const c = await connect('alice');
      const ok = await sub(c, 'db:public.todos');
      assert.equal(ok.type, 'subscribed');
      await db.psql(`INSERT INTO todos VALUES (1, 'u1', 'write tests', false, 3, '{"tags":["a"],"n":1}')`);
      await db.psql(`UPDATE todos SET done = true WHERE id = 1`);
      await db.psql(`DELETE FROM todos WHERE id = 1`);
      await waitFor(() => changesOf(c, 'db:public.todos').length >= 3, 5000, 'three changes');
      const [ins, upd, del] = changesOf(c, 'db:public.todos');
      const row = { id: 1, user_id: 'u1', title: 'write tests', done: false, prio: 3, meta: { tags: ['a'], n: 1 } };
      assert.deepEqual({ ...ins, commit_timestamp: 'x' }, {
        schema: 'public', table: 'todos', commit_timestamp: 'x', eventType: 'INSERT', new: row, old: {}, errors: null,
      });
      assert.match(ins.commit_timestamp, ISO_UTC);
      assert.ok(Math.abs(Date.parse(ins.commit_timestamp) - Date.now()) < 60000, ins.commit_timestamp);
      assert.equal(upd.eventType, 'UPDATE');
      assert.deepEqual(upd.new, { ...row, done: true });
      assert.deepEqual(upd.old, { id: 1 }); // default replica identity: the primary key
      assert.equal(del.eventType, 'DELETE');
      assert.deepEqual(del.new, {});
      assert.deepEqual(del.old, { id: 1 });
      const msgs = c.received.filter((m) => m.type === 'channel_message');
      assert.deepEqual(msgs.map((m) => m.offset), [1, 2, 3].map((i) => ok.offset + i));
      assert.ok(msgs.every((m) => m.from === 'postgres'));
    });

    it('applies the event and every filter operator per subscriber', async () => {
      const cases = {
        all: undefined,
        star: { event: '*' },
        inserts: { event: 'INSERT' },
        updates: { event: 'UPDATE' },
        deletes: { event: 'DELETE' },
        eq: { filter: 'prio=eq.3' },
        neq: { filter: 'prio=neq.3' },
        lt: { filter: 'prio=lt.3' },
        lte: { filter: 'prio=lte.3' },
        gt: { filter: 'prio=gt.3' },
        gte: { filter: 'prio=gte.3' },
        in: { filter: 'prio=in.(1,5)' },
        text: { filter: 'user_id=eq.u2' },
        textIn: { filter: 'title=in.("a,b",c)' },
        insertsEq: { event: 'INSERT', filter: 'id=eq.14' },
        deleteById: { event: 'DELETE', filter: 'id=eq.12' },
      };
      const subs = {};
      for (const [name, changes] of Object.entries(cases)) {
        subs[name] = await connect(`f-${name}`);
        assert.equal((await sub(subs[name], 'db:public.todos', changes)).type, 'subscribed', name);
      }
      // ids 11..15 with prio 1..5; titles: 11 "a,b", 13 "c"; user u2 on 12 and 14
      await db.psql(`INSERT INTO todos (id, user_id, title, prio) VALUES
        (11, 'u1', 'a,b', 1), (12, 'u2', 'x', 2), (13, 'u1', 'c', 3), (14, 'u2', 'y', 4), (15, 'u1', 'z', 5)`);
      await db.psql(`UPDATE todos SET prio = 3 WHERE id = 15`);
      await db.psql(`DELETE FROM todos WHERE id = 12`);
      await waitFor(() => changesOf(subs.all, 'db:public.todos').length === 7, 5000, 'all seven changes');
      // A sentinel every subscriber that takes INSERTs of prio 1..5 would see closes the wait for the others.
      await db.psql(`INSERT INTO todos (id, user_id, title, prio) VALUES (99, 'u1', 'c', 1)`);
      await waitFor(() => changesOf(subs.all, 'db:public.todos').length === 8, 5000, 'the sentinel');
      await new Promise((r) => setTimeout(r, 200)); // fan-out is synchronous; give the sockets a moment
      const seen = (name) => changesOf(subs[name], 'db:public.todos')
        .map((p) => `${p.eventType[0]}${p.new.id ?? p.old.id}`);
      assert.deepEqual(seen('all'), ['I11', 'I12', 'I13', 'I14', 'I15', 'U15', 'D12', 'I99']);
      assert.deepEqual(seen('star'), seen('all'));
      assert.deepEqual(seen('inserts'), ['I11', 'I12', 'I13', 'I14', 'I15', 'I99']);
      assert.deepEqual(seen('updates'), ['U15']);
      assert.deepEqual(seen('deletes'), ['D12']);
      // UPDATE tests `new` (15 now has prio 3); DELETE tests `old`, which has only the key: no prio to match
      assert.deepEqual(seen('eq'), ['I13', 'U15']);
      assert.deepEqual(seen('neq'), ['I11', 'I12', 'I14', 'I15', 'I99']);
      assert.deepEqual(seen('lt'), ['I11', 'I12', 'I99']);
      assert.deepEqual(seen('lte'), ['I11', 'I12', 'I13', 'U15', 'I99']);
      assert.deepEqual(seen('gt'), ['I14', 'I15']);
      assert.deepEqual(seen('gte'), ['I13', 'I14', 'I15', 'U15']);
      assert.deepEqual(seen('in'), ['I11', 'I15', 'I99']);
      assert.deepEqual(seen('text'), ['I12', 'I14']);
      assert.deepEqual(seen('textIn'), ['I11', 'I13', 'I99']);
      assert.deepEqual(seen('insertsEq'), ['I14']);
      assert.deepEqual(seen('deleteById'), ['D12']);
    });

    it('recovers a filtered subscriber through the same filter (its offsets skip the others)', async () => {
      const c = await connect('rec');
      const first = await sub(c, 'db:public.todos', { filter: 'user_id=eq.u7' });
      await db.psql(`INSERT INTO todos (id, user_id, prio) VALUES (21, 'u7', 1), (22, 'u8', 1), (23, 'u7', 1)`);
      await waitFor(() => changesOf(c, 'db:public.todos').length === 2, 5000, 'two u7 rows');
      const got = c.received.filter((m) => m.type === 'channel_message');
      assert.equal(got[1].offset, got[0].offset + 2); // 22 skipped
      await c.unsubscribe('db:public.todos');
      const c2 = await connect('rec');
      const r = await sub(c2, 'db:public.todos', { filter: 'user_id=eq.u7' },
        { since: { offset: first.offset, epoch: first.epoch } });
      assert.equal(r.recovered, true);
      await waitFor(() => changesOf(c2, 'db:public.todos').length === 2, 5000, 'the replay');
      assert.deepEqual(changesOf(c2, 'db:public.todos').map((p) => p.new.id), [21, 23]);
    });

    it('enforces the owner rule: a user never sees another user\'s rows', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob');
      const aliceItems = await connect('alice');
      for (const c of [alice, bob]) assert.equal((await sub(c, 'db:public.notes')).type, 'subscribed');
      // a filter cannot widen the owner rule
      const sneaky = await connect('bob');
      assert.equal((await sub(sneaky, 'db:public.notes', { filter: 'user_id=eq.alice' })).type, 'subscribed');
      assert.equal((await sub(aliceItems, 'db:public.items')).type, 'subscribed');
      await db.psql(`INSERT INTO notes VALUES (1, 'alice', 'a1'), (2, 'bob', 'b1'), (3, 'alice', 'a2')`);
      await db.psql(`UPDATE notes SET body = 'a1!' WHERE id = 1`);
      await db.psql(`UPDATE notes SET user_id = 'bob' WHERE id = 3`); // handed over: neither may see both sides
      await db.psql(`DELETE FROM notes WHERE id = 2`);
      await db.psql(`INSERT INTO items VALUES (1, 'alice'), (2, 'bob')`);
      await db.psql(`DELETE FROM items WHERE id = 1`); // default identity: old has no user_id -> withheld
      await db.psql(`INSERT INTO notes VALUES (9, 'alice', 'last')`);
      await waitFor(() => changesOf(alice, 'db:public.notes').some((p) => p.new.id === 9), 5000, 'alice\'s last');
      await db.psql(`INSERT INTO notes VALUES (10, 'bob', 'last')`);
      await waitFor(() => changesOf(bob, 'db:public.notes').some((p) => p.new.id === 10), 5000, 'bob\'s last');
      const seen = (c, ch) => changesOf(c, ch).map((p) => `${p.eventType[0]}${p.new.id ?? p.old.id}`);
      assert.deepEqual(seen(alice, 'db:public.notes'), ['I1', 'I3', 'U1', 'I9']);
      assert.deepEqual(seen(bob, 'db:public.notes'), ['I2', 'D2', 'I10']);
      assert.deepEqual(seen(sneaky, 'db:public.notes'), []);
      for (const p of changesOf(alice, 'db:public.notes')) {
        assert.equal(p.new.user_id, 'alice');
        if (p.eventType !== 'INSERT') assert.equal(p.old.user_id, 'alice');
      }
      await waitFor(() => changesOf(aliceItems, 'db:public.items').length === 1, 5000, 'alice\'s item');
      assert.deepEqual(seen(aliceItems, 'db:public.items'), ['I1']);
    });

    it('answers bad input with the documented codes and the connection stays usable', async () => {
      const c = await connect('carol');
      const code = async (channel, changes, extra) => {
        const r = await sub(c, channel, changes, extra);
        return r.type === 'error' ? r.code : r.type;
      };
      assert.equal(await code('db:public.secret'), 'unknown_table'); // not in --changefeed-tables
      assert.equal(await code('db:public.missing'), 'unknown_table'); // listed, not in the database
      assert.equal(await code('db:nodot'), 'unknown_table');
      assert.equal(await code('db:public.todos', { filter: 'prio' }), 'bad_filter');
      assert.equal(await code('db:public.todos', { filter: 'prio=like.3' }), 'bad_filter');
      assert.equal(await code('db:public.todos', { filter: 'nope=eq.1' }), 'bad_filter');
      assert.equal(await code('db:public.todos', { filter: 'prio=eq.abc' }), 'bad_filter');
      assert.equal(await code('db:public.todos', { filter: 'prio=in.1,2' }), 'bad_filter');
      assert.equal(await code('db:public.todos', { event: 'UPSERT' }), 'bad_filter');
      assert.equal(await code('db:public.todos', { event: 5 }), 'bad_filter');
      assert.equal(await code('db:public.todos', 'prio=eq.1'), 'bad_filter');
      assert.equal(await code('room:x', { event: '*' }), 'bad_request');
      const pub = await c.request({ type: 'channel_message', channel: 'db:public.todos', event: 'postgres_changes',
        payload: { eventType: 'INSERT', new: { id: 666 } } });
      assert.equal(pub.code, 'forbidden');
      const sync = await c.request({ type: 'sync_insert', channel: 'db:public.todos', resource: 'todos',
        data: { id: 1 } });
      assert.equal(sync.code, 'forbidden'); // sync would publish its own events there
      // the token's channels claim applies to db: channels as to any channel
      const limited = await connect('dave', { claims: { channels: ['room:*'] } });
      const r = await sub(limited, 'db:public.todos');
      assert.equal(r.code, 'forbidden');
      // a column added after the server started is found (the catalog refreshes on an unknown name)
      // (at most one refresh per table per second: the unknown column above just used it, so this may take a retry)
      await db.psql('ALTER TABLE todos ADD COLUMN extra int');
      await waitFor(async () => (await code('db:public.todos', { filter: 'extra=eq.1' })) === 'subscribed', 3000,
        'the new column', 200);
      c.send({ type: 'ping', ref: 'p1' });
      await c.nextOfType('pong', { ref: 'p1' });
      assert.equal(await code('db:public.todos', { event: 'DELETE' }), 'subscribed'); // a re-subscribe
    });

    it('reports the slot lag in /metrics', async () => {
      const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
      assert.match(text, /^tidewire_changefeed_slot_lag_bytes \d+$/m);
      assert.ok((await server.metric('tidewire_changefeed_changes_total')) > 10);
    });
  });

  it('refuses db: channels without a change feed (unknown_table)', async () => {
    const server = await startServer();
    try {
      const c = await connectAuthed(server, 'eve');
      const r = await sub(c, 'db:public.todos');
      assert.equal(r.code, 'unknown_table');
      await c.close();
    } finally {
      await server.stop();
    }
  });

  it('delivers every row exactly once, in commit order, across a kill -9 of the server', async (t) => {
    const db = await pg.createDatabase();
    await db.psql(`CREATE TABLE seq (id int PRIMARY KEY);
      CREATE PROCEDURE fill(a int, b int) LANGUAGE plpgsql AS $$
      BEGIN FOR i IN a..b LOOP INSERT INTO seq VALUES (i); COMMIT; PERFORM pg_sleep(0.002); END LOOP; END $$;`);
    // A copy of the slot stays at the start: read again at the end, it replays every change (see below).
    await db.psql(`SELECT pg_create_logical_replication_slot('restart_slot', 'wal2json');
      SELECT pg_copy_logical_replication_slot('restart_slot', 'restart_copy');`);
    const dir = mkdtempSync(join(tmpdir(), 'tw-cf-'));
    const base = ['--data-dir', dir, '--history-size', '10000', '--database', db.url,
      '--changefeed-tables', 'public.seq'];
    const args = [...base, '--changefeed-slot', 'restart_slot'];
    let server = await startServer({ args });
    const N = 600;
    const got = [];
    let position = null;
    const follow = async (srv) => {
      const c = await connectAuthed(srv, 'reader');
      const r = await sub(c, 'db:public.seq', undefined, position ? { since: position } : {});
      assert.equal(r.type, 'subscribed', JSON.stringify(r));
      if (position) assert.equal(r.recovered, true, JSON.stringify(r));
      const drain = () => {
        for (const m of c.inbox.splice(0)) {
          if (m.type !== 'channel_message') continue;
          got.push(m.payload.new.id);
          position = { offset: m.offset, epoch: m.epoch };
        }
      };
      c.ws.on('message', drain); // after the client's own listener, which fills the inbox
      drain(); // what came with `subscribed`
      return c;
    };
    try {
      await leading(server);
      let c = await follow(server);
      const writing = db.psql(`CALL fill(1, ${N})`);
      await waitFor(() => got.length >= 150, 20000, '150 rows before the kill');
      server.process.kill('SIGKILL');
      await server.stop();
      await c.closed;
      const firstRun = got.length;
      server = await startServer({ args });
      c = await follow(server);
      await writing;
      await waitFor(() => got.length >= N, 30000, `all ${N} rows (got ${got.length})`);
      await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive now
      assert.equal(got.length, N);
      assert.deepEqual(got, Array.from({ length: N }, (_, i) => i + 1));
      t.diagnostic(`killed after ${firstRun} rows; replayed from the slot and deduplicated: ` +
        `${await server.metric('tidewire_changefeed_duplicates_total')}`);
      await c.close();

      // A replay of everything (the copy of the slot never moved) publishes nothing twice: the ids derived from
      // the LSNs are still in the channel's history (restored from the data dir).
      await server.stop();
      server = await startServer({ args: [...base, '--changefeed-slot', 'restart_copy'] });
      c = await follow(server);
      await waitFor(async () => (await server.metric('tidewire_changefeed_duplicates_total')) === N, 15000,
        `${N} duplicates`);
      await db.psql(`INSERT INTO seq VALUES (${N + 1})`);
      await waitFor(() => got.length === N + 1, 5000, 'the next row');
      assert.equal(got.at(-1), N + 1);
      assert.equal(await server.metric('tidewire_changefeed_changes_total'), 1);
      await c.close();
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('two nodes on Redis', { skip: missingBinaries().join(', ') || false }, () => {
    it('reads the slot once, delivers each change once on both nodes, and fails over on kill -9', async (t) => {
      const db = await pg.createDatabase();
      await db.psql(`CREATE TABLE two (id int PRIMARY KEY);
        CREATE PROCEDURE fill(a int, b int) LANGUAGE plpgsql AS $$
        BEGIN FOR i IN a..b LOOP INSERT INTO two VALUES (i); COMMIT; PERFORM pg_sleep(0.002); END LOOP; END $$;`);
      const redis = await startRedis();
      const args = (id) => ['--broker', redis.url, '--node-id', id, '--history-size', '10000', '--database', db.url,
        '--changefeed-tables', 'public.two', '--changefeed-slot', 'two_nodes_slot'];
      const nodes = [await startServer({ args: args('n1') }), await startServer({ args: args('n2') })];
      const clients = [];
      try {
        await waitFor(async () => (await nodes[0].metric('tidewire_changefeed_leader')) +
          (await nodes[1].metric('tidewire_changefeed_leader')) === 1, 10000, 'one leader');
        // and it stays one: the other keeps retrying, refused
        await new Promise((r) => setTimeout(r, 1500));
        const leaders = [await nodes[0].metric('tidewire_changefeed_leader'),
          await nodes[1].metric('tidewire_changefeed_leader')];
        assert.equal(leaders[0] + leaders[1], 1);
        const slots = await db.psql(
          `SELECT count(*) FROM pg_stat_replication WHERE application_name = 'tidewire_changefeed'`);
        assert.equal(slots.trim(), '1');
        const leader = leaders[0] === 1 ? 0 : 1;
        const other = 1 - leader;
        const ids = (c) => changesOf(c, 'db:public.two').map((p) => p.new.id);
        for (const n of nodes) {
          const c = await connectAuthed(n, 'watcher');
          assert.equal((await sub(c, 'db:public.two')).type, 'subscribed');
          clients.push(c);
        }
        await db.psql('CALL fill(1, 50)');
        for (const c of clients) await waitFor(() => ids(c).length >= 50, 10000, '50 rows on each node');
        await new Promise((r) => setTimeout(r, 200));
        for (const c of clients) assert.deepEqual(ids(c), Array.from({ length: 50 }, (_, i) => i + 1));
        assert.equal(await nodes[other].metric('tidewire_changefeed_changes_total'), 0);

        // kill -9 the leader mid-stream: the other node takes the slot over and nothing is lost or doubled
        const writing = db.psql('CALL fill(51, 400)');
        await waitFor(() => ids(clients[other]).length >= 100, 10000, 'rows flowing');
        nodes[leader].process.kill('SIGKILL');
        await nodes[leader].stop();
        await leading(nodes[other], 15000);
        await writing;
        await waitFor(() => ids(clients[other]).length >= 400, 20000, 'all 400 rows on the survivor');
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(ids(clients[other]), Array.from({ length: 400 }, (_, i) => i + 1));
        assert.ok((await nodes[other].metric('tidewire_changefeed_changes_total')) > 0);
        t.diagnostic(`the survivor took over; replayed and deduplicated: ` +
          `${await nodes[other].metric('tidewire_changefeed_duplicates_total')}`);
      } finally {
        for (const c of clients) await c.close();
        for (const n of nodes) await n.stop();
        await redis.stop();
        redis.cleanup();
      }
    });

    it('stops reading while Redis is down and publishes what was written meanwhile once it is back', async () => {
      const db = await pg.createDatabase();
      await db.psql('CREATE TABLE outage (id int PRIMARY KEY)');
      const redis = await startRedis();
      const node = await startServer({ args: ['--broker', redis.url, '--database', db.url,
        '--changefeed-tables', 'public.outage', '--changefeed-slot', 'outage_slot',
        '--changefeed-lag-warning-bytes', '1'] });
      let c;
      try {
        await leading(node);
        c = await connectAuthed(node, 'watcher');
        assert.equal((await sub(c, 'db:public.outage')).type, 'subscribed');
        const ids = () => changesOf(c, 'db:public.outage').map((p) => p.new.id);
        await db.psql('INSERT INTO outage SELECT generate_series(1, 5)');
        await waitFor(() => ids().length === 5, 5000, 'five rows');
        await redis.stop();
        await waitFor(async () => (await node.metric('tidewire_changefeed_leader')) === 0, 10000, 'the slot let go');
        await db.psql('INSERT INTO outage SELECT generate_series(6, 10)');
        // held in the WAL: the slot lags and nothing is published
        await waitFor(async () => (await node.metric('tidewire_changefeed_slot_lag_bytes')) > 0, 5000, 'a lag');
        await waitFor(() => /level=warn msg="changefeed slot lags" slot=outage_slot lag_bytes=\d+/.test(node.stderr),
          5000, 'the lag warning');
        assert.equal(ids().length, 5);
        await redis.restart(); // no persistence: a new epoch, which the subscriber follows from offset 1
        await leading(node, 15000);
        await waitFor(() => ids().length === 10, 10000, 'the rows written while Redis was down');
        assert.deepEqual(ids(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      } finally {
        await c?.close();
        await node.stop();
        await redis.stop();
        redis.cleanup();
      }
    });
  });
});
