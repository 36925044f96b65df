// A handle on one channel (manager style). Each handle holds at most one subscription to its own name; its
// listeners are removed when it unsubscribes. Several handles on the same name share one server subscription.
// Its postgres_changes bindings hold subscriptions to their tables' channels (`db:<schema>.<table>`) instead.
import type { TidewireClient } from './client.js';
import { TidewireError } from './errors.js';
import {
  postgresBinding,
  type PostgresChangesFilter,
  type PostgresChangesPayload,
  type PostgresDeletePayload,
  type PostgresInsertPayload,
  type PostgresUpdatePayload,
} from './postgres_changes.js';
import type { Gap, MessageHandler, SendOptions, SendResult } from './types.js';
import { ErrorCode, PostgresChanges } from './wire.js';

type ListenerToken = ReturnType<TidewireClient['_addListener']>;

export class Channel {
  readonly name: string;
  #client: TidewireClient;
  #subscribed = false; // holds a reference to its own name
  #listeners = new Set<ListenerToken>();
  #bindings: Array<{ channel: string; listener: ListenerToken }> = [];

  constructor(client: TidewireClient, name: string) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new TidewireError(ErrorCode.invalidArgument, 'tidewire: a channel needs a non-empty name');
    }
    this.#client = client;
    this.name = name;
  }

  /**
   * Subscribes this handle (idempotent). Returns the handle for chaining. After the server ended the
   * subscription (see onError), calling it again subscribes anew. A handle with postgres_changes bindings is
   * subscribed through them (its own name is not subscribed unless other listeners need it).
   */
  subscribe(): this {
    if (!this.#subscribed && this.#bindings.length === 0) this.#subscribeOwn();
    else if (this.#subscribed) this.#client._resubscribe(this.name);
    for (const b of this.#bindings) this.#client._resubscribe(b.channel);
    return this;
  }

  /** Unsubscribes this handle and removes its listeners and postgres_changes bindings. */
  unsubscribe(): void {
    for (const b of this.#bindings) this.#client._release(b.channel, [b.listener]);
    this.#bindings = [];
    if (!this.#subscribed) return;
    this.#subscribed = false;
    this.#client._release(this.name, this.#listeners);
    this.#listeners.clear();
  }

  get isSubscribed(): boolean {
    return this.#subscribed || this.#bindings.length > 0;
  }

  /**
   * Database changes in the seeds' shape: `callback` receives each change of `filter.table` (a row inserted,
   * updated or deleted by anyone: the app's backend, psql, migrations) that matches `filter.event` and
   * `filter.filter`. Subscribes the table's channel `db:<schema>.<table>` at once; returns the handle, so
   * `.subscribe()` chains as in the seeds, and `unsubscribe()` ends the binding. An invalid filter throws a
   * TypeError; one the server refuses (`bad_filter`, `unknown_table`, `forbidden`) reaches onError.
   *
   * ```ts
   * client.channel('todos').on<Todo>('postgres_changes', { event: '*', schema: 'public', table: 'todos' }, (p) => {
   *   if (p.eventType === 'DELETE') remove(p.old.id); else upsert(p.new);
   * }).subscribe();
   * ```
   */
  on<Row extends object = Record<string, unknown>>(
    type: 'postgres_changes',
    filter: PostgresChangesFilter<'INSERT'>,
    callback: (payload: PostgresInsertPayload<Row>) => void,
  ): this;
  on<Row extends object = Record<string, unknown>>(
    type: 'postgres_changes',
    filter: PostgresChangesFilter<'UPDATE'>,
    callback: (payload: PostgresUpdatePayload<Row>) => void,
  ): this;
  on<Row extends object = Record<string, unknown>>(
    type: 'postgres_changes',
    filter: PostgresChangesFilter<'DELETE'>,
    callback: (payload: PostgresDeletePayload<Row>) => void,
  ): this;
  on<Row extends object = Record<string, unknown>>(
    type: 'postgres_changes',
    filter: PostgresChangesFilter,
    callback: (payload: PostgresChangesPayload<Row>) => void,
  ): this;
  /** Listens to `event` (`'*'` for every event). Subscribes the handle if needed. Returns `off`. */
  on<T = unknown>(event: string, handler: MessageHandler<T>): () => void;
  on(event: string, handler: unknown, callback?: unknown): (() => void) | this {
    if (event === PostgresChanges.event && typeof handler === 'object') return this.#bind(handler, callback);
    return this.#add(event, handler as MessageHandler<unknown>, false);
  }

  /** Like on(), for the next matching message only. */
  once<T = unknown>(event: string, handler: MessageHandler<T>): () => void {
    return this.#add(event, handler as MessageHandler<unknown>, true);
  }

  /** Removes listeners: one handler, every handler of an event, or all of this handle's. */
  off(event?: string, handler?: MessageHandler<never>): void {
    for (const l of [...this.#listeners]) {
      if (event !== undefined && l.event !== event) continue;
      if (handler !== undefined && l.handler !== handler) continue;
      this.#listeners.delete(l);
      this.#client._removeListener(this.name, l);
    }
  }

  /** Number of listeners on this channel (all handles), optionally for one event. */
  listenerCount(event?: string): number {
    return this.#client._listenerCount(this.name, event);
  }

  /** Publishes an event on this channel; resolves with the server's ack. */
  send<T>(event: string, payload: T, options?: SendOptions): Promise<SendResult> {
    return this.#client.send(this.name, event, payload, options);
  }

  /**
   * Called when, after a reconnect, the server could not replay what this channel missed (its history was
   * lost or too much was missed): refetch the channel's state. Subscribes the handle if needed.
   */
  onGap(listener: (gap: Gap) => void): () => void {
    return this.#each((name) => this.#client._addGapListener(name, listener));
  }

  /**
   * Called every time the server confirms this channel's subscription: the first time and after every
   * reconnect (the place to (re)load state). Subscribes the handle if needed. Returns the unsubscribe function.
   */
  onSubscribed(listener: () => void): () => void {
    return this.#each((name) => this.#client._onSubscribed(name, listener));
  }

  /**
   * Called with this channel's errors. When the server ends the subscription because access was lost, the
   * error's `code` is the reason (`room_left`, `room_deleted`, `access_revoked`; `details.channel` names the
   * channel): the channel stays unsubscribed, also across reconnects, until subscribe() is called again. The
   * same error also reaches client.onError. Subscribes the handle if needed. Returns the unsubscribe function.
   */
  onError(listener: (error: TidewireError) => void): () => void {
    return this.#each((name) => this.#client._addErrorListener(name, listener));
  }

  /** Resolves when the server has confirmed the subscription (each postgres_changes binding's). */
  whenSubscribed(): Promise<void> {
    if (!this.isSubscribed) this.subscribe();
    return Promise.all(this.#names().map((name) => this.#client._whenSubscribed(name))).then(() => undefined);
  }

  /** The channels this handle holds: its own name and its bindings' tables' channels. */
  #names(): string[] {
    const names = this.#subscribed ? [this.name] : [];
    for (const b of this.#bindings) if (!names.includes(b.channel)) names.push(b.channel);
    return names;
  }

  /** Subscribes the handle if needed, registers on each of its channels; returns what undoes it all. */
  #each(register: (name: string) => () => void): () => void {
    this.subscribe();
    const offs = this.#names().map(register);
    return () => {
      for (const off of offs) off();
    };
  }

  #subscribeOwn(): void {
    if (this.#subscribed) return;
    this.#client._acquire(this.name);
    this.#subscribed = true;
  }

  #bind(spec: unknown, callback: unknown): this {
    const binding = postgresBinding(spec);
    if (typeof callback !== 'function') {
      throw new TypeError("tidewire: on('postgres_changes', filter, callback) needs a callback function");
    }
    const deliver = callback as (payload: PostgresChangesPayload) => void;
    const listener = this.#client._bindChanges(binding.channel, binding.changes, (m) => {
      if (binding.matches(m.payload)) deliver(m.payload);
    });
    this.#client._acquire(binding.channel);
    this.#bindings.push({ channel: binding.channel, listener });
    return this;
  }

  #add(event: string, handler: MessageHandler<unknown>, once: boolean): () => void {
    if (typeof event !== 'string' || event.length === 0) {
      throw new TidewireError(ErrorCode.invalidArgument, "tidewire: on(event, handler) needs an event name or '*'");
    }
    if (typeof handler !== 'function') {
      throw new TidewireError(ErrorCode.invalidArgument, 'tidewire: on(event, handler) needs a handler function');
    }
    if (this.#subscribed) this.#client._resubscribe(this.name);
    else this.#subscribeOwn();
    const token = this.#client._addListener(this.name, event, handler, once);
    this.#listeners.add(token);
    return () => {
      if (this.#listeners.delete(token)) this.#client._removeListener(this.name, token);
    };
  }
}
