// The typed client over the wasm engine. The engine owns the connection, reconnects, outbox and heartbeat;
// this class owns listeners (per channel and event), promises for acks, and conversions to and from JS.
import { Channel } from './channel.js';
import { ChatClient } from './chat.js';
import { Presence, type PresenceOptions } from './presence.js';
import { SyncCollection, type SyncEvents } from './sync.js';
import { TidewireError } from './errors.js';
import { loadedModule, loadModule } from './module.js';
import { loadStateModule } from './state_module.js';
import type { StateModule } from './state_module.js';
import type { PersistentOutbox, StoredSend } from './persistent_outbox.js';
import { engineConfig, NUMERIC_OPTIONS, resolveOptions, urlKey, urlProblem, type ClientOptions, type ResolvedOptions } from './options.js';
import { changesUnion, type ChangesSpec } from './postgres_changes.js';
import { configureTransports, currentTransport, policyUrl, releaseTransports, withPolicy } from './transport_fallback.js';
import type { ConnectionStateValue, EngineStatusValue, TidewireModule, WasmCallbacks, WasmClient, WasmMetrics, WasmResult } from './tidewire_module.mjs';
import type {
  ChannelMessage,
  ClientMetrics,
  Gap,
  MessageHandler,
  OutboxEntry,
  OutboxResult,
  RestoredSend,
  SendOptions,
  SendResult,
  StateChange,
} from './types.js';
import { CONNECTION_STATES, DEFAULTS, ErrorCode, LOG_PREFIX, PostgresChanges, type ConnectionState } from './wire.js';

/** `'*'` matches every event. */
export const ANY_EVENT = '*';

interface Listener {
  event: string;
  handler: MessageHandler<unknown>;
  once: boolean;
  /** A postgres_changes binding: what it asks the server for (the subscription asks for the union). */
  changes?: ChangesSpec;
}

/**
 * What JS must hold for one channel: its listeners and the promises waiting for its subscription. The engine
 * owns the rest (references, subscribed and revoked flags, recovery position: WasmClient.channel(id)).
 */
interface ChannelSlot {
  name: string;
  id: number; // engine channel id, 0 until the engine has it
  queued: number; // engine subscribes waiting for the module to load (the slot outlives them)
  listeners: Set<Listener>;
  waiters: Array<() => void>;
  gapListeners: Set<(gap: Gap) => void>;
  subscribedListeners: Set<() => void>;
  presenceListeners: Set<(diffJson: string) => void>;
  errorListeners: Set<(error: TidewireError) => void>;
}

export interface PendingAck {
  resolve: (r: SendResult) => void;
  reject: (e: TidewireError) => void;
}

export interface PendingReply {
  resolve: (data: unknown) => void;
  reject: (e: TidewireError) => void;
}

/**
 * The reconnect policy: the backoff (full jitter between 0 and min(cap, base * 2^attempt)) and how many failed
 * attempts in a row end in the `error` state (0 = never). Omitted fields keep the client's value.
 */
export interface ReconnectPolicy {
  reconnectBaseMs?: number;
  reconnectCapMs?: number;
  maxReconnectAttempts?: number;
}

/**
 * Options of request(): `ttlMs` as for send(); `onQueued` receives the request's ref when it is queued. `persist`:
 * with `persistOutbox`, kept in IndexedDB and resent after a reload like a send (only for requests the server
 * dedupes by an id in their body, e.g. `chat_send`).
 */
export interface RequestOptions extends SendOptions {
  onQueued?: (ref: number) => void;
  persist?: boolean;
}

/** The engine's callbacks, and one a remote engine (remote_engine.ts) calls with a message built by its hub. */
export interface EngineCallbacks extends WasmCallbacks {
  onChannelMessage(channelId: number, message: ChannelMessage<unknown>): void;
}

const decoder = new TextDecoder();

/**
 * The name of the connection this client shares with the other tabs of its origin and user (issue #18), or
 * undefined when it holds its own: see ClientOptions.shareAcrossTabs. With a token provider and no shareKey, the
 * name without the user: the shared chunk (remote_engine.ts) adds the token's `sub`, or falls back to a per-tab
 * connection.
 */
function shareName(o: ResolvedOptions): string | undefined {
  const g = globalThis as { SharedWorker?: unknown; document?: unknown; navigator?: Navigator };
  if (o.shareAcrossTabs === false || typeof o.url === 'function') return undefined;
  if (g.document === undefined || g.navigator?.locks === undefined) return undefined;
  if (g.SharedWorker === undefined && typeof BroadcastChannel === 'undefined') return undefined;
  return `tidewire ${JSON.stringify(o.url)} ${o.shareKey ?? (typeof o.token === 'function' ? '' : (o.token ?? ''))}`;
}

export class TidewireClient {
  readonly options: ResolvedOptions;
  #module: TidewireModule | undefined;
  #wasm: WasmClient | undefined;
  #closed = false;
  #state: ConnectionState = 'idle';
  #slots = new Map<string, ChannelSlot>();
  #slotsById: Array<ChannelSlot | undefined> = [];
  #events: string[] = [];
  #acks = new Map<number, PendingAck>();
  #replies = new Map<number, PendingReply>();
  // Calls made before the module finished loading; `abort` settles a caller's promise if the client closes first.
  #preload: Array<{ run: () => void; abort?: (error: TidewireError) => void }> = [];
  #stateListeners = new Set<(change: StateChange) => void>();
  #errorListeners = new Set<(error: TidewireError) => void>();
  #gapListeners = new Set<(gap: Gap) => void>();
  #listenerErrors = 0;
  #explicitConnect = false;
  #loading: Promise<void> | undefined;
  #chat: ChatClient | undefined;
  // Sends waiting behind a Blob being read (send order is kept); undefined when none waits.
  #sendChain: Promise<void> | undefined;
  #policies: ReconnectPolicy[] = [];
  // options.url as a list: the URL in use, and whether the attempt made with it reached `connected`.
  #urlIndex = -1;
  #urlWorked = false;
  // options.url with a fragment naming this client's transport policy (transport_fallback.ts): the engine's URL.
  #transportKey: string;
  // persistOutbox: the IndexedDB copy of the outbox (loaded with the module), the earlier page's sends being
  // resent, and who hears their results.
  #persist: PersistentOutbox | undefined;
  #outboxResultListeners = new Set<(result: OutboxResult) => void>();

  // The shared connection's name when this tab shares one (its engine is then remote_engine.ts).
  #share: string | undefined;
  // The token the shared chunk got to learn who the tab is, when the tab fell back to its own connection: the
  // first token used (the provider is not asked twice).
  #firstToken: string | undefined;

  constructor(options: ClientOptions) {
    this.options = resolveOptions(options);
    this.#share = shareName(this.options);
    // A list or a function of URLs gets the policy's fragment on each URL it gives (onUrlRequest).
    this.#transportKey = policyUrl(typeof this.options.url === 'string' ? this.options.url : '');
    configureTransports(this.#transportKey, this.options);
  }

  /**
   * Resolves once the wasm engine is loaded and attached. Creating a client costs nothing: the engine is
   * created on first use (subscribe, send, connect) or here.
   */
  get ready(): Promise<void> {
    if (this.#loading === undefined) {
      const restored = this.options.persistOutbox ? this.#loadPersistedOutbox() : undefined;
      const share = this.#share;
      const module =
        share === undefined
          ? loadModule()
          : import('./remote_engine.js')
              .then((r) =>
                r.remoteModule(share, this.options, {
                  createClient,
                  idleMetrics: IDLE_METRICS,
                  numericOptions: NUMERIC_OPTIONS,
                  states: CONNECTION_STATES,
                  unavailable: ErrorCode.unavailable,
                  log: (...a) => this.#log(...a),
                }),
              )
              // Not shared after all (no user in the token): this tab's own connection, from that token.
              .then((m) => (typeof m === 'object' ? m : ((this.#share = undefined), (this.#firstToken = m), loadModule())));
      this.#loading = Promise.all([module, restored]).then(
        ([m, sends]) => this.#attach(m, sends ?? []),
        (e: unknown) => {
          this.#loading = undefined;
          this.#emitError(new TidewireError(ErrorCode.moduleLoadFailed, `could not load the tidewire wasm module: ${String(e)}`));
          throw e;
        },
      );
    }
    return this.#loading;
  }

  /** The current connection state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /**
   * The authenticated user id (`auth_success.userId`, the token's `sub`), known after the first connection and
   * kept while reconnecting; '' before.
   */
  get userId(): string {
    return this.#wasm?.userId() ?? '';
  }

  /** The server's id for the current connection; '' while not connected. */
  get connectionId(): string {
    return this.#wasm?.connectionId() ?? '';
  }

  /**
   * How long the client's stores stay on the network after their last listener leaves: `options.graceMs`, else
   * the engine's default (C++: the one home of the defaults); 0 until the module has loaded if neither is known.
   */
  get graceMs(): number {
    return this.options.graceMs ?? this.#wasm?.config().graceMs ?? loadedModule()?.WasmClient.defaultConfig().graceMs ?? 0;
  }

  /**
   * True when this tab's connection is shared with the other tabs of its origin and user (shareAcrossTabs). With
   * a token provider and no shareKey, final once `ready` resolved (false if the token names no user).
   */
  get sharedAcrossTabs(): boolean {
    return this.#share !== undefined;
  }

  get isConnected(): boolean {
    return this.#state === 'connected';
  }

  // --- channels -------------------------------------------------------------------------------------

  /** A channel handle (manager style): `client.channel('room').subscribe().on('chat', cb)`. */
  channel(name: string): Channel {
    this.#assertOpen();
    return new Channel(this, name);
  }

  /** Joins `channel`'s presence with a status and info; `leave()` it when done. */
  presence<Info extends Record<string, unknown> = Record<string, unknown>>(
    channel: string,
    options: PresenceOptions<Info> = {},
  ): Presence<Info> {
    this.#assertOpen();
    return new Presence<Info>(this, channel, options);
  }

  /** A live, optimistic view of `resource` on `channel`; `close()` it when done. */
  sync<T extends Record<string, unknown> = Record<string, unknown>>(
    channel: string,
    resource: string,
    events: SyncEvents<T> = {},
  ): SyncCollection<T> {
    this.#assertOpen();
    return new SyncCollection<T>(this, channel, resource, events);
  }

  /** Chat rooms, direct messages and live room views. */
  get chat(): ChatClient {
    this.#assertOpen();
    return (this.#chat ??= new ChatClient(this));
  }

  /**
   * Subscribes `handler` to every event of `channel` (or only `options.event`). Returns the unsubscribe
   * function. The first subscriber opens the connection; the last one leaving closes it after `graceMs`.
   */
  subscribe<T = unknown>(channel: string, handler: MessageHandler<T>, options: { event?: string } = {}): () => void {
    const ch = this.channel(channel).subscribe();
    ch.on<T>(options.event ?? ANY_EVENT, handler);
    return () => ch.unsubscribe();
  }

  /**
   * Publishes to a channel. `send(channel, payload)` uses the event `'message'`;
   * `send(channel, event, payload, options?)` names it. A Uint8Array, another typed array or DataView, an
   * ArrayBuffer or a Blob payload goes as a binary frame (a Blob is read first; later sends wait for it, so the
   * send order is kept). Resolves with the server's ack; rejects with a TidewireError (`outbox_full`,
   * `timeout`, `expired`, `cleared`, or the server's code).
   *
   * No subscription is needed: with no subscriber, the send opens the connection (lazily) and holds it until
   * the server answered; it closes `graceMs` later if nothing else needs it.
   */
  send<T>(channel: string, payload: T): Promise<SendResult>;
  send<T>(channel: string, event: string, payload: T, options?: SendOptions): Promise<SendResult>;
  send(channel: string, eventOrPayload: unknown, ...rest: unknown[]): Promise<SendResult> {
    const [event, payload] =
      rest.length > 0 ? [eventOrPayload, rest[0]] : [DEFAULTS.defaultEvent as string, eventOrPayload];
    const options = (rest[1] ?? {}) as SendOptions;
    try {
      this.#assertOpen();
      if (typeof channel !== 'string') throw new TypeError('tidewire: send(channel, ...) needs a channel name string');
      if (typeof event !== 'string') throw new TypeError('tidewire: send(channel, event, payload): event must be a string');
      const ttl = options.ttlMs ?? 0;
      if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) {
        throw new TypeError('tidewire: options.ttlMs must be a finite number >= 0');
      }
      const blob = typeof Blob !== 'undefined' && payload instanceof Blob ? payload : undefined;
      const bytes = blob !== undefined ? undefined : binaryView(payload);
      const json = bytes === undefined && blob === undefined ? JSON.stringify(payload === undefined ? null : payload) : '';
      if (json === undefined) throw new TypeError('tidewire: the payload is not JSON-serializable');
      return new Promise<SendResult>((resolve, reject) => {
        const submit = (data: Uint8Array | undefined): void => {
          this.#whenLoaded(() => {
            const wasm = this.#wasm!;
            // persistOutbox: the send goes out under an id of ours, kept in IndexedDB until it is settled.
            const stored = this.#persist?.record(channel, event, data ?? json, ttl);
            // `_id`: a shared connection's hub sends a tab's persisted send under the tab's id.
            const id = stored?.id ?? (options as { _id?: string })._id ?? '';
            const r = data !== undefined ? wasm.publishBinary(channel, event, data, ttl, id) : wasm.publish(channel, event, json, ttl, id);
            if (this.#failed(r, reject)) return;
            if (stored === undefined) {
              this.#acks.set(r.id, { resolve, reject });
              return;
            }
            this.#acks.set(r.id, this.#persist!.track(stored, resolve, reject));
          }, reject);
        };
        if (blob === undefined && this.#sendChain === undefined) {
          submit(bytes);
          return;
        }
        this.#chainSend(blob, () => submit(bytes), submit, reject);
      });
    } catch (e) {
      return Promise.reject(e instanceof TidewireError ? e : new TidewireError(ErrorCode.invalidArgument, (e as Error).message));
    }
  }

  /**
   * Sends a request of the protocol's RPCs (presence, chat, sync: docs/PROTOCOL.md sections 10-12) and resolves
   * with the reply's data, or rejects with a TidewireError whose `details` holds the error's extra fields.
   */
  request<T = unknown>(type: string, body: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<T> {
    try {
      this.#assertOpen();
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new TypeError('tidewire: request(type, body): body must be an object');
      }
      if ('type' in body || 'ref' in body) throw new TypeError('tidewire: request bodies must not set "type" or "ref"');
      const json = JSON.stringify(body);
      const ttl = options.ttlMs ?? 0;
      return new Promise<T>((resolve, reject) => {
        this.#whenLoaded(() => {
          const r = this.#wasm!.request(type, json, ttl);
          if (this.#failed(r, reject)) return;
          const persist = options.persist === true ? this.#persist : undefined;
          const pending: PendingReply = { resolve: resolve as (d: unknown) => void, reject };
          this.#replies.set(r.id, persist?.track(persist.recordRequest(type, json, ttl), pending.resolve, reject) ?? pending);
          options.onQueued?.(r.id);
        }, reject);
      });
    } catch (e) {
      return Promise.reject(e instanceof TidewireError ? e : new TidewireError(ErrorCode.invalidArgument, (e as Error).message));
    }
  }

  /**
   * Sends a message that has no answer (e.g. `chat_typing`). Only while connected: returns false when it could
   * not be sent. Never queued, since such notices are stale once a connection comes back.
   */
  notify(type: string, body: Record<string, unknown> = {}): boolean {
    if (this.#closed || this.#wasm === undefined || this.#state !== 'connected') return false;
    if (body === null || typeof body !== 'object' || Array.isArray(body) || 'type' in body || 'ref' in body) {
      throw new TidewireError(ErrorCode.invalidArgument, 'tidewire: notify(type, body): body must be an object without "type" or "ref"');
    }
    return this.#wasm.notify(type, JSON.stringify(body)) === this.#module!.EngineStatus.ok;
  }

  /** The state containers' module (presence, sync, chat), loaded on first use. @internal */
  async _stateModule(): Promise<StateModule> {
    try {
      return await loadStateModule();
    } catch (e) {
      const error = new TidewireError(
        ErrorCode.moduleLoadFailed,
        `could not load tidewire's state module (presence, sync, chat): ${String(e)}; check that tidewire_state.wasm is served next to the script`,
      );
      this.#emitError(error);
      throw error;
    }
  }

  /** @internal Called on every (re)subscription of `name` confirmed by the server. */
  _onSubscribed(name: string, listener: () => void): () => void {
    const slot = this.#slots.get(name);
    if (slot === undefined) throw new TidewireError(ErrorCode.invalidArgument, `tidewire: subscribe to "${name}" first`);
    slot.subscribedListeners.add(listener);
    if (this.#isSubscribed(slot)) queueMicrotask(() => slot.subscribedListeners.has(listener) && listener());
    return () => slot.subscribedListeners.delete(listener);
  }

  /** @internal */
  _onPresenceDiff(name: string, listener: (diffJson: string) => void): () => void {
    const slot = this.#slots.get(name);
    if (slot === undefined) throw new TidewireError(ErrorCode.invalidArgument, `tidewire: subscribe to "${name}" first`);
    slot.presenceListeners.add(listener);
    return () => slot.presenceListeners.delete(listener);
  }

  /** Messages waiting to be sent or acknowledged, oldest first. */
  getOutbox(): OutboxEntry[] {
    return (this.#wasm?.outboxEntries() ?? []).map(({ channel, event, bytes, binary, inFlight, queuedAtMs }) => ({
      channel,
      event,
      bytes,
      binary,
      inFlight,
      queuedAtMs,
    }));
  }

  /**
   * persistOutbox: called with the result of every send of an earlier page (reload, crash) that this client
   * resent, since its promise is gone. Returns the unsubscribe function.
   */
  onOutboxResult(listener: (result: OutboxResult) => void): () => void {
    this.#outboxResultListeners.add(listener);
    return () => this.#outboxResultListeners.delete(listener);
  }

  /** persistOutbox: the earlier page's sends being resent and not settled yet (e.g. to show them as pending). */
  getRestoredSends(): RestoredSend[] {
    return this.#persist?.restoredSends() ?? [];
  }

  /**
   * persistOutbox: resolves once every send made so far is written to (and every settled one removed from)
   * IndexedDB; at once without persistOutbox.
   */
  outboxPersisted(): Promise<void> {
    return this.ready.then(() => this.#persist?.flushed());
  }

  /** Drops every queued (unsent) message; their send() promises reject with code `cleared`. */
  clearOutbox(): number {
    return this.#wasm?.clearOutbox() ?? 0;
  }

  /** Called when a resubscribe could not recover what a channel missed: refetch that channel's state. */
  onGap(listener: (gap: Gap) => void): () => void {
    this.#gapListeners.add(listener);
    return () => this.#gapListeners.delete(listener);
  }

  // --- connection -----------------------------------------------------------------------------------

  /**
   * The reconnect policy in force: the client's options with the overrides of setReconnectPolicy() applied, on
   * top of the engine's defaults. A field left to the default is undefined until the module has loaded
   * (`await client.ready`): the defaults live in the engine.
   */
  get reconnectPolicy(): ReconnectPolicy {
    const d = loadedModule()?.WasmClient.defaultConfig();
    const o = this.options;
    const p: ReconnectPolicy = {
      reconnectBaseMs: o.reconnectBaseMs ?? d?.reconnectBaseMs,
      reconnectCapMs: o.reconnectCapMs ?? d?.reconnectCapMs,
      maxReconnectAttempts: o.maxReconnectAttempts ?? d?.maxReconnectAttempts,
    };
    for (const o of this.#policies) {
      if (o.reconnectBaseMs !== undefined) p.reconnectBaseMs = o.reconnectBaseMs;
      if (o.reconnectCapMs !== undefined) p.reconnectCapMs = o.reconnectCapMs;
      if (o.maxReconnectAttempts !== undefined) p.maxReconnectAttempts = o.maxReconnectAttempts;
    }
    return p;
  }

  /**
   * Overrides the reconnect policy from the next retry on, until the returned function is called. Overrides
   * stack: the latest one wins for each field it sets, and removing it restores the one below (in the end, the
   * client's options). `useRealtimeConnection({ maxReconnectAttempts, reconnectInterval })` uses this.
   *
   * ```ts
   * const restore = client.setReconnectPolicy({ maxReconnectAttempts: 5, reconnectBaseMs: 500 });
   * restore(); // back to the previous policy
   * ```
   */
  setReconnectPolicy(policy: ReconnectPolicy): () => void {
    this.#assertOpen();
    if (policy === null || typeof policy !== 'object') {
      throw new TidewireError(ErrorCode.invalidArgument, 'tidewire: setReconnectPolicy(policy) needs an object');
    }
    const entry: ReconnectPolicy = {};
    for (const key of ['reconnectBaseMs', 'reconnectCapMs', 'maxReconnectAttempts'] as const) {
      const v = policy[key];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (key === 'maxReconnectAttempts' && !Number.isInteger(v))) {
        throw new TidewireError(
          ErrorCode.invalidArgument,
          `tidewire: setReconnectPolicy: ${key} must be a finite number >= 0${key === 'maxReconnectAttempts' ? ' (an integer; 0 = never give up)' : ''}, got ${String(v)}`,
        );
      }
      entry[key] = v;
    }
    this.#policies.push(entry);
    this.#applyPolicy();
    return () => {
      const i = this.#policies.indexOf(entry);
      if (i < 0) return;
      this.#policies.splice(i, 1);
      this.#applyPolicy();
    };
  }

  /** Opens the connection now and keeps it open with no subscribers, until disconnect(). */
  connect(): void {
    this.#assertOpen();
    this.#explicitConnect = true;
    this.#whenLoaded(() => this.#wasm!.connect());
  }

  /** Closes the connection and stays disconnected; subscriptions and queued sends are kept. */
  disconnect(): void {
    if (this.#closed) return;
    this.#explicitConnect = false;
    this.#whenLoaded(() => this.#wasm!.disconnect());
  }

  /** Reconnects now, resetting the attempt counter. */
  reconnect(): void {
    this.#assertOpen();
    this.#whenLoaded(() => this.#wasm!.reconnect());
  }

  /** Called with `{from, to, reason}` on every state change. Returns the unsubscribe function. */
  onStateChange(listener: (change: StateChange) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** Called with runtime errors (auth failures, refused sends, throwing listeners...). */
  onError(listener: (error: TidewireError) => void): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  /** The engine's counters and gauges (WasmMetrics: one value_object), with the state and listener errors. */
  getMetrics(): ClientMetrics {
    return {
      ...(this.#wasm?.metrics() ?? IDLE_METRICS),
      state: this.#state,
      connectionId: this.#wasm?.connectionId() ?? '',
      listenerErrors: this.#listenerErrors,
      transport: currentTransport(this.#transportKey),
    };
  }

  /** Closes the connection and releases the wasm engine. The client cannot be used afterwards. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    queueMicrotask(() => releaseTransports(this.#transportKey));  // after the engine closed its socket
    const preloaded = this.#preload;
    this.#preload = [];
    if (this.#acks.size > 0 || this.#replies.size > 0 || preloaded.some((call) => call.abort)) {
      // Only when something waits: an Error captures a stack, which is most of what closing costs otherwise.
      // Sends and requests made before the module loaded are settled too: they would wait forever.
      const err = new TidewireError(ErrorCode.closed, 'the client was closed before the server acknowledged the send');
      for (const call of preloaded) call.abort?.(err);
      for (const pending of this.#acks.values()) pending.reject(err);
      this.#acks.clear();
      for (const pending of this.#replies.values()) pending.reject(err);
      this.#replies.clear();
    }
    this.#slots.clear();
    this.#slotsById = [];
    const wasm = this.#wasm;
    this.#wasm = undefined;
    // Deferred: close() may be called from inside an engine callback.
    if (wasm) queueMicrotask(() => wasm.delete());
  }

  get closed(): boolean {
    return this.#closed;
  }

  // --- used by Channel --------------------------------------------------------------------------------

  /** @internal Adds a reference to `name` in the engine (which counts them). */
  _acquire(name: string): void {
    const s = this.#slot(name);
    if (this.#wasm === undefined) s.queued += 1;
    this.#whenLoaded(() => this.#engineSubscribe(s));
  }

  /**
   * @internal A postgres_changes binding on the changefeed channel `name`: a listener whose `changes` joins the
   * channel's union (sent to the engine at once when the channel exists there). The caller then _acquire()s it.
   */
  _bindChanges(name: string, changes: ChangesSpec, handler: MessageHandler<unknown>): Listener {
    const slot = this.#slot(name);
    const listener: Listener = { event: PostgresChanges.event, handler, once: false, changes };
    slot.listeners.add(listener);
    this.#updateChanges(slot);
    return listener;
  }

  #updateChanges(slot: ChannelSlot): void {
    if (slot.id === 0 || this.#wasm === undefined) return; // the engine subscribe carries it
    const u = this.#changesOf(slot);
    this.#wasm.setChanges(slot.id, u.event, u.filter);
  }

  #changesOf(slot: ChannelSlot): ChangesSpec {
    const specs: ChangesSpec[] = [];
    for (const l of slot.listeners) if (l.changes !== undefined) specs.push(l.changes);
    return changesUnion(specs);
  }

  #slot(name: string): ChannelSlot {
    let slot = this.#slots.get(name);
    if (slot === undefined) {
      slot = {
        name,
        id: 0,
        queued: 0,
        listeners: new Set(),
        waiters: [],
        gapListeners: new Set(),
        subscribedListeners: new Set(),
        presenceListeners: new Set(),
        errorListeners: new Set(),
      };
      this.#slots.set(name, slot);
    }
    return slot;
  }

  /** @internal Drops a reference; the engine's last one unsubscribes, and the channel's listeners go with it. */
  _release(name: string, listeners: Iterable<Listener>): void {
    const slot = this.#slots.get(name);
    if (slot === undefined) return;
    let bindings = false;
    for (const l of listeners) bindings = (slot.listeners.delete(l) && l.changes !== undefined) || bindings;
    this.#whenLoaded(() => {
      if (slot.id === 0) return; // its subscribe failed
      const wasm = this.#wasm!;
      if (bindings && wasm.channel(slot.id).refs > 1) this.#updateChanges(slot); // others stay: narrow the union
      wasm.unsubscribe(slot.id);
      if (wasm.channel(slot.id).id !== 0 || slot.queued > 0) return;
      this.#slotsById[slot.id] = undefined;
      if (this.#slots.get(name) === slot) this.#slots.delete(name);
    });
  }

  /** @internal */
  _addListener(name: string, event: string, handler: MessageHandler<unknown>, once: boolean): Listener {
    const slot = this.#slots.get(name);
    const listener: Listener = { event, handler, once };
    if (slot === undefined) {
      throw new TidewireError(ErrorCode.invalidArgument, `tidewire: subscribe to "${name}" before adding listeners`);
    }
    slot.listeners.add(listener);
    return listener;
  }

  /** @internal */
  _removeListener(name: string, listener: Listener): void {
    this.#slots.get(name)?.listeners.delete(listener);
  }

  /** @internal */
  _listenerCount(name: string, event?: string): number {
    const slot = this.#slots.get(name);
    if (slot === undefined) return 0;
    if (event === undefined) return slot.listeners.size;
    let n = 0;
    for (const l of slot.listeners) if (l.event === event) n += 1;
    return n;
  }

  /** @internal */
  _addGapListener(name: string, listener: (gap: Gap) => void): () => void {
    const slot = this.#slots.get(name);
    if (slot === undefined) throw new TidewireError(ErrorCode.invalidArgument, `tidewire: subscribe to "${name}" first`);
    slot.gapListeners.add(listener);
    return () => slot.gapListeners.delete(listener);
  }

  /** @internal Called with the errors of one channel (the server ended its subscription). */
  _addErrorListener(name: string, listener: (error: TidewireError) => void): () => void {
    const slot = this.#slots.get(name);
    if (slot === undefined) throw new TidewireError(ErrorCode.invalidArgument, `tidewire: subscribe to "${name}" first`);
    slot.errorListeners.add(listener);
    return () => slot.errorListeners.delete(listener);
  }

  /** @internal Subscribes again a channel whose subscription the server ended (no new reference). */
  _resubscribe(name: string): void {
    const slot = this.#slots.get(name);
    if (slot === undefined) return;
    this.#whenLoaded(() => {
      if (slot.id > 0 && this.#slots.get(name) === slot) this.#wasm!.resubscribe(slot.id); // only if revoked
    });
  }

  /** @internal The epoch of `name`'s recovery position ('' before any message). */
  _epoch(name: string): string {
    const slot = this.#slots.get(name);
    return slot !== undefined && slot.id > 0 && this.#wasm !== undefined ? this.#wasm.channel(slot.id).epoch : '';
  }

  /** @internal Starts `name` (acquired, no position yet) from another engine's position (shared connection). */
  _setPosition(name: string, offset: number, epoch: string): void {
    const slot = this.#slots.get(name);
    if (slot !== undefined) this.#whenLoaded(() => slot.id > 0 && this.#wasm!.setPosition(slot.id, offset, epoch));
  }

  /**
   * @internal The page's visibility and network as a SharedWorker's client learns them from its tabs (a worker
   * has no document): visible while any tab is, so hiddenCloseMs runs only once every tab is hidden.
   */
  _setPage(visible: boolean, online: boolean): void {
    this.#whenLoaded(() => {
      this.#wasm!.setPageVisible(visible);
      this.#wasm!.setOnline(online);
    });
  }

  /** @internal Resolves once the server has confirmed the subscription on the current connection. */
  _whenSubscribed(name: string): Promise<void> {
    const slot = this.#slots.get(name);
    if (slot === undefined) return Promise.reject(new TidewireError(ErrorCode.invalidArgument, `not subscribed to "${name}"`));
    if (this.#isSubscribed(slot)) return Promise.resolve();
    return new Promise((resolve) => slot.waiters.push(resolve));
  }

  // --- internals ----------------------------------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) throw new TidewireError(ErrorCode.closed, 'tidewire: this client was closed; create a new one');
  }

  #whenLoaded(fn: () => void, abort?: (error: TidewireError) => void): void {
    if (this.#closed) return;
    if (this.#wasm) {
      fn();
      return;
    }
    this.#preload.push({ run: fn, abort });
    this.ready.catch(() => undefined);
  }

  #engineSubscribe(slot: ChannelSlot): void {
    if (slot.queued > 0) slot.queued -= 1;
    if (this.#slots.get(slot.name) !== slot) return; // the client closed
    const changes = this.#changesOf(slot);
    const r = this.#wasm!.subscribe(slot.name, changes.event, changes.filter);
    if (r.status !== this.#module!.EngineStatus.ok) {
      this.#slots.delete(slot.name);
      this.#emitError(this.#statusError(r.status, slot.name));
      return;
    }
    slot.id = r.id;
    this.#slotsById[r.id] = slot;
  }

  /** The engine's word on whether the server confirmed the channel on the current connection. */
  #isSubscribed(slot: ChannelSlot): boolean {
    return slot.id > 0 && this.#wasm !== undefined && this.#wasm.channel(slot.id).subscribed;
  }

  // A send behind a Blob being read, or behind another such send: runs in send order. `plain` submits a payload
  // that needs no reading; `submit(bytes)` one read from `blob`.
  #chainSend(
    blob: Blob | undefined,
    plain: () => void,
    submit: (bytes: Uint8Array) => void,
    reject: (e: TidewireError) => void,
  ): void {
    const chain = (this.#sendChain ?? Promise.resolve()).then(async () => {
      try {
        let bytes: Uint8Array | undefined;
        if (blob !== undefined) {
          try {
            bytes = new Uint8Array(await blob.arrayBuffer());
          } catch (e) {
            reject(new TidewireError(ErrorCode.invalidArgument, `tidewire: could not read the Blob payload (${String(e)}); nothing was sent`));
            return;
          }
        }
        if (this.#closed) {
          reject(new TidewireError(ErrorCode.closed, 'the client was closed before this send was queued'));
          return;
        }
        if (bytes !== undefined) submit(bytes);
        else plain();
      } catch (e) {
        reject(e instanceof TidewireError ? e : new TidewireError(ErrorCode.invalidArgument, String(e)));
      }
    });
    this.#sendChain = chain;
    void chain.then(() => {
      if (this.#sendChain === chain) this.#sendChain = undefined;
    });
  }

  #applyPolicy(): void {
    const wasm = this.#wasm;
    if (wasm === undefined) return; // #attach applies it
    const p = this.reconnectPolicy; // the module is loaded: every field is set
    wasm.setReconnectPolicy(p.reconnectBaseMs ?? -1, p.reconnectCapMs ?? -1, p.maxReconnectAttempts ?? -1);
  }

  // persistOutbox ------------------------------------------------------------------------------------

  #loadPersistedOutbox(): Promise<StoredSend[]> {
    const url = this.options.url;
    const key = this.options.persistOutbox;
    const scope = `${typeof url === 'function' ? 'url-provider' : (urlKey(url) as string)} ${typeof key === 'object' ? key.key : ''}`;
    // A failed import fails `ready` like a failed module load (reported as module_load_failed, retried on next use).
    return import('./persistent_outbox.js').then(({ PersistentOutbox }) => {
      this.#persist = new PersistentOutbox(scope, { Error: TidewireError, codes: ErrorCode, report: (e) => this.#emitError(e) });
      return this.#persist.load();
    });
  }

  /** Rejects with the engine's status when `r` failed; true then. */
  #failed(r: WasmResult, reject: (e: TidewireError) => void): boolean {
    if (r.status === this.#module!.EngineStatus.ok) return false;
    reject(this.#statusError(r.status));
    return true;
  }

  #statusError(status: EngineStatusValue, channel?: string): TidewireError {
    const m = this.#module!;
    const message = m.WasmClient.statusMessage(status);
    const code = status === m.EngineStatus.outboxFull ? ErrorCode.outboxFull : ErrorCode.invalidArgument;
    return new TidewireError(code, channel !== undefined ? `tidewire: "${channel}": ${message}` : `tidewire: ${message}`);
  }

  #log(...args: unknown[]): void {
    if (this.options.debug) console.debug(LOG_PREFIX, ...args);
  }

  #emitError(error: TidewireError): void {
    this.#log('error', error.code, error.message);
    if (this.#errorListeners.size === 0) {
      console.error(LOG_PREFIX, error.code, error.message);
      return;
    }
    for (const l of [...this.#errorListeners]) {
      try {
        l(error);
      } catch (e) {
        console.error(LOG_PREFIX, 'an onError listener threw', e);
      }
    }
  }

  #attach(module: TidewireModule, restored: readonly StoredSend[] = []): void {
    this.#module = module;
    if (this.#closed || this.#wasm !== undefined) return;
    const o = this.options;
    const config = engineConfig(o, module.WasmClient.defaultConfig(), module.AuthMode[o.authMode ?? 'subprotocol']);
    if (typeof o.url === 'string') config.url = this.#transportKey; // a list or function: the URL comes per attempt
    this.#wasm = new module.WasmClient(config, this.#callbacks(module));
    if (typeof o.token === 'string') this.#wasm.setToken(o.token);
    if (this.#policies.length > 0) this.#applyPolicy();
    // The earlier page's sends go ahead of this page's, in their order; their results go to onOutboxResult.
    this.#persist?.restore(
      restored,
      this.#wasm,
      (r, channel) => (r.status === module.EngineStatus.ok ? r.id : this.#statusError(r.status, channel)),
      (ref, ack, request) => (request ? this.#replies : this.#acks).set(ref, ack),
      this.#outboxResultListeners,
      (e) => this.#listenerThrew(e),
    );
    const queued = this.#preload;
    this.#preload = [];
    for (const call of queued) call.run();
    if (this.#explicitConnect) this.#wasm.connect();
  }

  // Every callback catches everything: an exception must never unwind through wasm.
  #callbacks(module: TidewireModule): EngineCallbacks {
    const slotsById = () => this.#slotsById;
    const events = this.#events;
    let frameSeq = -1; // the compact batch whose text frameText holds
    let frameText = '';
    return {
      onMessage: (channelId, eventId, ptr, len, offset, ts, fromPtr, fromLen) => {
        const slot = slotsById()[channelId];
        if (slot === undefined || slot.listeners.size === 0) return;
        const heap = module.HEAPU8; // re-read: memory growth replaces the buffer
        const from = fromLen > 0 ? decoder.decode(heap.subarray(fromPtr, fromPtr + fromLen)) : '';
        this.#deliverJson(slot, events[eventId] ?? '', decoder.decode(heap.subarray(ptr, ptr + len)), offset, ts, from);
      },
      // Protocol v2: one TextDecoder call per frame, then slices (no copy in V8) of its text.
      onCompactMessage: (channelId, eventId, framePtr, frameLen, seq, at, units, fromUnits, offset, ts) => {
        const slot = slotsById()[channelId];
        if (slot === undefined || slot.listeners.size === 0) return;
        if (seq !== frameSeq) {
          frameSeq = seq;
          frameText = decoder.decode(module.HEAPU8.subarray(framePtr, framePtr + frameLen));
        }
        this.#deliverJson(slot, events[eventId] ?? '', frameText.slice(at, at + units), offset, ts, frameText.slice(at - fromUnits, at));
      },
      onBinaryMessage: (channelId, eventId, ptr, len, offset, ts, fromPtr, fromLen) => {
        const slot = slotsById()[channelId];
        if (slot === undefined || slot.listeners.size === 0) return;
        const heap = module.HEAPU8;
        const message: ChannelMessage<unknown> = {
          channel: slot.name,
          event: events[eventId] ?? '',
          payload: heap.slice(ptr, ptr + len), // a copy: the engine's buffer is reused
          offset,
          ts,
          from: fromLen > 0 ? decoder.decode(heap.subarray(fromPtr, fromPtr + fromLen)) : '',
          binary: true,
        };
        this.#dispatch(slot, message);
      },
      onChannelMessage: (channelId, message) => {
        const slot = slotsById()[channelId];
        if (slot !== undefined) this.#dispatch(slot, message);
      },
      onGap: (channelId, reason) => {
        const slot = slotsById()[channelId];
        if (slot === undefined) return;
        const gap: Gap = { channel: slot.name, reason };
        this.#log('gap', slot.name, reason);
        for (const l of [...slot.gapListeners, ...this.#gapListeners]) {
          try {
            l(gap);
          } catch (e) {
            this.#listenerThrew(e);
          }
        }
      },
      onEventName: (eventId, name) => {
        events[eventId] = name;
      },
      onState: (fromValue, toValue, reason) => {
        const from = stateName(module, fromValue);
        const to = stateName(module, toValue);
        const change: StateChange = { from, to, reason, transport: currentTransport(this.#transportKey) };
        this.#state = change.to;
        if (to === 'connected') this.#urlWorked = true;
        this.#log('state', from, '->', to, reason);
        for (const l of [...this.#stateListeners]) {
          try {
            l(change);
          } catch (e) {
            this.#listenerThrew(e);
          }
        }
      },
      onSubscribed: (channelId) => {
        const slot = slotsById()[channelId];
        if (slot === undefined) return;
        const waiters = slot.waiters;
        slot.waiters = [];
        for (const w of waiters) w();
        for (const l of [...slot.subscribedListeners]) {
          try {
            l();
          } catch (e) {
            this.#listenerThrew(e);
          }
        }
      },
      onPresenceDiff: (channelId, diffJson) => {
        const slot = slotsById()[channelId];
        if (slot === undefined) return;
        for (const l of [...slot.presenceListeners]) {
          try {
            l(diffJson);
          } catch (e) {
            this.#listenerThrew(e);
          }
        }
      },
      onReply: (ref, ok, dataJson, code, message) => {
        const pending = this.#replies.get(ref);
        if (pending === undefined) return;
        this.#replies.delete(ref);
        let data: unknown = null;
        try {
          data = JSON.parse(dataJson);
        } catch {
          data = null;
        }
        if (ok) {
          pending.resolve(data);
        } else {
          const details = data !== null && typeof data === 'object' ? (data as Record<string, unknown>) : undefined;
          pending.reject(new TidewireError(code || ErrorCode.internal, message || 'the server refused the request', details));
        }
      },
      onAck: (ref, ok, offset, code, message, errorJson) => {
        const pending = this.#acks.get(ref);
        if (pending === undefined) return;
        this.#acks.delete(ref);
        if (ok) {
          pending.resolve({ offset });
          return;
        }
        let details: Record<string, unknown> | undefined;
        try {
          details = errorJson ? (JSON.parse(errorJson) as Record<string, unknown>) : undefined;
        } catch {
          details = undefined;
        }
        pending.reject(new TidewireError(code || ErrorCode.internal, message || 'the server refused the message', details));
      },
      onUnsubscribed: (channelId, code, message) => {
        const slot = slotsById()[channelId];
        if (slot === undefined) return;
        this.#log('unsubscribed by the server', slot.name, code);
        const error = new TidewireError(code, message, { channel: slot.name });
        for (const l of [...slot.errorListeners]) {
          try {
            l(error);
          } catch (e) {
            this.#listenerThrew(e);
          }
        }
        this.#emitError(error);
      },
      onError: (code, message) => {
        this.#emitError(new TidewireError(code, message));
      },
      // options.url as a list or a function (the engine asks before every attempt). A list moves to its next URL
      // after an attempt that never reached `connected`, and keeps one that worked.
      onUrlRequest: () => {
        const wasm = this.#wasm;
        const url = this.options.url;
        if (wasm === undefined || typeof url === 'string') return;
        const current = () => this.#wasm === wasm;
        if (typeof url !== 'function' && (this.#urlIndex < 0 || !this.#urlWorked)) {
          this.#urlIndex = (this.#urlIndex + 1) % url.length;
        }
        this.#urlWorked = false;
        Promise.resolve()
          .then(() => (typeof url === 'function' ? url() : url[this.#urlIndex]))
          .then(
            (value: unknown) => {
              if (!current()) return;
              const problem = urlProblem(value);
              if (problem === undefined) wasm.setUrl(withPolicy(value as string, this.#transportKey));
              else wasm.urlFailed(`it returned a value that ${problem}`);
            },
            (e: unknown) => {
              if (current()) wasm.urlFailed(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
            },
          )
          .catch((e: unknown) => this.#listenerThrew(e));
      },
      // Transient failures (the provider threw or rejected) are retried by the engine with the reconnect backoff;
      // only `null` (nobody signed in) stops. Answers to a client replaced or closed meanwhile are dropped.
      onTokenRequest: () => {
        const provider = this.options.token;
        const wasm = this.#wasm;
        if (typeof provider !== 'function' || wasm === undefined) return;
        const current = () => this.#wasm === wasm;
        const first = this.#firstToken;
        this.#firstToken = undefined;
        Promise.resolve()
          .then(() => first ?? provider())
          .then(
            (token: unknown) => {
              if (!current()) return;
              if (token === null) wasm.tokenRefused('the token provider returned null');
              else if (typeof token === 'string' && token !== '') wasm.setToken(token);
              else {
                wasm.tokenFailed(
                  `it returned ${token === '' ? 'an empty string' : typeof token} instead of a token string (return null when nobody is signed in)`,
                );
              }
            },
            (e: unknown) => {
              if (current()) wasm.tokenFailed(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
            },
          )
          .catch((e: unknown) => this.#listenerThrew(e));
      },
    };
  }

  #deliverJson(slot: ChannelSlot, event: string, json: string, offset: number, ts: number, from: string): void {
    let payload: unknown;
    try {
      payload = JSON.parse(json);
    } catch {
      this.#emitError(new TidewireError(ErrorCode.badFrame, `a message on "${slot.name}" had a payload that is not JSON; dropped`));
      return;
    }
    this.#dispatch(slot, { channel: slot.name, event, payload, offset, ts, from, binary: false });
  }

  #dispatch(slot: ChannelSlot, message: ChannelMessage<unknown>): void {
    for (const l of slot.listeners) {
      if (l.event !== ANY_EVENT && l.event !== message.event) continue;
      if (l.once) slot.listeners.delete(l);
      try {
        l.handler(message);
      } catch (e) {
        this.#listenerThrew(e);
      }
    }
  }

  #listenerThrew(e: unknown): void {
    this.#listenerErrors += 1;
    this.#emitError(new TidewireError(ErrorCode.listenerThrew, `a listener threw: ${e instanceof Error ? e.stack ?? e.message : String(e)}`));
  }
}

/** The bytes of a binary payload (Uint8Array, ArrayBuffer, another typed array or a DataView), else undefined. */
function binaryView(payload: unknown): Uint8Array | undefined {
  if (payload instanceof Uint8Array) return payload;
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  if (ArrayBuffer.isView(payload)) return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  return undefined;
}

/** The TS name of an engine state (the enum's names are the TS ones). */
function stateName(module: TidewireModule, value: ConnectionStateValue): ConnectionState {
  const states = module.ConnectionState;
  for (const name of Object.keys(states) as ConnectionState[]) if (states[name] === value) return name;
  return 'error';
}

/**
 * getMetrics() before the engine exists (the module loads on first use): C++'s Metrics{}.
 * tests/node/module-exports.test.mjs checks it equals a new engine's metrics().
 */
export const IDLE_METRICS: Readonly<WasmMetrics> = Object.freeze({
  connectionAttempts: 0,
  connectionSuccesses: 0,
  connectionFailures: 0,
  reconnects: 0,
  messagesReceived: 0,
  messagesSent: 0,
  bytesReceived: 0,
  bytesSent: 0,
  lastLatencyMs: -1,
  avgLatencyMs: -1,
  frameErrors: 0,
  gaps: 0,
  duplicatesDropped: 0,
  acksTimedOut: 0,
  messagesExpired: 0,
  probes: 0,
  uptimeMs: 0,
  queueDepth: 0,
  queueBytes: 0,
  inflight: 0,
  reconnectAttempts: 0,
  channelCount: 0,
  subscriberCount: 0,
});

/** Creates a client. It connects lazily: the first subscriber opens the connection. */
export function createClient(options: ClientOptions): TidewireClient {
  return new TidewireClient(options);
}
