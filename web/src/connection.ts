// The connection's state as a store (store.ts), one per client, shared by every hook and component that shows
// it: useSyncExternalStore reads it, so a burst of state changes renders once with the final state.
import type { TidewireClient } from './client.js';
import { LiveStore } from './store.js';
import type { ConnectionState } from './wire.js';

/** What the connection hooks render from. A new object only when something in it changed. */
export interface ConnectionSnapshot {
  state: ConnectionState;
  /** Failed attempts in a row since the last successful connection (`getMetrics().reconnectAttempts`). */
  reconnectAttempts: number;
}

export class ConnectionStore extends LiveStore<ConnectionSnapshot> {
  protected readonly kind = 'connection store';
  protected override readonly readWhileOffline = true;
  #client: TidewireClient;
  #off: (() => void) | undefined;

  constructor(client: TidewireClient) {
    super({ state: client.state, reconnectAttempts: 0 }, () => 0);
    this.#client = client;
  }

  protected goOnline(): void {
    this.#off = this.#client.onStateChange(() => this.changed());
    this.changed(); // it may have changed while nobody listened
  }

  protected goOffline(): void {
    this.#off?.();
    this.#off = undefined;
  }

  protected read(previous: ConnectionSnapshot): ConnectionSnapshot {
    const state = this.#client.state;
    if (!this.online && state === previous.state) return previous; // read on every render: keep it cheap
    const reconnectAttempts = this.#client.closed ? previous.reconnectAttempts : this.#client.getMetrics().reconnectAttempts;
    if (state === previous.state && reconnectAttempts === previous.reconnectAttempts) return previous;
    return { state, reconnectAttempts };
  }
}

const stores = new WeakMap<TidewireClient, ConnectionStore>();

/** The connection store of `client` (one per client). */
export function connectionStore(client: TidewireClient): ConnectionStore {
  let store = stores.get(client);
  if (store === undefined) {
    store = new ConnectionStore(client);
    stores.set(client, store);
  }
  return store;
}
