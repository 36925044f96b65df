// The React glue of every live-state hook: useSyncExternalStore over a store (../store.ts). A burst of changes
// renders once with the latest snapshot, and no change is lost. @internal
import { useSyncExternalStore } from 'react';

import type { TidewireClient } from '../client.js';
import { connectionStore, type ConnectionSnapshot } from '../connection.js';
import type { Store } from '../store.js';

/** Renders `store`'s snapshot; the component's subscription brings the store online. */
export function useStore<S>(store: Store<S>): S {
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/** A store that never changes: what a hook renders when it has nothing to show (no room, no client). */
export function constantStore<S>(snapshot: S): Store<S> {
  return { getSnapshot: () => snapshot, subscribe: () => () => undefined };
}

const IDLE = constantStore<ConnectionSnapshot>({ state: 'idle', reconnectAttempts: 0 });

/** The connection snapshot of `client` (idle for `null`), re-rendering on changes. */
export function useConnectionSnapshot(client: TidewireClient | null): ConnectionSnapshot {
  return useStore(client === null ? IDLE : connectionStore(client));
}
