// A data-sync collection (docs/PROTOCOL.md section 12): a snapshot on every (re)subscription, change events
// after it, and optimistic local changes that roll back when the server refuses them. The state lives in the
// wasm core (WasmSyncCollection); this class feeds it and notifies listeners.
import type { Channel } from './channel.js';
import type { TidewireClient } from './client.js';
import type { TidewireError } from './errors.js';
import type { WasmSyncCollection } from './state_module.js';

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
  /** A local change the server refused (it has been rolled back). */
  onError?: (error: TidewireError) => void;
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
      this.#state?.reject(ref, current !== undefined ? JSON.stringify(current) : '');
      this.#publish();
      this.#events.onError?.(error);
      throw error;
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
    try {
      const data = await this.#client.request<{ items?: unknown[] }>('sync_snapshot', {
        channel: this.channel,
        resource: this.resource,
      });
      if (this.#closed || !this.#state) return;
      this.#state.applySnapshot(JSON.stringify(data?.items ?? []));
      this.#publish();
      this.#markLoaded();
    } catch {
      // Disconnected meanwhile: the next subscription confirmation takes a new snapshot.
    }
  }

  #onEvent(payload: unknown, kind: 'insert' | 'update' | 'delete'): void {
    if (!this.#state || payload === null || typeof payload !== 'object') return;
    const p = payload as { resource?: unknown; item?: SyncItem<T>; id?: unknown };
    if (p.resource !== this.resource) return;
    if (kind === 'delete') {
      if (typeof p.id !== 'string') return;
      this.#state.applyDelete(p.id);
      this.#publish();
      this.#events.onDelete?.(p.id);
      return;
    }
    if (!p.item) return;
    this.#state.applyUpsert(JSON.stringify(p.item));
    this.#publish();
    if (kind === 'insert') this.#events.onInsert?.(p.item);
    else this.#events.onUpdate?.(p.item);
  }

  #publish(): void {
    if (!this.#state) return;
    this.#items = JSON.parse(this.#state.items()) as SyncItem<T>[];
    for (const l of [...this.#listeners]) l(this.#items);
  }
}
