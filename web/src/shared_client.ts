// One connection shared by every tab of one origin and one user (issue #18): createSharedClient() attaches the
// tab to a SharedWorker (shared_worker.ts) that holds the socket and the wasm engine. The tab keeps its
// listeners and promises; the worker keeps one engine reference per tab subscription, so reference counting
// spans tabs. Tabs of another user (another `shareKey`) attach to another worker, hence another connection,
// and their tokens never meet: a worker asks only its own tabs' token providers.
//
// This first slice covers channels (subscribe, listeners, gaps), acknowledged sends and the connection state.
// Presence, sync and chat still need a per-tab client (createClient), as does a browser without SharedWorker
// (where the leader election over BroadcastChannel + Web Locks that the issue asks for is not built yet).
import { createClient, type TidewireClient } from './client.js';
import { TidewireError } from './errors.js';
import { NUMERIC_OPTIONS, resolveOptions, type ClientOptions } from './options.js';
import type { SharedOptions, TabMessage, WorkerMessage } from './shared_messages.js';
import type { ChannelMessage, Gap, MessageHandler, SendOptions, SendResult, StateChange } from './types.js';
import { DEFAULTS, ErrorCode, type ConnectionState } from './wire.js';

export interface SharedClientOptions extends ClientOptions {
  /**
   * Who the tab is signed in as (e.g. the user id): tabs share a connection only with tabs of the same `url` and
   * `shareKey`. Required with a token provider; with a fixed token string the token itself is the key.
   */
  shareKey?: string;
  /** false: this tab gets its own connection (createClient). Default true where SharedWorker exists. */
  shareAcrossTabs?: boolean;
}

/** What a tab's channel offers, shared or not. */
export interface TabChannel {
  readonly name: string;
  subscribe(): this;
  on<T = unknown>(event: string, handler: MessageHandler<T>): () => void;
  onGap(listener: (gap: Gap) => void): () => void;
  whenSubscribed(): Promise<void>;
  unsubscribe(): void;
}

/** What a tab's client offers, shared or not (a TidewireClient offers more). */
export interface TabClient {
  readonly state: ConnectionState;
  readonly userId: string;
  channel(name: string): TabChannel;
  send<T>(channel: string, event: string, payload: T, options?: SendOptions): Promise<SendResult>;
  onStateChange(listener: (change: StateChange) => void): () => void;
  onError(listener: (error: TidewireError) => void): () => void;
  close(): void;
}

/**
 * A client whose connection is shared with the other tabs of this origin signed in as the same user (a
 * SharedWorker holds it); a plain createClient() where SharedWorker is missing or `shareAcrossTabs` is false.
 */
export function createSharedClient(options: SharedClientOptions): TabClient {
  const { shareKey, shareAcrossTabs, ...rest } = options;
  const resolved = resolveOptions(rest);
  const Worker = (globalThis as { SharedWorker?: typeof SharedWorker }).SharedWorker;
  const locks = (globalThis as { navigator?: Navigator }).navigator?.locks;
  if (shareAcrossTabs === false || Worker === undefined || locks === undefined) return createClient(resolved);
  if (typeof resolved.url === 'function') {
    throw new TypeError('tidewire: createSharedClient: options.url must be a URL or a list of URLs (a function cannot reach the shared worker)');
  }
  let identity = shareKey;
  if (typeof resolved.token === 'function' && typeof identity !== 'string') {
    throw new TypeError('tidewire: createSharedClient with a token provider needs options.shareKey (who the tab is signed in as)');
  }
  identity ??= typeof resolved.token === 'string' ? resolved.token : '';
  const url = typeof resolved.url === 'string' ? resolved.url : [...resolved.url];
  const worker = new Worker(new URL('./shared_worker.js', import.meta.url), {
    type: 'module',
    name: `tidewire ${JSON.stringify(url)} ${identity}`,
  });
  return new SharedClient(resolved, url, worker, locks);
}

class SharedChannel implements TabChannel {
  readonly name: string;
  #client: SharedClient;
  #key = 0;
  #listeners = new Map<MessageHandler<unknown>, string>();
  #gapListeners = new Set<(gap: Gap) => void>();
  #subscribed = false;
  #waiters: Array<() => void> = [];

  constructor(client: SharedClient, name: string) {
    this.#client = client;
    this.name = name;
  }

  subscribe(): this {
    if (this.#key === 0) this.#key = this.#client._subscribe(this);
    return this;
  }

  on<T = unknown>(event: string, handler: MessageHandler<T>): () => void {
    this.#listeners.set(handler as MessageHandler<unknown>, event);
    return () => this.#listeners.delete(handler as MessageHandler<unknown>);
  }

  onGap(listener: (gap: Gap) => void): () => void {
    this.#gapListeners.add(listener);
    return () => this.#gapListeners.delete(listener);
  }

  whenSubscribed(): Promise<void> {
    if (this.#subscribed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  unsubscribe(): void {
    if (this.#key === 0) return;
    this.#client._unsubscribe(this.#key);
    this.#key = 0;
    this.#subscribed = false;
    this.#listeners.clear();
  }

  /** @internal */
  _subscribed(): void {
    this.#subscribed = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** @internal */
  _deliver(m: ChannelMessage<unknown>): void {
    for (const [handler, event] of [...this.#listeners]) {
      if (event !== '*' && event !== m.event) continue;
      try {
        handler(m);
      } catch (e) {
        this.#client._threw(e);
      }
    }
  }

  /** @internal */
  _gap(gap: Gap): void {
    for (const l of [...this.#gapListeners]) l(gap);
  }
}

class SharedClient implements TabClient {
  #port: MessagePort;
  #state: ConnectionState = 'idle';
  #userId = '';
  #nextKey = 0;
  #channels = new Map<number, SharedChannel>();
  #acks = new Map<number, { resolve: (r: SendResult) => void; reject: (e: TidewireError) => void }>();
  #stateListeners = new Set<(change: StateChange) => void>();
  #errorListeners = new Set<(error: TidewireError) => void>();
  #options: ClientOptions;
  #closed = false;
  #releaseLock: () => void = () => undefined;
  // Messages waiting for the tab's lock: the worker must not hear of the tab before the tab holds it.
  #unsent: TabMessage[] | undefined = [];
  #pageListener = (): void => this.#post({ t: 'page', ...page() });

  constructor(options: ClientOptions, url: string | string[], worker: SharedWorker, locks: LockManager) {
    this.#options = options;
    this.#port = worker.port;
    this.#port.onmessage = (e: MessageEvent<WorkerMessage>) => this.#onMessage(e.data);
    this.#port.start();
    // Held while the tab lives: the worker asks for it once it heard `hello`, and gets it once the tab is gone.
    // So `hello` (and everything after it) goes only once the lock is granted to the tab: otherwise the worker
    // could ask first, get it at once and take the tab for gone.
    const tab = `tidewire-tab-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
    const numeric: Record<string, number> = {};
    for (const k of NUMERIC_OPTIONS) if (options[k] !== undefined) numeric[k] = options[k]!;
    const shared: SharedOptions = {
      url,
      token: typeof options.token === 'string' ? options.token : undefined,
      tokenProvider: typeof options.token === 'function',
      authMode: options.authMode,
      numeric,
      debug: options.debug,
    };
    const hello: TabMessage = { t: 'hello', tab, options: shared, ...page() };
    void locks.request(tab, () => {
      const unsent = this.#unsent ?? [];
      this.#unsent = undefined;
      this.#port.postMessage(hello);
      for (const m of unsent) this.#port.postMessage(m);
      if (this.#closed) return undefined; // closed before the grant: its `bye` went with the rest
      return new Promise<void>((release) => (this.#releaseLock = release));
    });
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.#pageListener);
    addEventListener('online', this.#pageListener);
    addEventListener('offline', this.#pageListener);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get userId(): string {
    return this.#userId;
  }

  channel(name: string): TabChannel {
    this.#assertOpen();
    return new SharedChannel(this, name);
  }

  send<T>(channel: string, event: string, payload: T, options: SendOptions = {}): Promise<SendResult> {
    if (this.#closed) return Promise.reject(new TidewireError(ErrorCode.closed, 'tidewire: this client was closed; create a new one'));
    const key = ++this.#nextKey;
    return new Promise((resolve, reject) => {
      this.#acks.set(key, { resolve, reject });
      this.#post({ t: 'send', key, channel, event: event ?? DEFAULTS.defaultEvent, payload, ttlMs: options.ttlMs ?? 0 });
    });
  }

  onStateChange(listener: (change: StateChange) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  onError(listener: (error: TidewireError) => void): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#post({ t: 'bye' });
    this.#releaseLock();
    const err = new TidewireError(ErrorCode.closed, 'the client was closed before the server acknowledged the send');
    for (const a of this.#acks.values()) a.reject(err);
    this.#acks.clear();
    this.#channels.clear();
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.#pageListener);
    removeEventListener('online', this.#pageListener);
    removeEventListener('offline', this.#pageListener);
  }

  /** @internal */
  _subscribe(channel: SharedChannel): number {
    this.#assertOpen();
    const key = ++this.#nextKey;
    this.#channels.set(key, channel);
    this.#post({ t: 'sub', key, channel: channel.name });
    return key;
  }

  /** @internal */
  _unsubscribe(key: number): void {
    if (!this.#channels.delete(key)) return;
    this.#post({ t: 'unsub', key });
  }

  /** @internal */
  _threw(e: unknown): void {
    this.#emitError(new TidewireError(ErrorCode.listenerThrew, `a listener threw: ${e instanceof Error ? e.stack ?? e.message : String(e)}`));
  }

  #post(message: TabMessage): void {
    if (this.#closed && message.t !== 'bye') return;
    if (this.#unsent !== undefined) this.#unsent.push(message);
    else this.#port.postMessage(message);
  }

  #assertOpen(): void {
    if (this.#closed) throw new TidewireError(ErrorCode.closed, 'tidewire: this client was closed; create a new one');
  }

  #emitError(error: TidewireError): void {
    if (this.#errorListeners.size === 0) console.error('[tidewire]', error.code, error.message);
    for (const l of [...this.#errorListeners]) l(error);
  }

  #onMessage(m: WorkerMessage): void {
    if (this.#closed) return;
    switch (m.t) {
      case 'msg':
        this.#channels.get(m.key)?._deliver(m.m);
        return;
      case 'subscribed':
        this.#channels.get(m.key)?._subscribed();
        return;
      case 'gap':
        this.#channels.get(m.key)?._gap(m.gap);
        return;
      case 'ack': {
        const a = this.#acks.get(m.key);
        this.#acks.delete(m.key);
        if (m.result !== undefined) a?.resolve(m.result);
        else a?.reject(new TidewireError(m.code ?? ErrorCode.internal, m.message ?? 'the server refused the message'));
        return;
      }
      case 'state': {
        this.#userId = m.userId;
        if (m.to === this.#state) return;
        const change: StateChange = { from: this.#state, to: m.to, reason: m.reason };
        this.#state = m.to;
        for (const l of [...this.#stateListeners]) l(change);
        return;
      }
      case 'error':
        this.#emitError(new TidewireError(m.code, m.message, m.details));
        return;
      case 'token?': {
        const provider = this.#options.token;
        Promise.resolve()
          .then(() => (typeof provider === 'function' ? provider() : (provider ?? null)))
          .then(
            (token) => this.#post({ t: 'token', req: m.req, token }),
            (e: unknown) => this.#post({ t: 'token', req: m.req, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
          );
        return;
      }
    }
  }
}

function page(): { visible: boolean; online: boolean } {
  return {
    visible: typeof document === 'undefined' || document.visibilityState !== 'hidden',
    online: typeof navigator === 'undefined' || navigator.onLine !== false,
  };
}
