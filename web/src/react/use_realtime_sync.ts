import { useCallback, useMemo, useState } from 'react';

import type { TidewireError } from '../errors.js';
import type { SyncCollection, SyncItem } from '../sync.js';
import { useRealtimeClient } from './context.js';
import { clientKey, useDisposable } from './use_disposable.js';
import { useExternal } from './use_external.js';
import { useLatest } from './use_latest.js';

/** An item flattened for rendering: its id, its data's fields, and `pending` while a local change waits. */
export type SyncRecord<T> = T & { id: string; pending?: boolean };

export interface UseRealtimeSyncOptions<T> {
  channel: string;
  /** The resource's name on the channel, e.g. `'task'`. */
  resource: string;
  /** Shown until the server's snapshot arrives. Default `[]`. */
  initialData?: SyncRecord<T>[];
  /** Another client (or this one, confirmed) inserted an item. The latest handler is always called. */
  onInsert?: (item: SyncRecord<T>) => void;
  onUpdate?: (item: SyncRecord<T>) => void;
  onDelete?: (id: string) => void;
  /** A local change the server refused; it has been rolled back (also kept in `error` until dismissed). */
  onError?: (error: TidewireError) => void;
}

export interface RealtimeSync<T> {
  data: SyncRecord<T>[];
  /** Shows the item at once (pending) and resolves with it as the server stored it. */
  insert: (data: T) => Promise<SyncRecord<T>>;
  /** Merges `patch` into an item; rolls back if the server refuses (for example a version conflict). */
  update: (id: string, patch: Partial<T>) => Promise<SyncRecord<T>>;
  remove: (id: string) => Promise<void>;
  /**
   * The last local change the server refused, in plain words (`error.message`), until dismissError() or the next
   * refusal. A refused change that is already what is stored (two users ticked the same box) is not an error.
   */
  error: TidewireError | null;
  dismissError: () => void;
}

function flatten<T>(item: SyncItem<T>): SyncRecord<T> {
  return { ...item.data, id: item.id, ...(item.pending ? { pending: true } : {}) } as SyncRecord<T>;
}

const EMPTY: never[] = [];
interface Loaded<T> {
  items: SyncItem<T>[] | null; // null until the first snapshot
}

/**
 * A live, optimistic view of `resource` on `channel`. The collection lives in the client (it takes a new
 * snapshot after every reconnect); the hook renders it, batching bursts of changes into one render.
 *
 * ```tsx
 * const { data: tasks, insert, update, remove } = useRealtimeSync<Task>({
 *   channel: 'tasks', resource: 'task', initialData: [], onInsert: (t) => toast(t.title),
 * });
 * ```
 */
export function useRealtimeSync<T extends Record<string, unknown> = Record<string, unknown>>(
  options: UseRealtimeSyncOptions<T>,
): RealtimeSync<T> {
  const { channel, resource } = options;
  const client = useRealtimeClient();
  const handlers = useLatest(options);
  const [error, setError] = useState<TidewireError | null>(null); // setError is stable: safe in the collection's handlers
  const collection = useDisposable<{ sync: SyncCollection<T>; loaded: Loaded<T>; onChange: (l: () => void) => () => void }>(
    `${clientKey(client)}\u0000${channel}\u0000${resource}`,
    () => {
      const sync = client.sync<T>(channel, resource, {
        onInsert: (item) => handlers.current.onInsert?.(flatten(item)),
        onUpdate: (item) => handlers.current.onUpdate?.(flatten(item)),
        onDelete: (id) => handlers.current.onDelete?.(id),
        onError: (e) => {
          setError(e);
          handlers.current.onError?.(e);
        },
      });
      const loaded: Loaded<T> = { items: null };
      // The first change is the snapshot: from then on the collection's items are the truth.
      sync.onChange((items) => {
        loaded.items = items;
      });
      return { sync, loaded, onChange: (listener: () => void) => sync.onChange(listener) };
    },
    (c) => c.sync.close(),
  );
  const items = useExternal(collection, (c) => c.loaded.items, null);
  const initial = options.initialData ?? (EMPTY as SyncRecord<T>[]);
  const data = useMemo(() => (items === null ? initial : items.map(flatten)), [items, initial]);

  const insert = useCallback(
    async (value: T) => {
      if (collection === null) throw new Error('tidewire: insert() before the sync hook mounted');
      return flatten(await collection.sync.insert(value));
    },
    [collection],
  );
  const update = useCallback(
    async (id: string, patch: Partial<T>) => {
      if (collection === null) throw new Error('tidewire: update() before the sync hook mounted');
      return flatten(await collection.sync.update(id, patch));
    },
    [collection],
  );
  const remove = useCallback(
    async (id: string) => {
      if (collection === null) throw new Error('tidewire: remove() before the sync hook mounted');
      await collection.sync.remove(id);
    },
    [collection],
  );
  const dismissError = useCallback(() => setError(null), []);
  return { data, insert, update, remove, error, dismissError };
}
