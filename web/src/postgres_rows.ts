// A table's rows kept current as a store (store.ts): an initial fetch the app supplies (its REST endpoint, say)
// plus the table's changes (postgres_changes). usePostgresChanges renders it.
//
// No gap between the fetch and the feed: online, it subscribes first; once the server has confirmed the
// subscription (so every later commit will arrive) it calls `fetch`, buffering the changes that arrive meanwhile,
// and applies them in order to the fetched rows. A change the fetch already saw applies again harmlessly (INSERT
// and UPDATE replace by key, DELETE removes by key). After a reconnect whose missed changes could not be
// replayed (a gap), it fetches again the same way.
//
// The filter is applied here, not by the server: the subscription asks for every change of the table (the owner
// rule and the access rules still apply on the server), so that an UPDATE taking a row out of the filter removes
// it, and a DELETE, whose `old` holds only the key unless the table has REPLICA IDENTITY FULL, still removes it.
import type { Channel } from './channel.js';
import type { TidewireClient } from './client.js';
import { postgresBinding, type PostgresChangesEvent, type PostgresChangesPayload } from './postgres_changes.js';
import { LiveStore } from './store.js';
import { PostgresChanges } from './wire.js';

export interface PostgresRowsOptions<Row extends object> {
  /** Default `'public'`. */
  schema?: string;
  table: string;
  /** Which changes to apply. Default `'*'`. */
  event?: PostgresChangesEvent;
  /**
   * A row filter such as `'user_id=eq.42'` (see PostgresChangesFilter), applied in the client: rows that match
   * are added or replaced, a row updated out of it is removed. `fetch` should return the same rows.
   */
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
  #inFilter: (change: PostgresChangesPayload<Row>) => boolean;
  #handle: Channel | undefined;
  #offs: Array<() => void> = [];
  #generation = 0;
  #buffer: PostgresChangesPayload<Row>[] | undefined; // changes waiting for a fetch

  /** Validates the options now (a TypeError says what is wrong); goes on the network with its first listener. */
  constructor(client: TidewireClient, options: PostgresRowsOptions<Row>) {
    super({ rows: [], loading: true, error: null }, () => client.graceMs);
    const binding = postgresBinding({ event: '*', schema: options.schema, table: options.table, filter: options.filter });
    postgresBinding({ event: options.event ?? '*', table: options.table }); // validates the event
    if (typeof options.fetch !== 'function') throw new TypeError('tidewire: usePostgresChanges needs fetch: () => Promise<Row[]>');
    this.#client = client;
    this.#options = options;
    this.#key = options.key ?? PostgresChanges.defaultKey;
    this.#channel = binding.channel;
    this.#inFilter = (change) => options.filter === undefined || binding.matches(change);
  }

  protected goOnline(): void {
    const { schema, table, event = '*' } = this.#options;
    const generation = ++this.#generation;
    this.#buffer = [];
    const handle = this.#client
      .channel(this.#channel)
      .on<Row>('postgres_changes', { event, schema, table }, (change) => this.#apply(change));
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
          for (const change of this.#buffer ?? []) rows = applyChange(rows, change, this.#key, this.#inFilter);
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
    const rows = applyChange(snapshot.rows, change, this.#key, this.#inFilter);
    if (rows !== snapshot.rows) this.setSnapshot({ ...snapshot, rows });
  }
}

/**
 * `rows` with one change applied (a new array), or `rows` itself when the change does not touch it: a row that is
 * in the filter (`inFilter`) is added or replaced by key; a deleted row, or one no longer in the filter, is
 * removed. @internal
 */
export function applyChange<Row extends object>(
  rows: readonly Row[],
  change: PostgresChangesPayload<Row>,
  key: string,
  inFilter: (change: PostgresChangesPayload<Row>) => boolean = () => true,
): readonly Row[] {
  const keyOf = (row: object): string => String((row as Record<string, unknown>)[key]);
  if (change.eventType === 'DELETE' || !inFilter(change)) {
    const k = keyOf(change.eventType === 'DELETE' ? change.old : change.new);
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
