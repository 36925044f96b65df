// channel.on('postgres_changes', {event, schema, table, filter}, cb) over the fake engine (issue #16): which
// channel a binding subscribes and with which `changes`, the union of several bindings on one table, each
// binding's local event and filter, validation, and the server's refusals. The wire side (subscribe messages)
// is in tests/native/client/engine_test.cpp (Changefeed...), the real thing in tests/node/postgres-changes.test.mjs.
//   node --test tests/unit/postgres-changes.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { applyChange } from '../../build/web-tsc/postgres_rows.js';
import { postgresChange } from './fake_engine.mjs';
import { fakeEngineEachTest } from './fake_setup.mjs';

const env = fakeEngineEachTest();

async function connected() {
  const client = env.client();
  await client.ready;
  env.fake.last.open();
  return { client, engine: env.fake.last };
}

const TODOS = 'db:public.todos';
const change = postgresChange;
const subscribes = (engine) => engine.calls.filter(([m]) => m === 'subscribe').map(([, ...args]) => args);
const setChanges = (engine) => engine.calls.filter(([m]) => m === 'setChanges').map(([, , ...args]) => args);

test("a binding subscribes its table's channel with its changes; the handle's own name is not subscribed", async () => {
  const { client, engine } = await connected();
  const got = [];
  const ch = client.channel('anything');
  const returned = ch.on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'todos', filter: 'id=eq.1' }, (p) => got.push(p));
  assert.equal(returned, ch, 'on() returns the handle, so .subscribe() chains as in the seeds');
  assert.equal(ch.subscribe(), ch);
  assert.deepEqual(subscribes(engine), [[TODOS, 'INSERT', 'id=eq.1']]);
  assert.equal(ch.isSubscribed, true);
  const whenSubscribed = ch.whenSubscribed();
  engine.confirm(TODOS);
  await whenSubscribed;
  engine.deliver(TODOS, 'postgres_changes', change('INSERT', { id: 1, title: 'a' }));
  assert.equal(got.length, 1);
  assert.deepEqual(Object.keys(got[0]).sort(), ['commit_timestamp', 'errors', 'eventType', 'new', 'old', 'schema', 'table']);
  assert.deepEqual(got[0].new, { id: 1, title: 'a' });
  ch.unsubscribe();
  assert.equal(engine.channels.size, 0, 'unsubscribe() ends the binding');
  assert.equal(ch.isSubscribed, false);
  // schema defaults to public
  client.channel('x').on('postgres_changes', { event: '*', table: 'todos' }, () => {});
  assert.deepEqual(subscribes(engine).at(-1), [TODOS, '*', '']);
});

test('bindings that differ subscribe with the union and each gets only its own event and filter', async () => {
  const { client, engine } = await connected();
  const inserts = [];
  const mine = [];
  const all = [];
  const a = client.channel('a').on('postgres_changes', { event: 'INSERT', table: 'todos' }, (p) => inserts.push(p.new.id));
  assert.deepEqual(engine.changesOf(TODOS), { event: 'INSERT', filter: '' });
  const b = client.channel('b').on('postgres_changes', { event: '*', table: 'todos', filter: 'owner=eq.ann' }, (p) =>
    mine.push(`${p.eventType}:${(p.eventType === 'DELETE' ? p.old : p.new).id}`),
  );
  assert.deepEqual(engine.changesOf(TODOS), { event: '*', filter: '' }, 'the union: every event, no filter');
  const c = client.channel('c').on('postgres_changes', { event: '*', table: 'todos' }, (p) => all.push(p.eventType));
  assert.equal(engine.channels.size, 1, 'one subscription per channel');
  engine.confirm(TODOS);
  engine.deliver(TODOS, 'postgres_changes', change('INSERT', { id: 1, owner: 'ann' }));
  engine.deliver(TODOS, 'postgres_changes', change('INSERT', { id: 2, owner: 'bob' }));
  engine.deliver(TODOS, 'postgres_changes', change('UPDATE', { id: 2, owner: 'ann' }, { id: 2 }));
  engine.deliver(TODOS, 'postgres_changes', change('DELETE', {}, { id: 1 })); // old holds only the key: no owner
  engine.deliver(TODOS, 'postgres_changes', change('DELETE', {}, { id: 2, owner: 'ann' })); // REPLICA IDENTITY FULL
  assert.deepEqual(inserts, [1, 2]);
  assert.deepEqual(mine, ['INSERT:1', 'UPDATE:2', 'DELETE:2'], 'as the server: a column absent from the row never matches');
  assert.deepEqual(all, ['INSERT', 'INSERT', 'UPDATE', 'DELETE', 'DELETE']);
  // Removing bindings narrows the union again.
  c.unsubscribe();
  b.unsubscribe();
  assert.deepEqual(engine.changesOf(TODOS), { event: 'INSERT', filter: '' });
  assert.deepEqual(setChanges(engine).at(-1), ['INSERT', '']);
  a.unsubscribe();
  assert.equal(engine.channels.size, 0);
});

test('bindings that agree on the filter keep it in the union', async () => {
  const { client, engine } = await connected();
  client.channel('a').on('postgres_changes', { event: 'INSERT', table: 'todos', filter: 'owner=eq.ann' }, () => {});
  client.channel('b').on('postgres_changes', { event: 'DELETE', table: 'todos', filter: 'owner=eq.ann' }, () => {});
  assert.deepEqual(engine.changesOf(TODOS), { event: '*', filter: 'owner=eq.ann' });
});

test('filter operators applied locally: eq, neq, lt, lte, gt, gte, in (numbers as numbers, text as text)', async () => {
  const { client, engine } = await connected();
  const seen = {};
  const filters = {
    eq: 'n=eq.5',
    neq: 'n=neq.5',
    lt: 'n=lt.5',
    lte: 'n=lte.5',
    gt: 'n=gt.5',
    gte: 'n=gte.10',
    in: 'n=in.(1,10)',
    text: 'title=in.("a b",c)',
    comma: 'title=in.("a,b",x)',
    textLt: 'title=lt.b',
  };
  for (const [name, filter] of Object.entries(filters)) {
    seen[name] = [];
    client.channel(name).on('postgres_changes', { event: 'INSERT', table: 'todos', filter }, (p) => seen[name].push(p.new.n));
  }
  engine.confirm(TODOS);
  for (const [n, title] of [[1, 'a b'], [5, 'c'], [10, 'a,b'], [null, 'x']]) {
    engine.deliver(TODOS, 'postgres_changes', change('INSERT', { id: n, n, title }));
  }
  assert.deepEqual(seen, {
    eq: [5],
    neq: [1, 10],
    lt: [1],
    lte: [1, 5],
    gt: [10],
    gte: [10],
    in: [1, 10],
    text: [1, 5],
    comma: [10, null],
    textLt: [1, 10],
  });
});

test('a binding made before the module loaded subscribes with its changes in the first subscribe', async () => {
  const client = env.client();
  client.channel('t').on('postgres_changes', { event: 'UPDATE', schema: 'app', table: 'items', filter: 'id=gt.3' }, () => {});
  await client.ready;
  assert.deepEqual(subscribes(env.fake.last), [['db:app.items', 'UPDATE', 'id=gt.3']]);
  assert.deepEqual(setChanges(env.fake.last), []);
});

test('invalid bindings throw a TypeError that says what is wrong', async () => {
  const { client } = await connected();
  const ch = client.channel('t');
  const bad = (spec, message, cb = () => {}) =>
    assert.throws(() => ch.on('postgres_changes', spec, cb), (e) => e instanceof TypeError && message.test(e.message), JSON.stringify(spec));
  bad({ event: 'insert', table: 'todos' }, /event must be one of 'INSERT', 'UPDATE', 'DELETE', '\*', got "insert"/);
  bad({ table: 'todos' }, /event must be one of/);
  bad({ event: '*' }, /table must be a plain identifier such as 'todos', got undefined/);
  bad({ event: '*', table: 'public.todos' }, /table must be a plain identifier/);
  bad({ event: '*', schema: '', table: 'todos' }, /schema must be a plain identifier/);
  bad({ event: '*', table: 'todos', filter: 'id=like.4' }, /unknown filter operator 'like' in "id=like.4"; use one of eq, neq, lt, lte, gt, gte, in/);
  bad({ event: '*', table: 'todos', filter: 'id=eq.' }, /filter "id=eq." has no value after 'eq.'/);
  bad({ event: '*', table: 'todos', filter: 'id' }, /filter must look like 'column=op.value'/);
  bad({ event: '*', table: 'todos', filter: 'id=in.1,2' }, /'in' takes a list in parentheses such as 'status=in.\(open,closed\)'/);
  bad({ event: '*', table: 'todos', filter: 'id=in.(1,,2)' }, /'in' takes a list/);
  bad({ event: '*', table: 'todos', filter: 42 }, /filter must be a string/);
  bad(null, /filter must be an object/);
  bad({ event: '*', table: 'todos' }, /needs a callback function/, 'nope');
  assert.equal(env.fake.last.channels.size, 0, 'nothing was subscribed');
});

test("the server's refusal (bad_filter, unknown_table, forbidden) reaches the binding's onError and client.onError", async () => {
  const { client, engine } = await connected();
  const channelErrors = [];
  const clientErrors = [];
  client.onError((e) => clientErrors.push(e.code));
  const ch = client.channel('t').on('postgres_changes', { event: '*', table: 'secrets' }, () => {});
  ch.onError((e) => channelErrors.push([e.code, e.message, e.details.channel]));
  engine.refuse('db:public.secrets', 'forbidden', 'the server refused the subscription to db:public.secrets: not allowed. Fix the cause, then call subscribe() again');
  assert.deepEqual(channelErrors, [['forbidden', 'the server refused the subscription to db:public.secrets: not allowed. Fix the cause, then call subscribe() again', 'db:public.secrets']]);
  assert.deepEqual(clientErrors, ['forbidden']);
  assert.equal(engine.channel(engine.channels.keys().next().value).revoked, true);
  ch.subscribe(); // subscribes the binding's channel again
  assert.deepEqual(engine.calls.at(-1), ['resubscribe', 1]);
  assert.equal(engine.channel(1).revoked, false);
});

test('applyChange: INSERT adds, UPDATE replaces by key, DELETE removes by key from old; untouched rows stay the same array', () => {
  const p = (s) => JSON.parse(s);
  const rows = [{ id: 1, t: 'a' }, { id: 2, t: 'b' }];
  const added = applyChange(rows, p(change('INSERT', { id: 3, t: 'c' })), 'id');
  assert.deepEqual(added.map((r) => r.id), [1, 2, 3]);
  const again = applyChange(added, p(change('INSERT', { id: 3, t: 'c2' })), 'id');
  assert.deepEqual(again.map((r) => r.t), ['a', 'b', 'c2'], 'an INSERT the fetch already saw replaces');
  assert.deepEqual(applyChange(rows, p(change('UPDATE', { id: 2, t: 'B' }, { id: 2 })), 'id'), [{ id: 1, t: 'a' }, { id: 2, t: 'B' }]);
  assert.deepEqual(applyChange(rows, p(change('DELETE', {}, { id: 1 })), 'id'), [{ id: 2, t: 'b' }]);
  assert.equal(applyChange(rows, p(change('DELETE', {}, { id: 9 })), 'id'), rows);
  assert.deepEqual(applyChange([{ k: '7' }], p(change('DELETE', {}, { k: 7 })), 'k'), [], 'keys compare as text');
});
