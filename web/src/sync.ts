// A data-sync collection (docs/PROTOCOL.md section 12): a snapshot on every (re)subscription, change events
// after it, and optimistic local changes that roll back when the server refuses them. A store (store.ts): the
// items live in the state module (WasmSyncCollection); the snapshot is {items, loaded, error}.
import type { Channel } from './channel.js';
import { ChannelStateStore } from './channel_store.js';
import type { TidewireClient } from './client.js';
import { TidewireError } from './errors.js';
import type { StateModule, WasmSyncCollection } from './state_module.js';
import { ErrorCode } from './wire.js';

export interface SyncItem<T> {
  id: string;
  version: number;
  data: T;
  updatedAt?: number;
  updatedBy?: string;
  /** True while a local change to it waits for the server. */
  pending?: boolean;
}

export interface SyncEvents<T> {
  onInsert?: (item: SyncItem<T>) => void;
  onUpdate?: (item: SyncItem<T>) => void;
  onDelete?: (id: string) => void;
  /**
   * A local change the server refused (it has been rolled back). Not called when the refused change is already
   * what is stored (a version conflict whose `current` holds every field the update set).
   */
  onError?: (error: TidewireError) => void;
}

/** What a sync collection renders from. A new object only when something in it changed. */
export interface SyncSnapshot<T> {
  /** Confirmed items with this client's pending changes applied, in creation order. */
  items: SyncItem<T>[];
  /** False until the first snapshot from the server was applied. */
  loaded: boolean;
  /** The last local change the server refused, in plain words, until dismissError() or the next refusal. */
  error: TidewireError | null;
}

type Kind = 'insert' | 'update' | 'delete';

/** A version conflict said plainly (same code and details): someone else changed the item first. */
function plainError(error: TidewireError): TidewireError {
  if (!(error instanceof TidewireError) || error.code !== ErrorCode.versionConflict) return error;
  return new TidewireError(
    error.code,
    'Someone else changed this item at the same time, so your change was not saved. Their version is shown; make your change again if you still want it.',
    error.details,
  );
}

const EMPTY: SyncSnapshot<never> = { items: [], loaded: false, error: null };

export class SyncCollection<T extends Record<string, unknown> = Record<string, unknown>> extends ChannelStateStore<
  SyncSnapshot<T>,
  WasmSyncCollection
> {
  protected readonly kind = 'sync collection';
  readonly resource: string;
  #events: SyncEvents<T>;
  #loaded = false;
  #error: TidewireError | null = null;
  #sinceSnapshot = new Set<Array<[unknown, Kind]>>();
  #whenLoaded: Promise<void>;
  #markLoaded: () => void = () => undefined;

  /**
   * `eager` (default true): subscribes now and stays until close(). False: subscribes when the first listener
   * does and leaves a grace period after the last (how the React hook uses it; creating it has no side effects).
   */
  constructor(client: TidewireClient, channel: string, resource: string, events: SyncEvents<T> = {}, eager = true) {
    super(client, channel, EMPTY);
    this.resource = resource;
    this.#events = events;
    this.#whenLoaded = new Promise((resolve) => {
      this.#markLoaded = resolve;
    });
    if (eager) this.retain(); // released by close()
  }

  /** Resolves once the first snapshot has been applied. */
  whenLoaded(): Promise<void> {
    return this.#whenLoaded;
  }

  get items(): SyncItem<T>[] {
    return this.getSnapshot().items;
  }

  /** Called with the items whenever they change (and brings the store online). Returns unsubscribe. */
  onChange(listener: (items: SyncItem<T>[]) => void): () => void {
    return this.subscribe(() => listener(this.getSnapshot().items));
  }

  /** Inserts an item: it shows at once (pending) and takes the server's id when confirmed. */
  insert(data: T): Promise<SyncItem<T>> {
    return this.#mutate('sync_insert', { data }, (state, ref) => void state.optimisticInsert(ref, JSON.stringify(data)));
  }

  /** Merges `patch` into an item, against the version this client last saw (a stale one is refused). */
  update(id: string, patch: Partial<T>): Promise<SyncItem<T>> {
    return this.#mutate('sync_update', (state) => ({ id, version: state.versionOf(id), data: patch }), (state, ref) => {
      state.optimisticUpdate(ref, id, JSON.stringify(patch));
    });
  }

  async remove(id: string): Promise<void> {
    await this.#mutate('sync_delete', { id }, (state, ref) => void state.optimisticDelete(ref, id));
  }

  /** Clears `error` in the snapshot. */
  dismissError(): void {
    if (this.#error === null) return;
    this.#error = null;
    this.changed();
  }

  protected createState(module: StateModule): WasmSyncCollection {
    return module.syncCollection();
  }

  protected wire(handle: Channel, state: WasmSyncCollection): Array<() => void> {
    return [
      handle.on('sync_insert', (m) => this.#onEvent(state, m.payload, 'insert')),
      handle.on('sync_update', (m) => this.#onEvent(state, m.payload, 'update')),
      handle.on('sync_delete', (m) => this.#onEvent(state, m.payload, 'delete')),
      handle.onSubscribed(() => void this.#snapshot(state)),
    ];
  }

  protected reset(): void {
    // The items stay visible (a cache) until the next snapshot replaces them.
    this.#sinceSnapshot.clear();
  }

  protected read(previous: SyncSnapshot<T>): SyncSnapshot<T> {
    const state = this.state;
    const items = state ? (JSON.parse(state.items()) as SyncItem<T>[]) : previous.items;
    return { items, loaded: this.#loaded, error: this.#error };
  }

  #mutate(
    type: string,
    body: Record<string, unknown> | ((state: WasmSyncCollection) => Record<string, unknown>),
    optimistic: (state: WasmSyncCollection, ref: number) => void,
  ): Promise<SyncItem<T>> {
    return this.act(async (state) => {
      let ref = 0;
      try {
        const fields = typeof body === 'function' ? body(state) : body;
        const data = await this.client.request<{ item?: SyncItem<T> }>(
          type,
          { channel: this.channel, resource: this.resource, ...fields },
          {
            onQueued: (r) => {
              ref = r;
              optimistic(state, r);
              this.changed();
            },
          },
        );
        if (this.state === state) state.confirm(ref, JSON.stringify(data ?? null));
        this.changed();
        return data?.item as SyncItem<T>;
      } catch (e) {
        const error = e as TidewireError;
        const current = error.details?.current;
        const redundant = this.state === state && state.reject(ref, current !== undefined ? JSON.stringify(current) : '');
        // Refused, yet the stored item already holds what was asked (two users ticked the same box at once):
        // nothing went wrong, so nothing is reported and the caller gets the item as stored.
        if (redundant) {
          this.changed();
          return current as SyncItem<T>;
        }
        const reported = plainError(error);
        this.#error = reported;
        this.changed();
        this.#events.onError?.(reported);
        throw reported;
      }
    });
  }

  async #snapshot(state: WasmSyncCollection): Promise<void> {
    // Events that arrive while the snapshot is on its way may be newer than it (the reply can trail a broadcast):
    // they are applied at once and again on top of the snapshot, which they would otherwise be lost under. They
    // are idempotent by (id, version), so one the snapshot already holds changes nothing.
    const since: Array<[unknown, Kind]> = [];
    this.#sinceSnapshot.add(since);
    try {
      const data = await this.client.request<{ items?: unknown[] }>('sync_snapshot', {
        channel: this.channel,
        resource: this.resource,
      });
      if (this.state !== state) return;
      state.applySnapshot(JSON.stringify(data?.items ?? []));
      for (const [payload, kind] of since) this.#apply(state, payload, kind);
      this.#loaded = true;
      this.changed();
      this.#markLoaded();
    } catch {
      // Disconnected meanwhile: the next subscription confirmation takes a new snapshot.
    } finally {
      this.#sinceSnapshot.delete(since);
    }
  }

  /** Applies a change event to the state; false when it is not one of this resource's. */
  #apply(state: WasmSyncCollection, payload: unknown, kind: Kind): boolean {
    if (payload === null || typeof payload !== 'object') return false;
    const p = payload as { resource?: unknown; item?: SyncItem<T>; id?: unknown };
    if (p.resource !== this.resource) return false;
    if (kind === 'delete') {
      if (typeof p.id !== 'string') return false;
      state.applyDelete(p.id);
      return true;
    }
    return p.item !== undefined && state.applyUpsert(JSON.stringify(p.item));
  }

  #onEvent(state: WasmSyncCollection, payload: unknown, kind: Kind): void {
    if (!this.#apply(state, payload, kind)) return;
    for (const since of this.#sinceSnapshot) since.push([payload, kind]);
    this.changed();
    const p = payload as { item?: SyncItem<T>; id?: string };
    if (kind === 'delete') this.#events.onDelete?.(p.id as string);
    else if (kind === 'insert') this.#events.onInsert?.(p.item as SyncItem<T>);
    else this.#events.onUpdate?.(p.item as SyncItem<T>);
  }
}
