// usePostgresChanges (issue #16) over the fake engine: rows from the app's fetch plus the table's changes, with
// no gap between the two (changes that arrive while the fetch runs are applied to its result), a refetch after
// a gap, and the errors shown. react-dom in jsdom, StrictMode. The real feed (psql -> server -> hook) is in
// tests/browser/postgres-changes.test.mjs.
//   node --test tests/react/use-postgres-changes.test.mjs
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, test } from 'node:test';

import { consoleErrors, h, React, mount, teardownDom, waitFor } from './helpers/env.mjs';

import { createClient } from '../../build/web-tsc/client.js';
import { _useModuleForTests } from '../../build/web-tsc/module.js';
import { PostgresRows } from '../../build/web-tsc/postgres_rows.js';
import { RealtimeProvider, usePostgresChanges } from '../../build/web-tsc/react/index.js';
import { createFakeModule, postgresChange } from '../unit/fake_engine.mjs';

const TODOS = 'db:public.todos';
let fake;
let client;
let view;

beforeEach(async () => {
  fake = createFakeModule();
  _useModuleForTests(fake);
  client = createClient({ url: 'ws://fake/ws', graceMs: 0 });
  client.onError(() => {}); // refusals are asserted on the hook (else the client logs them)
  await client.ready;
  fake.last.open();
});
afterEach(async () => {
  view?.unmount();
  view = undefined;
  await new Promise((r) => setTimeout(r, 20)); // React's and the store's deferred work, before the DOM goes
  client.close();
  _useModuleForTests(undefined);
});
after(() => {
  assert.deepEqual(consoleErrors, []);
  teardownDom();
});

const change = postgresChange;

/** A fetch the test resolves by hand; `calls` counts how often the hook called it. */
function manualFetch() {
  const f = { calls: 0, pending: [] };
  f.fetch = () => {
    f.calls += 1;
    return new Promise((resolve, reject) => f.pending.push({ resolve, reject }));
  };
  return f;
}

function Todos({ options }) {
  const { rows, loading, error } = usePostgresChanges(options); // (`key` is React's own prop: pass an object)
  const text = loading ? 'loading' : error ? `error:${error.code ?? error.message}` : rows.map((r) => `${r.id}:${r.title}`).join(',');
  return h('p', { id: 'rows' }, text);
}
const render = (props) => {
  view = mount(h(React.StrictMode, null, h(RealtimeProvider, { client }, h(Todos, { options: props }))));
  return () => view.$('#rows')?.textContent;
};

test('subscribes first, buffers the changes that arrive while fetch runs, then applies them to its rows', async () => {
  const f = manualFetch();
  const shown = render({ table: 'todos', fetch: f.fetch });
  await waitFor(() => fake.last.channels.size === 1, 2000, 'the subscription');
  assert.deepEqual(fake.last.changesOf(TODOS), { event: '*', filter: '' });
  assert.equal(f.calls, 0, 'no fetch before the server confirmed the subscription');
  fake.last.confirm(TODOS);
  await waitFor(() => f.calls === 1, 2000, 'the fetch');
  assert.equal(shown(), 'loading');
  // Committed after the fetch's snapshot, or before it (then the fetch saw it already): both converge.
  fake.last.deliver(TODOS, 'postgres_changes', change('INSERT', { id: 3, title: 'c' }));
  fake.last.deliver(TODOS, 'postgres_changes', change('UPDATE', { id: 1, title: 'A' }, { id: 1 }));
  fake.last.deliver(TODOS, 'postgres_changes', change('DELETE', {}, { id: 2 }));
  f.pending[0].resolve([{ id: 1, title: 'a' }, { id: 2, title: 'b' }]);
  await waitFor(() => shown() === '1:A,3:c', 2000, 'fetched rows with the buffered changes');
  fake.last.deliver(TODOS, 'postgres_changes', change('INSERT', { id: 4, title: 'd' }));
  await waitFor(() => shown() === '1:A,3:c,4:d', 2000, 'a live insert');
  assert.equal(f.calls, 1);
});

test('event, filter and key: only matching changes apply, rows are identified by `key`', async () => {
  const f = manualFetch();
  const shown = render({ table: 'todos', event: 'INSERT', filter: 'owner=eq.ann', key: 'title', fetch: f.fetch });
  await waitFor(() => fake.last.channels.size === 1, 2000, 'the subscription');
  assert.deepEqual(fake.last.changesOf(TODOS), { event: 'INSERT', filter: '' }, 'the filter is applied in the client');
  fake.last.confirm(TODOS);
  await waitFor(() => f.calls === 1, 2000, 'the fetch');
  f.pending[0].resolve([]);
  await waitFor(() => shown() === '', 2000, 'empty');
  fake.last.deliver(TODOS, 'postgres_changes', change('INSERT', { id: 1, title: 'x', owner: 'bob' }));
  fake.last.deliver(TODOS, 'postgres_changes', change('UPDATE', { id: 9, title: 'y', owner: 'ann' }, { id: 9 }));
  fake.last.deliver(TODOS, 'postgres_changes', change('INSERT', { id: 2, title: 'z', owner: 'ann' }));
  fake.last.deliver(TODOS, 'postgres_changes', change('INSERT', { id: 3, title: 'z', owner: 'ann' }));
  await waitFor(() => shown() === '3:z', 2000, "only ann's inserts, replaced by title");
});

test('with a filter: a row updated out of it leaves the list, one updated into it joins, deletes remove by key', async () => {
  const f = manualFetch();
  const shown = render({ table: 'todos', filter: 'owner=eq.ann', fetch: f.fetch });
  await waitFor(() => fake.last.channels.size === 1, 2000, 'the subscription');
  assert.deepEqual(fake.last.changesOf(TODOS), { event: '*', filter: '' });
  fake.last.confirm(TODOS);
  await waitFor(() => f.calls === 1, 2000, 'the fetch');
  f.pending[0].resolve([{ id: 1, title: 'a', owner: 'ann' }, { id: 2, title: 'b', owner: 'ann' }]);
  await waitFor(() => shown() === '1:a,2:b', 2000, 'the fetched rows');
  fake.last.deliver(TODOS, 'postgres_changes', change('UPDATE', { id: 1, title: 'a', owner: 'bob' }, { id: 1 }));
  fake.last.deliver(TODOS, 'postgres_changes', change('DELETE', {}, { id: 2 })); // old: the key only
  fake.last.deliver(TODOS, 'postgres_changes', change('UPDATE', { id: 5, title: 'e', owner: 'ann' }, { id: 5 }));
  fake.last.deliver(TODOS, 'postgres_changes', change('INSERT', { id: 6, title: 'f', owner: 'bob' }));
  await waitFor(() => shown() === '5:e', 2000, "ann's rows only");
});

test('a gap (missed changes not replayable) fetches again; fetch failures and refusals show as error', async () => {
  const f = manualFetch();
  const shown = render({ table: 'todos', fetch: f.fetch });
  await waitFor(() => fake.last.channels.size === 1, 2000, 'the subscription');
  fake.last.confirm(TODOS);
  await waitFor(() => f.calls === 1, 2000, 'the fetch');
  f.pending[0].reject(new Error('HTTP 503'));
  await waitFor(() => shown() === 'error:HTTP 503', 2000, 'the fetch error');
  fake.last.gap(TODOS, 'window_exceeded');
  await waitFor(() => f.calls === 2, 2000, 'a fetch after the gap');
  fake.last.deliver(TODOS, 'postgres_changes', change('INSERT', { id: 5, title: 'e' }));
  f.pending[1].resolve([{ id: 1, title: 'a' }]);
  await waitFor(() => shown() === '1:a,5:e', 2000, 'rows after the refetch');
  fake.last.refuse(TODOS, 'forbidden', 'not allowed');
  await waitFor(() => shown() === 'error:forbidden', 2000, 'the refusal');
});

test('the latest fetch is called; invalid options throw a TypeError when the hook renders', async () => {
  assert.throws(() => new PostgresRows(client, { table: 'todos', filter: 'id=like.1', fetch: async () => [] }), {
    name: 'TypeError',
    message: /unknown filter operator 'like'/,
  });
  assert.throws(() => new PostgresRows(client, { table: 'todos' }), { name: 'TypeError', message: /needs fetch/ });
  const first = manualFetch();
  const second = manualFetch();
  render({ table: 'todos', fetch: first.fetch });
  view.render(h(React.StrictMode, null, h(RealtimeProvider, { client }, h(Todos, { options: { table: 'todos', fetch: second.fetch } }))));
  await waitFor(() => fake.last.channels.size === 1, 2000, 'the subscription');
  fake.last.confirm(TODOS);
  await waitFor(() => second.calls === 1, 2000, 'the latest fetch');
  assert.equal(first.calls, 0);
  assert.equal(fake.last.channels.size, 1, 'one subscription, also under StrictMode');
});
