// One connection shared by every tab of one origin and one user (issue #18): createSharedClient() attaches the
// tab to a SharedWorker (shared_worker.ts) that holds the socket and the wasm engine. The tab keeps its
// listeners and promises; the worker keeps one engine reference per tab subscription, so reference counting
// spans tabs. Tabs of another user (another `shareKey`) attach to another worker, hence another connection,
// and their tokens never meet: a worker asks only its own tabs' token providers.
//
// Where SharedWorker is missing (Chrome on Android, some WebViews), the tabs elect a leader over Web Locks that
// holds the connection and relays over a BroadcastChannel (tab_leader.ts); when it closes, the next tab takes
// over and every tab subscribes again from where it was, so recovery fills the gap (and each tab drops what it
// already had, by offset).
//
// This first slice covers channels (subscribe, listeners, gaps), acknowledged sends and the connection state.
// Presence, sync and chat still need a per-tab client (createClient).
import { createClient, type TidewireClient } from './client.js';
import { TidewireError } from './errors.js';
import { NUMERIC_OPTIONS, resolveOptions, type ClientOptions } from './options.js';
import type { SharedOptions, TabMessage, WorkerMessage } from './shared_messages.js';
import { LeaderLink } from './tab_leader.js';
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
  /** An RPC of the protocol (presence, chat, sync: docs/PROTOCOL.md sections 10-12); resolves with its data. */
  request<T = unknown>(type: string, body?: Record<string, unknown>, options?: SendOptions): Promise<T>;
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
  if (shareAcrossTabs === false) return createClient(resolved);
  // Checked in every browser, so that options that work in one work in all (sharing or not).
  if (resolved.persistOutbox) {
    throw new TypeError('tidewire: createSharedClient does not take persistOutbox yet; use createClient for a persisted outbox');
  }
  if (typeof resolved.url === 'function') {
    throw new TypeError('tidewire: createSharedClient: options.url must be a URL or a list of URLs (a function cannot reach the shared worker)');
  }
  if (typeof resolved.token === 'function' && typeof shareKey !== 'string') {
    throw new TypeError('tidewire: createSharedClient with a token provider needs options.shareKey (who the tab is signed in as)');
  }
  const SharedWorkerClass = (globalThis as { SharedWorker?: typeof SharedWorker }).SharedWorker;
  const locks = (globalThis as { navigator?: Navigator }).navigator?.locks;
  const canElect = typeof BroadcastChannel !== 'undefined' && locks !== undefined;
  if (locks === undefined || (SharedWorkerClass === undefined && !canElect)) return createClient(resolved);
  const identity = shareKey ?? (typeof resolved.token === 'string' ? resolved.token : '');
  const url = typeof resolved.url === 'string' ? resolved.url : [...resolved.url];
  const name = `tidewire ${JSON.stringify(url)} ${identity}`;
  const tab = `tidewire-tab-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
  if (SharedWorkerClass === undefined) return new SharedClient(resolved, url, new LeaderLink(name, tab, locks), tab, locks);
  // The worker sits next to this file in web/dist (its own entry, importing the client's chunk). Bundlers that
  // rewrite `new SharedWorker(new URL(…))` want static options; the name here is not, so the call stays plain.
  const port = new SharedWorkerClass(new URL('./shared_worker.js', import.meta.url), { type: 'module', name }).port;
  const link: TabLink = {
    post: (m) => port.postMessage(m),
    listen: (onMessage) => {
      port.onmessage = (e: MessageEvent<WorkerMessage>) => onMessage(e.data);
      port.start();
    },
  };
  return new SharedClient(resolved, url, link, tab, locks);
}

/** How a tab reaches the hub holding the connection: a SharedWorker's port, or the elected leader tab. */
export interface TabLink {
  post(message: TabMessage): void;
  /** `onNewHub`: another hub took over (a new leader): the tab says hello again and subscribes again. */
  listen(onMessage: (message: WorkerMessage) => void, onNewHub?: () => void): void;
}

class SharedChannel implements TabChannel {
  readonly name: string;
  #client: SharedClient;
  #key = 0;
  #listeners = new Map<MessageHandler<unknown>, string>();
  #gapListeners = new Set<(gap: Gap) => void>();
  #subscribed = false;
  #waiters: Array<() => void> = [];
  // The recovery position: the last message delivered (a new hub recovers from it; replays up to it are dropped).
  #offset = 0;
  #epoch = '';

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
  get _since(): { offset: number; epoch: string } | undefined {
    return this.#epoch === '' ? undefined : { offset: this.#offset, epoch: this.#epoch };
  }

  /** @internal */
  _deliver(m: ChannelMessage<unknown>, epoch: string): void {
    if (epoch !== '' && epoch === this.#epoch && m.offset <= this.#offset) return; // already delivered
    if (epoch !== '') {
      this.#epoch = epoch;
      this.#offset = m.offset;
    }
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
  #link: TabLink;
  #state: ConnectionState = 'idle';
  #userId = '';
  #nextKey = 0;
  #channels = new Map<number, SharedChannel>();
  #acks = new Map<number, { resolve: (r: SendResult) => void; reject: (e: TidewireError) => void }>();
  #replies = new Map<number, { resolve: (data: unknown) => void; reject: (e: TidewireError) => void }>();
  #stateListeners = new Set<(change: StateChange) => void>();
  #errorListeners = new Set<(error: TidewireError) => void>();
  #options: ClientOptions;
  #closed = false;
  #releaseLock: () => void = () => undefined;
  #hello: () => TabMessage;
  // Messages waiting for the tab's lock: the worker must not hear of the tab before the tab holds it.
  #unsent: TabMessage[] | undefined = [];
  #pageListener = (): void => this.#post({ t: 'page', ...page() });

  constructor(options: ClientOptions, url: string | string[], link: TabLink, tab: string, locks: LockManager) {
    this.#options = options;
    this.#link = link;
    link.listen(
      (m) => this.#onMessage(m),
      () => this.#newHub(),
    );
    // Held while the tab lives: the hub asks for it once it heard `hello`, and gets it once the tab is gone.
    // So `hello` (and everything after it) goes only once the lock is granted to the tab: otherwise the hub
    // could ask first, get it at once and take the tab for gone.
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
    this.#hello = () => ({ t: 'hello', tab, options: shared, ...page() });
    void locks.request(tab, () => {
      const unsent = this.#unsent ?? [];
      this.#unsent = undefined;
      link.post(this.#hello());
      for (const m of unsent) link.post(m);
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

  request<T = unknown>(type: string, body: Record<string, unknown> = {}, options: SendOptions = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new TidewireError(ErrorCode.closed, 'tidewire: this client was closed; create a new one'));
    const key = ++this.#nextKey;
    return new Promise((resolve, reject) => {
      this.#replies.set(key, { resolve: resolve as (d: unknown) => void, reject });
      this.#post({ t: 'req', key, type, body, ttlMs: options.ttlMs ?? 0 });
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
    for (const a of [...this.#acks.values(), ...this.#replies.values()]) a.reject(err);
    this.#acks.clear();
    this.#replies.clear();
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
    else this.#link.post(message);
  }

  // A new leader holds the connection: say hello again, subscribe every channel again from where it was, and
  // fail the sends the old one may not have made (their acks are gone with it).
  #newHub(): void {
    if (this.#closed || this.#unsent !== undefined) return; // the hello after the lock grant goes to the new hub
    this.#link.post(this.#hello());
    for (const [key, ch] of this.#channels) this.#link.post({ t: 'sub', key, channel: ch.name, since: ch._since });
    const acks = [...this.#acks.values(), ...this.#replies.values()];
    this.#acks.clear();
    this.#replies.clear();
    const err = new TidewireError(ErrorCode.unavailable, 'tidewire: the tab holding the shared connection closed before the server acknowledged this send; send it again if it matters');
    for (const a of acks) a.reject(err);
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
        this.#channels.get(m.key)?._deliver(m.m, m.epoch);
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
      case 'reply': {
        const r = this.#replies.get(m.key);
        this.#replies.delete(m.key);
        if (m.ok) r?.resolve(m.data);
        else r?.reject(new TidewireError(m.code ?? ErrorCode.internal, m.message ?? 'the server refused the request', m.details));
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
