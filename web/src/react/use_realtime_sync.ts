import { useCallback, useMemo } from 'react';

import type { TidewireError } from '../errors.js';
import { SyncCollection, type SyncItem } from '../sync.js';
import { useRealtimeClient } from './context.js';
import { useLatest } from './use_latest.js';
import { useStore } from './use_store.js';

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
  /** Shows the item at once (pending) and resolves with it as the server stored it. Usable from the first render. */
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
  // Created during render without side effects; it subscribes when useStore does, leaves after the last.
  const sync = useMemo(
    () =>
      new SyncCollection<T>(
        client,
        channel,
        resource,
        {
          onInsert: (item) => handlers.current.onInsert?.(flatten(item)),
          onUpdate: (item) => handlers.current.onUpdate?.(flatten(item)),
          onDelete: (id) => handlers.current.onDelete?.(id),
          onError: (e) => handlers.current.onError?.(e),
        },
        false,
      ),
    [client, channel, resource, handlers],
  );
  const { items, loaded, error } = useStore(sync);
  const initial = options.initialData ?? (EMPTY as SyncRecord<T>[]);
  // initialData until the server's snapshot (or a local change) is there.
  const data = useMemo(() => (loaded || items.length > 0 ? items.map(flatten) : initial), [items, loaded, initial]);

  const insert = useCallback(async (value: T) => flatten(await sync.insert(value)), [sync]);
  const update = useCallback(async (id: string, patch: Partial<T>) => flatten(await sync.update(id, patch)), [sync]);
  const remove = useCallback((id: string) => sync.remove(id), [sync]);
  const dismissError = useCallback(() => sync.dismissError(), [sync]);
  return { data, insert, update, remove, error, dismissError };
}
