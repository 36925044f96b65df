// A data-sync collection (docs/PROTOCOL.md section 12): a snapshot on every (re)subscription, change events
// after it, and optimistic local changes that roll back when the server refuses them. The state lives in the
// wasm core (WasmSyncCollection); this class feeds it and notifies listeners.
import type { Channel } from './channel.js';
import type { TidewireClient } from './client.js';
import { TidewireError } from './errors.js';
import type { WasmSyncCollection } from './state_module.js';
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

/** A version conflict said plainly (same code and details): someone else changed the item first. */
function plainError(error: TidewireError): TidewireError {
  if (!(error instanceof TidewireError) || error.code !== ErrorCode.versionConflict) return error;
  return new TidewireError(
    error.code,
    'Someone else changed this item at the same time, so your change was not saved. Their version is shown; make your change again if you still want it.',
    error.details,
  );
}

export class SyncCollection<T extends Record<string, unknown> = Record<string, unknown>> {
  readonly channel: string;
  readonly resource: string;
  #client: TidewireClient;
  #handle: Channel;
  #state: WasmSyncCollection | undefined;
  #items: SyncItem<T>[] = [];
  #listeners = new Set<(items: SyncItem<T>[]) => void>();
  #events: SyncEvents<T>;
  #unsubs: Array<() => void> = [];
  #sinceSnapshot = new Set<Array<[unknown, 'insert' | 'update' | 'delete']>>();
  #closed = false;
  #ready: Promise<void>;
  #loaded: Promise<void>;
  #markLoaded: () => void = () => undefined;

  constructor(client: TidewireClient, channel: string, resource: string, events: SyncEvents<T> = {}) {
    this.#client = client;
    this.channel = channel;
    this.resource = resource;
    this.#events = events;
    this.#handle = client.channel(channel).subscribe();
    this.#loaded = new Promise((resolve) => {
      this.#markLoaded = resolve;
    });
    this.#ready = this.#start();
    this.#ready.catch(() => undefined); // reported on the client's error listeners; methods awaiting it still reject
  }

  /** Resolves once the first snapshot has been applied. */
  whenLoaded(): Promise<void> {
    return this.#loaded;
  }

  get items(): SyncItem<T>[] {
    return this.#items;
  }

  onChange(listener: (items: SyncItem<T>[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Inserts an item: it shows at once (pending) and takes the server's id when confirmed. */
  async insert(data: T): Promise<SyncItem<T>> {
    await this.#ready;
    return this.#mutate('sync_insert', { data }, (ref) => this.#state!.optimisticInsert(ref, JSON.stringify(data)));
  }

  /** Merges `patch` into an item, against the version this client last saw (a stale one is refused). */
  async update(id: string, patch: Partial<T>): Promise<SyncItem<T>> {
    await this.#ready;
    const version = this.#state!.versionOf(id);
    return this.#mutate('sync_update', { id, version, data: patch }, (ref) => {
      this.#state!.optimisticUpdate(ref, id, JSON.stringify(patch));
    });
  }

  async remove(id: string): Promise<void> {
    await this.#ready;
    await this.#mutate('sync_delete', { id }, (ref) => {
      this.#state!.optimisticDelete(ref, id);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const u of this.#unsubs) u();
    this.#handle.unsubscribe();
    this.#state?.delete();
    this.#state = undefined;
    this.#listeners.clear();
  }

  async #mutate(type: string, body: Record<string, unknown>, optimistic: (ref: number) => void): Promise<SyncItem<T>> {
    let ref = 0;
    try {
      const data = await this.#client.request<{ item?: SyncItem<T> }>(
        type,
        { channel: this.channel, resource: this.resource, ...body },
        {
          onQueued: (r) => {
            ref = r;
            optimistic(r);
            this.#publish();
          },
        },
      );
      this.#state?.confirm(ref, JSON.stringify(data ?? null));
      this.#publish();
      return data?.item as SyncItem<T>;
    } catch (e) {
      const error = e as TidewireError;
      const current = error.details?.current;
      const redundant = this.#state?.reject(ref, current !== undefined ? JSON.stringify(current) : '') ?? false;
      this.#publish();
      // Refused, yet the stored item already holds what was asked (two users ticked the same box at once):
      // nothing went wrong, so nothing is reported and the caller gets the item as stored.
      if (redundant) return current as SyncItem<T>;
      const reported = plainError(error);
      this.#events.onError?.(reported);
      throw reported;
    }
  }

  async #start(): Promise<void> {
    const state = await this.#client._stateModule();
    if (this.#closed) return;
    this.#state = state.syncCollection();
    this.#unsubs.push(
      this.#handle.on('sync_insert', (m) => this.#onEvent(m.payload, 'insert')),
      this.#handle.on('sync_update', (m) => this.#onEvent(m.payload, 'update')),
      this.#handle.on('sync_delete', (m) => this.#onEvent(m.payload, 'delete')),
      this.#client._onSubscribed(this.channel, () => void this.#snapshot()),
    );
  }

  async #snapshot(): Promise<void> {
    // Events that arrive while the snapshot is on its way may be newer than it (the reply can trail a broadcast):
    // they are applied at once and again on top of the snapshot, which they would otherwise be lost under. They
    // are idempotent by (id, version), so one the snapshot already holds changes nothing.
    const since: Array<[unknown, 'insert' | 'update' | 'delete']> = [];
    this.#sinceSnapshot.add(since);
    try {
      const data = await this.#client.request<{ items?: unknown[] }>('sync_snapshot', {
        channel: this.channel,
        resource: this.resource,
      });
      if (this.#closed || !this.#state) return;
      this.#state.applySnapshot(JSON.stringify(data?.items ?? []));
      for (const [payload, kind] of since) this.#apply(payload, kind);
      this.#publish();
      this.#markLoaded();
    } catch {
      // Disconnected meanwhile: the next subscription confirmation takes a new snapshot.
    } finally {
      this.#sinceSnapshot.delete(since);
    }
  }

  /** Applies a change event to the state; false when it is not one of this resource's. */
  #apply(payload: unknown, kind: 'insert' | 'update' | 'delete'): boolean {
    if (!this.#state || payload === null || typeof payload !== 'object') return false;
    const p = payload as { resource?: unknown; item?: SyncItem<T>; id?: unknown };
    if (p.resource !== this.resource) return false;
    if (kind === 'delete') {
      if (typeof p.id !== 'string') return false;
      this.#state.applyDelete(p.id);
      return true;
    }
    if (!p.item) return false;
    this.#state.applyUpsert(JSON.stringify(p.item));
    return true;
  }

  #onEvent(payload: unknown, kind: 'insert' | 'update' | 'delete'): void {
    if (!this.#apply(payload, kind)) return;
    for (const since of this.#sinceSnapshot) since.push([payload, kind]);
    this.#publish();
    const p = payload as { item?: SyncItem<T>; id?: string };
    if (kind === 'delete') this.#events.onDelete?.(p.id as string);
    else if (kind === 'insert') this.#events.onInsert?.(p.item as SyncItem<T>);
    else this.#events.onUpdate?.(p.item as SyncItem<T>);
  }

  #publish(): void {
    if (!this.#state) return;
    this.#items = JSON.parse(this.#state.items()) as SyncItem<T>[];
    for (const l of [...this.#listeners]) l(this.#items);
  }
}
