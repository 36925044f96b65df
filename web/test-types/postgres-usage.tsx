// Types of issues #15 and #16 (compiled with `tsc --strict --noEmit` by npm test): options.url as a list or a
// function, channel.on('postgres_changes', ...) in the seeds' shape, and usePostgresChanges.
import {
  createClient,
  type PostgresChangesPayload,
  type PostgresDeletePayload,
  type PostgresInsertPayload,
} from '../dist/index.js';
import { usePostgresChanges, type PostgresChangesRows } from '../dist/react/index.js';

interface Todo {
  id: number;
  title: string;
  done: boolean;
}

createClient({ url: ['ws://a/ws', 'wss://b/ws'] });
createClient({ url: () => 'ws://a/ws' });
const client = createClient({ url: async () => 'ws://a/ws' });
// @ts-expect-error: a URL function returns a string (or a Promise of one)
createClient({ url: () => 42 });
// @ts-expect-error: a list holds strings
createClient({ url: ['ws://a/ws', 1] });

// The seeds' shape: on() returns the channel, so .subscribe() chains.
const channel = client
  .channel('todos')
  .on<Todo>('postgres_changes', { event: '*', schema: 'public', table: 'todos' }, (payload) => {
    const kind: 'INSERT' | 'UPDATE' | 'DELETE' = payload.eventType;
    const when: string = payload.commit_timestamp;
    const errors: string[] | null = payload.errors;
    if (payload.eventType === 'DELETE') {
      const id: number | undefined = payload.old.id; // old holds the key (replica identity)
      void id;
    } else {
      const title: string = payload.new.title; // narrowed: INSERT and UPDATE carry the row
      void title;
    }
    void [kind, when, errors];
  })
  .subscribe();
channel.unsubscribe();

// One event narrows the payload (one overload per event, as the seeds' library has).
client.channel('t').on<Todo>('postgres_changes', { event: 'INSERT', table: 'todos', filter: 'id=eq.4' }, (p) => {
  const row: Todo = p.new;
  const same: PostgresInsertPayload<Todo> = p;
  void [row, same];
});
client.channel('t').on<Todo>('postgres_changes', { event: 'DELETE', table: 'todos' }, (p) => {
  const del: PostgresDeletePayload<Todo> = p;
  void del;
});
const any: (p: PostgresChangesPayload) => void = (p) => void p.table;
client.channel('t').on('postgres_changes', { event: 'UPDATE', table: 'todos' }, any);
// The plain listener form still returns its `off`.
const off: () => void = client.channel('t').on('postgres_changes', (m) => void m.payload);
off();

// @ts-expect-error: event is one of INSERT, UPDATE, DELETE, *
client.channel('t').on('postgres_changes', { event: 'insert', table: 'todos' }, () => {});
// @ts-expect-error: table is required
client.channel('t').on('postgres_changes', { event: '*' }, () => {});
client.channel('t').on<Todo>('postgres_changes', { event: 'INSERT', table: 'todos' }, (p) => {
  // @ts-expect-error: the row's fields are typed
  const n: number = p.new.title;
  void n;
});

export function TodoList() {
  const { rows, loading, error }: PostgresChangesRows<Todo> = usePostgresChanges<Todo>({
    table: 'todos',
    filter: 'done=eq.false',
    fetch: () => fetch('/api/todos').then((r) => r.json() as Promise<Todo[]>),
  });
  // @ts-expect-error: key names a column of the row
  usePostgresChanges<Todo>({ table: 'todos', key: 'nope', fetch: async () => [] });
  // @ts-expect-error: fetch is required
  usePostgresChanges<Todo>({ table: 'todos' });
  if (loading) return <p>loading</p>;
  if (error) return <p>{error.message}</p>;
  return (
    <ul>
      {rows.map((t) => (
        <li key={t.id}>{t.title}</li>
      ))}
    </ul>
  );
}
