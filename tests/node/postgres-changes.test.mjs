// channel.on('postgres_changes', ...) of the Node client against a real Postgres (logical decoding, wal2json)
// and a real server (issue #16): rows written by psql arrive as Supabase payloads with their types, each
// binding gets its own event and filter (server-side alone, or locally under a union), a binding added while
// subscribed widens the live subscription, a reconnect recovers what was committed meanwhile through the same
// filter, and the server's refusals (bad_filter, unknown_table, forbidden) reach onError. Skipped, with the
// reason, only when Postgres is not installed (scripts/setup.sh installs it).
//   node --test tests/node/postgres-changes.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createClient } from '../../web/dist/index.js';
import { waitFor } from '../support/wait.mjs';
import { missingPostgres, startPostgres } from './helpers/postgres.mjs';
import { startServer } from './helpers/server.mjs';

const skip = missingPostgres() || false;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('postgres_changes through the Node client', { skip }, () => {
  let pg;
  let db;
  let server;
  const clients = [];
  const client = (user, options = {}) => {
    const c = createClient({ url: server.wsUrl, token: server.token(user), reconnectBaseMs: 50, reconnectCapMs: 300, ...options });
    clients.push(c);
    return c;
  };

  before(async () => {
    pg = await startPostgres();
    db = await pg.createDatabase();
    await db.psql(`
      CREATE TABLE todos (id int PRIMARY KEY, owner text, title text, done boolean, prio int, meta jsonb);
      CREATE TABLE notes (id int PRIMARY KEY, user_id text NOT NULL, body text);`);
    server = await startServer({ args: ['--database', db.url, '--changefeed-tables', 'public.todos,public.notes(user_id)'] });
    await waitFor(async () => /^tidewire_changefeed_leader 1$/m.test(await (await fetch(`${server.httpUrl}/metrics`)).text()), 10000, 'the feed to lead');
  });
  after(async () => {
    for (const c of clients) c.close();
    await server?.stop();
    await pg?.stop();
  });

  test('rows written by psql arrive with their types: INSERT, UPDATE, DELETE', { timeout: 20_000 }, async () => {
    const c = client('ann');
    const got = [];
    const ch = c.channel('todos-all').on('postgres_changes', { event: '*', schema: 'public', table: 'todos' }, (p) => got.push(p)).subscribe();
    await ch.whenSubscribed();
    await db.psql(`INSERT INTO todos VALUES (1, 'ann', 'write tests', false, 3, '{"tags":["a"]}')`);
    await db.psql(`UPDATE todos SET done = true WHERE id = 1`);
    await db.psql(`DELETE FROM todos WHERE id = 1`);
    await waitFor(() => got.length === 3, 10000, 'three changes');
    const row = { id: 1, owner: 'ann', title: 'write tests', done: false, prio: 3, meta: { tags: ['a'] } };
    const [ins, upd, del] = got;
    assert.deepEqual({ ...ins, commit_timestamp: '' }, { schema: 'public', table: 'todos', commit_timestamp: '', eventType: 'INSERT', new: row, old: {}, errors: null });
    assert.match(ins.commit_timestamp, ISO);
    assert.deepEqual([upd.eventType, upd.new, upd.old], ['UPDATE', { ...row, done: true }, { id: 1 }]);
    assert.deepEqual([del.eventType, del.new, del.old], ['DELETE', {}, { id: 1 }]);
    ch.unsubscribe();
  });

  test('each binding gets its event and filter: alone (server-side) and under a union (locally)', { timeout: 20_000 }, async () => {
    const solo = client('solo');
    const both = client('both');
    const seen = { solo: [], high: [], ann: [], deletes: [] };
    const tag = (p) => `${p.eventType[0]}${(p.eventType === 'DELETE' ? p.old : p.new).id}`;
    const s = solo.channel('s').on('postgres_changes', { event: 'INSERT', table: 'todos', filter: 'prio=gt.2' }, (p) => seen.solo.push(tag(p)));
    // One connection, three bindings on one table: one subscription asking for the union.
    const b = both
      .channel('b')
      .on('postgres_changes', { event: 'INSERT', table: 'todos', filter: 'prio=gt.2' }, (p) => seen.high.push(tag(p)))
      .on('postgres_changes', { event: '*', table: 'todos', filter: 'owner=eq.ann' }, (p) => seen.ann.push(tag(p)))
      .on('postgres_changes', { event: 'DELETE', table: 'todos', filter: 'id=in.(11,12)' }, (p) => seen.deletes.push(tag(p)));
    await Promise.all([s.whenSubscribed(), b.whenSubscribed()]);
    await db.psql(`INSERT INTO todos (id, owner, prio) VALUES (10, 'ann', 1), (11, 'bob', 3), (12, 'ann', 5)`);
    await db.psql(`UPDATE todos SET prio = 9 WHERE id = 10`);
    await db.psql(`DELETE FROM todos WHERE id IN (10, 11, 12)`);
    await db.psql(`INSERT INTO todos (id, owner, prio) VALUES (13, 'ann', 4)`); // the last: every binding but deletes sees it
    await waitFor(() => seen.ann.includes('I13') && seen.solo.includes('I13') && seen.high.includes('I13'), 10000, 'the last row');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen.solo, ['I11', 'I12', 'I13']);
    assert.deepEqual(seen.high, ['I11', 'I12', 'I13']);
    assert.deepEqual(seen.ann, ['I10', 'I12', 'U10', 'I13'], "ann's rows; deletes carry only the key, so no owner");
    assert.deepEqual(seen.deletes, ['D11', 'D12']);
    s.unsubscribe();
    b.unsubscribe();
  });

  test('a binding added while subscribed widens the live subscription; a reconnect recovers through the filter', { timeout: 30_000 }, async () => {
    const c = client('carl');
    const narrow = [];
    const wide = [];
    const ch = c.channel('n').on('postgres_changes', { event: 'INSERT', table: 'todos', filter: 'owner=eq.carl' }, (p) => narrow.push(p.new.id));
    await ch.whenSubscribed();
    await db.psql(`INSERT INTO todos (id, owner) VALUES (21, 'dora')`);
    await db.psql(`INSERT INTO todos (id, owner) VALUES (20, 'carl')`); // committed after 21, so published after it
    await waitFor(() => narrow.length === 1, 10000, "carl's row");
    // Another binding on the table: the subscription now asks for every change, sent again on the same socket.
    const w = c.channel('w').on('postgres_changes', { event: '*', table: 'todos' }, (p) => wide.push(`${p.eventType[0]}${(p.eventType === 'DELETE' ? p.old : p.new).id}`));
    await w.whenSubscribed();
    await new Promise((r) => setTimeout(r, 100)); // the second `subscribed` (the widened spec)
    await db.psql(`UPDATE todos SET title = 'x' WHERE id = 21`);
    await waitFor(() => wide.includes('U21'), 10000, 'an update of dora\'s row, through the widened subscription');
    // Away, then back: what was committed meanwhile is replayed (recovery), still through each binding's filter.
    c.disconnect();
    await db.psql(`INSERT INTO todos (id, owner) VALUES (22, 'carl'), (23, 'dora')`);
    c.connect();
    await waitFor(() => narrow.includes(22) && wide.includes('I23'), 10000, 'the rows committed while away');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(narrow, [20, 22]);
    assert.deepEqual(wide, ['U21', 'I22', 'I23']);
    assert.equal(c.getMetrics().gaps, 0);
    ch.unsubscribe();
    w.unsubscribe();
  });

  test("the server's refusals reach onError with their code; the client's own validation throws first", async () => {
    const c = client('eve');
    const errors = [];
    c.onError((e) => errors.push(e.code));
    // Each refused handle is unsubscribed before the next binding: bindings that differ on one table subscribe
    // with their union, which carries no single binding's filter for the server to refuse.
    const refusal = async (spec, user = c) => {
      const handle = user.channel('r').on('postgres_changes', spec, () => {});
      const error = await new Promise((resolve) => handle.onError(resolve));
      handle.unsubscribe();
      return error;
    };
    const unknownColumn = await refusal({ event: '*', table: 'todos', filter: 'nope=eq.1' });
    assert.equal(unknownColumn.code, 'bad_filter');
    assert.match(unknownColumn.message, /db:public\.todos.*nope.*Fix the cause, then call subscribe\(\) again/s);
    assert.equal((await refusal({ event: '*', table: 'todos', filter: 'prio=eq.abc' })).code, 'bad_filter');
    const unknownTable = await refusal({ event: '*', table: 'secrets' });
    assert.equal(unknownTable.code, 'unknown_table');
    assert.equal(unknownTable.details.channel, 'db:public.secrets');
    const limited = client('finn', { token: server.token('finn', { channels: ['room:*'] }) });
    limited.onError(() => {});
    assert.equal((await refusal({ event: '*', table: 'todos' }, limited)).code, 'forbidden');
    assert.deepEqual(errors, ['bad_filter', 'bad_filter', 'unknown_table']);
    assert.throws(() => c.channel('t').on('postgres_changes', { event: '*', table: 'todos', filter: 'id=like.1' }, () => {}), TypeError);
  });

  test("the owner rule holds under a client's union: a user never gets another user's rows", { timeout: 20_000 }, async () => {
    const ann = client('ann');
    const got = [];
    const mine = ann.channel('mine').on('postgres_changes', { event: '*', table: 'notes' }, (p) => got.push(p.new.user_id));
    const sneaky = ann
      .channel('sneaky')
      .on('postgres_changes', { event: 'INSERT', table: 'notes', filter: 'user_id=eq.bob' }, (p) => got.push(`sneaky:${p.new.user_id}`));
    await Promise.all([mine.whenSubscribed(), sneaky.whenSubscribed()]);
    await new Promise((r) => setTimeout(r, 100)); // the union's second `subscribed`
    await db.psql(`INSERT INTO notes VALUES (1, 'bob', 'b'), (2, 'ann', 'a')`);
    await waitFor(() => got.includes('ann'), 10000, "ann's note");
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(got, ['ann']);
  });
});
