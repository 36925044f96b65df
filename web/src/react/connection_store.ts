// One external store per client over its connection state, shared by every hook and component that shows it.
// useSyncExternalStore reads it, so a burst of state changes renders once with the final state.
import { useCallback, useSyncExternalStore } from 'react';

import type { TidewireClient } from '../client.js';
import type { ConnectionState } from '../wire.js';

/** What the connection hooks render from. A new object only when something in it changed. */
export interface ConnectionSnapshot {
  state: ConnectionState;
  /** Failed attempts in a row since the last successful connection (`getMetrics().reconnectAttempts`). */
  reconnectAttempts: number;
}

interface Store {
  snapshot: ConnectionSnapshot;
  listeners: Set<() => void>;
  detach: (() => void) | undefined;
}

const stores = new WeakMap<TidewireClient, Store>();
const IDLE: ConnectionSnapshot = { state: 'idle', reconnectAttempts: 0 };

function read(client: TidewireClient): ConnectionSnapshot {
  return { state: client.state, reconnectAttempts: client.getMetrics().reconnectAttempts };
}

function storeOf(client: TidewireClient): Store {
  let store = stores.get(client);
  if (store === undefined) {
    store = { snapshot: read(client), listeners: new Set(), detach: undefined };
    stores.set(client, store);
  }
  return store;
}

function refresh(client: TidewireClient, store: Store): boolean {
  const next = read(client);
  if (next.state === store.snapshot.state && next.reconnectAttempts === store.snapshot.reconnectAttempts) return false;
  store.snapshot = next;
  return true;
}

/** Subscribes `listener` to `client`'s connection snapshot. @internal */
export function subscribeConnection(client: TidewireClient, listener: () => void): () => void {
  const store = storeOf(client);
  store.listeners.add(listener);
  if (store.detach === undefined) {
    store.detach = client.onStateChange(() => {
      if (!refresh(client, store)) return;
      for (const l of [...store.listeners]) l();
    });
  }
  return () => {
    store.listeners.delete(listener);
    if (store.listeners.size === 0 && store.detach !== undefined) {
      store.detach();
      store.detach = undefined;
    }
  };
}

/** The current snapshot (cached: the same object until the state or the attempt count changes). @internal */
export function getConnectionSnapshot(client: TidewireClient): ConnectionSnapshot {
  const store = storeOf(client);
  if (store.snapshot.state !== client.state) refresh(client, store);
  return store.snapshot;
}

/** The connection snapshot of `client` (idle for `null`), re-rendering on changes. @internal */
export function useConnectionSnapshot(client: TidewireClient | null): ConnectionSnapshot {
  const subscribe = useCallback(
    (listener: () => void) => (client === null ? () => undefined : subscribeConnection(client, listener)),
    [client],
  );
  const get = useCallback(() => (client === null ? IDLE : getConnectionSnapshot(client)), [client]);
  return useSyncExternalStore(subscribe, get, get);
}
