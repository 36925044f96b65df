// The outbox that survives a reload (`persistOutbox: true`): every send that is queued or awaiting its ack is
// also written to IndexedDB, under the client id it goes out with. After a reload or a crash of the page the
// next client with the same URL resends what is left, with those ids: the server's dedupe by (channel, sender,
// id) (docs/PROTOCOL.md section 9) keeps each message exactly-once even when the page died after sending it but
// before its ack arrived. The engine keeps the bounds and the TTL, as for any send. Loaded lazily (its own chunk):
// only clients that persist pay for it.
//
// Every tab of the origin shares the database. A page holds a Web Lock named after its id prefix while it lives,
// so a page that loads leaves alone the sends of pages still open (another tab's sends in flight) and resends
// only those of pages that are gone.
//
// It imports only types: the error class and the codes come from the client (see Host), so that esbuild does
// not move them into a chunk of their own, shared with the plain API (which its imports cost ≈ 0.4 KB).
import type { PendingAck, PendingReply } from './client.js';
import type { TidewireError } from './errors.js';
import type { WasmClient, WasmResult } from './tidewire_module.mjs';
import type { OutboxResult, RestoredSend, SendResult } from './types.js';
import type { ErrorCode } from './wire.js';

/** What the client hands over: its error class, the error codes, and where storage failures go. */
export interface Host {
  Error: typeof TidewireError;
  codes: typeof ErrorCode;
  report: (error: TidewireError) => void;
}

const DB_NAME = 'tidewire-outbox';
const DB_VERSION = 1;
const STORE = 'sends';
const SCOPE_INDEX = 'scope';

/** One persisted send: what publishWithId needs to send it again, and when it expires. */
export interface StoredSend {
  /** The message's client id: the server's dedupe key, and the record's key. */
  id: string;
  /** Whose outbox: the client's URL (the page's clients of one server share it). */
  scope: string;
  /** The id prefix of the page that sends it now (it holds the Web Lock of that name while it lives). */
  owner: string;
  /** The send order: later sends have a larger one, across pages. */
  order: number;
  /** A publish's channel and event ('' for a request). */
  channel: string;
  event: string;
  /** A request (client.request with `persist`): its type; `json` is then its body. */
  type?: string;
  /** The payload (or a request's body) as JSON text, or `bytes` for a binary send. */
  json?: string;
  bytes?: Uint8Array;
  /** Date.now() when it was sent. */
  queuedAtMs: number;
  /** Date.now() after which it is dropped (`expired`); 0 = no TTL. */
  expiresAtMs: number;
}

type Op = { put: StoredSend } | { remove: string };

function requestDone<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

function errorText(e: unknown): string {
  if (e instanceof DOMException || e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

function lockName(prefix: string): string {
  return `tidewire-outbox ${prefix}`;
}

/** A random id prefix for this page's sends (ids are `<prefix>-<n>`, at most 64 bytes as the protocol asks). */
function pagePrefix(): string {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  let s = 'o';
  for (const b of bytes) s += b.toString(36).padStart(2, '0');
  return s;
}

export class PersistentOutbox {
  readonly #scope: string;
  readonly #host: Host;
  #db: Promise<IDBDatabase | undefined> | undefined;
  #ops: Op[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #scheduled = false;
  #prefix = pagePrefix();
  #count = 0;
  #lastOrder = 0;
  #restored = new Map<string, RestoredSend>();

  /** `host.report` receives storage failures (quota, IndexedDB missing): sends still go, but would not survive a reload. */
  constructor(scope: string, host: Host) {
    this.#scope = scope;
    this.#host = host;
    // Held until the page goes away (never released otherwise): its sends are its own while it lives.
    void globalThis.navigator?.locks?.request(lockName(this.#prefix), () => new Promise<void>(() => undefined));
  }

  /** The persisted sends of this scope, in send order (opens the database on first use). */
  async load(): Promise<StoredSend[]> {
    const db = await this.#open();
    if (db === undefined) return [];
    try {
      const index = db.transaction(STORE, 'readonly').objectStore(STORE).index(SCOPE_INDEX);
      const all = (await requestDone(index.getAll(this.#scope))) as StoredSend[];
      const held = new Set(((await globalThis.navigator?.locks?.query())?.held ?? []).map((l) => l.name));
      const sends = all.filter((s) => !held.has(lockName(s.owner)));
      sends.sort((a, b) => a.order - b.order);
      for (const s of sends) this.#lastOrder = Math.max(this.#lastOrder, s.order);
      return sends;
    } catch (e) {
      this.#fail(`could not read the persisted outbox (${errorText(e)}); sends of the earlier page are not resent`);
      return [];
    }
  }

  /** A new send's record (not stored yet: put() it once the engine accepted it). */
  record(channel: string, event: string, payload: string | Uint8Array, ttlMs: number): StoredSend {
    const now = Date.now();
    this.#lastOrder = Math.max(this.#lastOrder + 1, now * 1000);
    this.#count += 1;
    const send: StoredSend = {
      id: `${this.#prefix}-${this.#count}`,
      scope: this.#scope,
      owner: this.#prefix,
      order: this.#lastOrder,
      channel,
      event,
      queuedAtMs: now,
      expiresAtMs: ttlMs > 0 ? now + ttlMs : 0,
    };
    // A copy of binary bytes: the caller's buffer may change after send() returned.
    if (typeof payload === 'string') send.json = payload;
    else send.bytes = payload.slice();
    return send;
  }

  /** A new request's record (client.request with `persist`). */
  recordRequest(type: string, bodyJson: string, ttlMs: number): StoredSend {
    return { ...this.record('', '', bodyJson, ttlMs), type };
  }

  /**
   * Stores a send the engine accepted; the returned ack handlers forget it once it is settled, unless the client
   * was closed (the next page resends it then).
   */
  track<T>(send: StoredSend, resolve: (r: T) => void, reject: (e: TidewireError) => void): { resolve: (r: T) => void; reject: (e: TidewireError) => void } {
    this.#enqueue({ put: send });
    return {
      resolve: (r) => {
        this.remove(send.id);
        resolve(r);
      },
      reject: (e) => {
        if (e.code !== this.#host.codes.closed) this.remove(send.id);
        reject(e);
      },
    };
  }

  /**
   * Sends an earlier page's sends again through `wasm` (`accepted` gives the engine's ref, or the error that
   * refused it), each with its id and what is left of its TTL; `listeners` receive each one's result.
   */
  restore(
    sends: readonly StoredSend[],
    wasm: WasmClient,
    accepted: (r: WasmResult, channel: string) => number | TidewireError,
    track: (ref: number, ack: PendingAck & PendingReply, request: boolean) => void,
    listeners: ReadonlySet<(result: OutboxResult) => void>,
    threw: (e: unknown) => void,
  ): void {
    const report = (result: OutboxResult): void => {
      for (const l of [...listeners]) {
        try {
          l(result);
        } catch (e) {
          threw(e);
        }
      }
    };
    for (const send of sends) {
      let payload: unknown = send.bytes;
      if (payload === undefined) {
        try {
          payload = JSON.parse(send.json ?? 'null');
        } catch {
          payload = null;
        }
      }
      const info: RestoredSend = { id: send.id, channel: send.channel, event: send.type ?? send.event, payload, queuedAtMs: send.queuedAtMs };
      const settle = (result: OutboxResult): void => {
        this.#restored.delete(send.id);
        report(result);
      };
      // A publish resolves with its ack ({offset}), a request with its reply's data.
      const ack: PendingAck & PendingReply = {
        resolve: (r: unknown) => {
          this.remove(send.id);
          settle(send.type !== undefined ? { ...info, ok: true, data: r } : { ...info, ok: true, offset: (r as SendResult).offset });
        },
        reject: (error) => {
          if (error.code === this.#host.codes.closed) return; // kept for the next page
          this.remove(send.id);
          settle({ ...info, ok: false, error });
        },
      };
      const ttl = send.expiresAtMs > 0 ? send.expiresAtMs - Date.now() : 0;
      if (send.expiresAtMs > 0 && ttl <= 0) {
        ack.reject(new this.#host.Error(this.#host.codes.expired, `tidewire: a send to "${send.channel}" of an earlier page expired before it could be resent`));
        continue;
      }
      const r = send.type !== undefined
        ? wasm.request(send.type, send.json ?? '{}', ttl)
        : send.bytes !== undefined
          ? wasm.publishBinary(send.channel, send.event, send.bytes, ttl, send.id)
          : wasm.publish(send.channel, send.event, send.json ?? 'null', ttl, send.id);
      const ref = accepted(r, send.channel);
      if (typeof ref !== 'number') {
        ack.reject(ref);
        continue;
      }
      this.#restored.set(send.id, info);
      this.#enqueue({ put: { ...send, owner: this.#prefix } }); // this page's now: others leave it alone
      track(ref, ack, send.type !== undefined);
    }
  }

  /** The earlier page's sends being resent, not settled yet. */
  restoredSends(): RestoredSend[] {
    return [...this.#restored.values()];
  }

  /** Forgets a send (it was acknowledged, refused, expired or cleared). Runs after its put, whatever the timing. */
  remove(id: string): void {
    this.#enqueue({ remove: id });
  }

  /** Resolves once every put and remove made so far is committed to IndexedDB (or reported as failed). */
  async flushed(): Promise<void> {
    // Ops waiting imply a write chained on #flushing, which then is another promise: wait until it settles.
    for (;;) {
      const current = this.#flushing;
      await current;
      if (current === this.#flushing && this.#ops.length === 0) return;
    }
  }

  // Operations made in one task go in one transaction, in order (IndexedDB runs a store's transactions in the
  // order they were created, so order holds across transactions too).
  #enqueue(op: Op): void {
    this.#ops.push(op);
    if (!this.#scheduled) this.#schedule();
  }

  #schedule(): void {
    this.#scheduled = true;
    this.#flushing = this.#flushing.then(() => {
      this.#scheduled = false;
      const ops = this.#ops;
      this.#ops = [];
      return this.#write(ops);
    });
  }

  async #write(ops: Op[]): Promise<void> {
    if (ops.length === 0) return;
    const db = await this.#open();
    if (db === undefined) return;
    await new Promise<void>((resolve) => {
      let tx: IDBTransaction;
      try {
        tx = db.transaction(STORE, 'readwrite');
        const store = tx.objectStore(STORE);
        for (const op of ops) {
          if ('put' in op) store.put(op.put);
          else store.delete(op.remove);
        }
      } catch (e) {
        this.#failWrite(ops, e);
        resolve();
        return;
      }
      tx.oncomplete = () => resolve();
      // An abort (QuotaExceededError, disk full) fails the whole batch: report which sends were not stored.
      tx.onabort = () => {
        this.#failWrite(ops, tx.error);
        resolve();
      };
    });
  }

  #failWrite(ops: Op[], e: unknown): void {
    const puts = ops.filter((op): op is { put: StoredSend } => 'put' in op).map((op) => op.put);
    if (puts.length === 0) {
      this.#fail(`could not update the persisted outbox (${errorText(e)}); acknowledged sends may be resent once after a reload (the server drops the duplicates)`);
      return;
    }
    this.#fail(
      `could not store ${puts.length} send(s) in IndexedDB (${errorText(e)}): they are still sent, but would not survive a reload`,
      { ids: puts.map((p) => p.id), channels: [...new Set(puts.map((p) => p.channel))] },
    );
  }

  #fail(message: string, details?: Record<string, unknown>): void {
    this.#host.report(new this.#host.Error(this.#host.codes.outboxStorage, `tidewire: persistOutbox: ${message}`, details));
  }

  #open(): Promise<IDBDatabase | undefined> {
    this.#db ??= new Promise<IDBDatabase | undefined>((resolve) => {
      const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
      if (idb === undefined) {
        this.#fail('IndexedDB is not available here; the outbox stays in memory only');
        resolve(undefined);
        return;
      }
      let request: IDBOpenDBRequest;
      try {
        request = idb.open(DB_NAME, DB_VERSION);
      } catch (e) {
        this.#fail(`could not open IndexedDB (${errorText(e)}); the outbox stays in memory only`);
        resolve(undefined);
        return;
      }
      request.onupgradeneeded = () => {
        const store = request.result.createObjectStore(STORE, { keyPath: 'id' });
        store.createIndex(SCOPE_INDEX, 'scope');
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => {
        this.#fail(`could not open IndexedDB (${errorText(request.error)}); the outbox stays in memory only`);
        resolve(undefined);
      };
      request.onblocked = () => undefined; // another page holds an older version: onsuccess follows once it closes
    });
    return this.#db;
  }
}
