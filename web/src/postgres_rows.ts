// A table's rows kept current as a store (store.ts): an initial fetch the app supplies (its REST endpoint, say)
// plus the table's changes (postgres_changes). usePostgresChanges renders it.
//
// No gap between the fetch and the feed: online, it subscribes first; once the server has confirmed the
// subscription (so every later commit will arrive) it calls `fetch`, buffering the changes that arrive meanwhile,
// and applies them in order to the fetched rows. A change the fetch already saw applies again harmlessly (INSERT
// and UPDATE replace by key, DELETE removes by key). After a reconnect whose missed changes could not be
// replayed (a gap), it fetches again the same way.
import type { Channel } from './channel.js';
import type { TidewireClient } from './client.js';
import { postgresBinding, type PostgresChangesEvent, type PostgresChangesPayload } from './postgres_changes.js';
import { LiveStore } from './store.js';

export interface PostgresRowsOptions<Row extends object> {
  /** Default `'public'`. */
  schema?: string;
  table: string;
  /** Which changes to apply. Default `'*'`. */
  event?: PostgresChangesEvent;
  /** A row filter such as `'user_id=eq.42'` (see PostgresChangesFilter); `fetch` should return the same rows. */
  filter?: string;
  /** The column that identifies a row (UPDATE replaces and DELETE removes by it). Default `'id'`. */
  key?: keyof Row & string;
  /** The rows as of now, e.g. `() => fetch('/api/todos').then((r) => r.json())`. Called again after a gap. */
  fetch: () => Promise<Row[]>;
}

export interface PostgresRowsSnapshot<Row extends object> {
  rows: readonly Row[];
  /** True until the first fetch has resolved. */
  loading: boolean;
  /** The fetch's failure, or the server's refusal of the subscription (`bad_filter`, `unknown_table`, `forbidden`). */
  error: Error | null;
}

export class PostgresRows<Row extends object> extends LiveStore<PostgresRowsSnapshot<Row>> {
  protected readonly kind = 'postgres_changes view';
  #client: TidewireClient;
  #options: PostgresRowsOptions<Row>;
  #key: string;
  #channel: string;
  #handle: Channel | undefined;
  #offs: Array<() => void> = [];
  #generation = 0;
  #buffer: PostgresChangesPayload<Row>[] | undefined; // changes waiting for a fetch

  /** Validates the options now (a TypeError says what is wrong); goes on the network with its first listener. */
  constructor(client: TidewireClient, options: PostgresRowsOptions<Row>) {
    super({ rows: [], loading: true, error: null }, () => client.graceMs);
    const { channel } = postgresBinding({ event: options.event ?? '*', schema: options.schema, table: options.table, filter: options.filter });
    if (typeof options.fetch !== 'function') throw new TypeError('tidewire: usePostgresChanges needs fetch: () => Promise<Row[]>');
    this.#client = client;
    this.#options = options;
    this.#key = options.key ?? 'id';
    this.#channel = channel;
  }

  protected goOnline(): void {
    const { schema, table, event = '*', filter } = this.#options;
    const generation = ++this.#generation;
    this.#buffer = [];
    const handle = this.#client
      .channel(this.#channel)
      .on<Row>('postgres_changes', { event, schema, table, filter }, (change) => this.#apply(change));
    this.#handle = handle;
    let loaded = false;
    this.#offs = [
      handle.onSubscribed(() => {
        if (!loaded) this.#load(generation);
        loaded = true;
      }),
      handle.onGap(() => this.#load(generation)),
      handle.onError((error) => this.setSnapshot({ ...this.getSnapshot(), loading: false, error })),
    ];
  }

  protected goOffline(): void {
    this.#generation += 1;
    for (const off of this.#offs) off();
    this.#offs = [];
    this.#handle?.unsubscribe();
    this.#handle = undefined;
    this.#buffer = undefined;
  }

  protected read(previous: PostgresRowsSnapshot<Row>): PostgresRowsSnapshot<Row> {
    return previous;
  }

  #load(generation: number): void {
    this.#buffer ??= [];
    Promise.resolve()
      .then(() => this.#options.fetch())
      .then(
        (fetched) => {
          if (generation !== this.#generation) return;
          if (!Array.isArray(fetched)) throw new TypeError('tidewire: usePostgresChanges: fetch() must resolve to an array of rows');
          let rows: readonly Row[] = fetched;
          for (const change of this.#buffer ?? []) rows = applyChange(rows, change, this.#key);
          this.#buffer = undefined;
          this.setSnapshot({ rows, loading: false, error: null });
        },
      )
      .catch((e: unknown) => {
        if (generation !== this.#generation) return;
        this.#buffer = undefined; // shows what it has; the next gap (or going online again) fetches again
        this.setSnapshot({ ...this.getSnapshot(), loading: false, error: e instanceof Error ? e : new Error(String(e)) });
      });
  }

  #apply(change: PostgresChangesPayload<Row>): void {
    if (this.#buffer !== undefined) {
      this.#buffer.push(change);
      return;
    }
    const snapshot = this.getSnapshot();
    const rows = applyChange(snapshot.rows, change, this.#key);
    if (rows !== snapshot.rows) this.setSnapshot({ ...snapshot, rows });
  }
}

/** `rows` with one change applied (a new array), or `rows` itself when the change does not touch it. @internal */
export function applyChange<Row extends object>(rows: readonly Row[], change: PostgresChangesPayload<Row>, key: string): readonly Row[] {
  const keyOf = (row: object): string => String((row as Record<string, unknown>)[key]);
  if (change.eventType === 'DELETE') {
    const k = keyOf(change.old);
    const next = rows.filter((r) => keyOf(r) !== k);
    return next.length === rows.length ? rows : next;
  }
  const k = keyOf(change.new);
  const i = rows.findIndex((r) => keyOf(r) === k);
  if (i < 0) return [...rows, change.new];
  const next = rows.slice();
  next[i] = change.new;
  return next;
}
