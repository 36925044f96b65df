// One interface for live state (presence, sync collections, chat rooms, the room list, the connection):
// `getSnapshot()` and `subscribe(listener)`, the shape React's useSyncExternalStore reads (zustand's store and
// TanStack Query's Subscribable are the models).
//
// Theory of operation:
// - Creating a store has no side effects (a React hook creates one during render). It goes on the network when
//   it gets its first hold: a listener (subscribe) or an action in flight (retain()). It leaves the network
//   `graceMs` after its last hold ends, so StrictMode's unmount/remount and a quick re-render reuse it.
// - The snapshot is immutable and the same object until something changed. Changes only mark it stale; it is
//   read from its source (the state module) on the next getSnapshot(), so a burst of updates between two renders
//   costs one read.
// - close() ends it for good: it leaves at once, and later holds are refused.
import { TidewireError } from './errors.js';
import { ErrorCode } from './wire.js';

/** Called when the snapshot may have changed; read it with getSnapshot(). */
export type StoreListener = () => void;

/** Live state: an immutable snapshot and change notifications. */
export interface Store<S> {
  /** The current snapshot: the same object until the state changes. */
  getSnapshot(): S;
  /** Calls `listener` after every change; the first listener brings the store online. Returns unsubscribe. */
  subscribe(listener: StoreListener): () => void;
}

export abstract class LiveStore<S> implements Store<S> {
  #snapshot: S;
  #stale = false;
  #listeners = new Set<StoreListener>();
  #holds = 0;
  #online = false;
  #leaveTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #graceMs: () => number;

  /** `graceMs`: read when the last hold ends (a client knows its grace period once its engine has loaded). */
  protected constructor(initial: S, graceMs: () => number) {
    this.#snapshot = initial;
    this.#graceMs = graceMs;
  }

  getSnapshot = (): S => {
    if (this.#stale || (this.readWhileOffline && !this.#online)) {
      this.#stale = false;
      this.#snapshot = this.read(this.#snapshot);
    }
    return this.#snapshot;
  };

  subscribe = (listener: StoreListener): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError('tidewire: subscribe(listener) needs a function');
    if (this.#closed) return () => undefined;
    this.#listeners.add(listener);
    const release = this.retain();
    return () => {
      if (this.#listeners.delete(listener)) release();
    };
  };

  /**
   * Holds the store online (as a listener does) until the returned function is called: actions hold it while
   * they run, so an action called before anything subscribed still joins, and its result still lands.
   */
  retain(): () => void {
    if (this.#closed) throw new TidewireError(ErrorCode.invalidArgument, `tidewire: this ${this.kind} was closed; create a new one`);
    this.#holds += 1;
    clearTimeout(this.#leaveTimer);
    this.#leaveTimer = undefined;
    if (!this.#online) {
      this.#online = true;
      this.goOnline();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds -= 1;
      if (this.#holds > 0 || this.#closed) return;
      this.#leaveTimer = setTimeout(() => {
        this.#leaveTimer = undefined;
        if (this.#holds === 0) this.#goOffline();
      }, this.#graceMs());
    };
  }

  /** True while on the network (held, or within the grace period after the last hold). */
  get online(): boolean {
    return this.#online;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Leaves the network now and releases everything; later actions reject. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#leaveTimer);
    this.#goOffline();
    this.#listeners.clear();
  }

  /**
   * True for a store whose source can change without telling it while offline (the connection state): then
   * getSnapshot() reads while offline, and read() must return `previous` when nothing changed.
   */
  protected readonly readWhileOffline: boolean = false;
  /** What the store is, for error messages ("presence", "chat room"). */
  protected abstract readonly kind: string;
  /** Joins the network (subscribe channels, register listeners, load state). */
  protected abstract goOnline(): void;
  /** Leaves it (the opposite of goOnline(), at once). */
  protected abstract goOffline(): void;
  /** The snapshot as of now, read from the store's source; `previous` when nothing it holds changed. */
  protected abstract read(previous: S): S;

  /** The state changed: the snapshot is stale; listeners are told. */
  protected changed(): void {
    this.#stale = true;
    this.#notify();
  }

  /** Replaces the snapshot (stores whose state lives in the snapshot itself) and tells listeners. */
  protected setSnapshot(next: S): void {
    if (next === this.#snapshot && !this.#stale) return;
    this.#stale = false;
    this.#snapshot = next;
    this.#notify();
  }

  #notify(): void {
    for (const l of [...this.#listeners]) {
      try {
        l();
      } catch (e) {
        queueMicrotask(() => {
          throw e; // a listener's bug is reported, and never stops the others
        });
      }
    }
  }

  #goOffline(): void {
    if (!this.#online) return;
    this.#online = false;
    this.goOffline();
  }
}
