// The engine of a tab whose connection is shared with the other tabs of its origin and user (issue #18). The
// tab's TidewireClient runs exactly as with its own connection (channels, listeners, presence, sync, chat, the
// React hooks: one code path); only the engine it drives is remote: this class takes the engine's calls and
// posts them to the hub that holds the connection (connection_hub.ts: in a SharedWorker, or in the tab elected
// leader where SharedWorker is missing, tab_leader.ts), and turns the hub's answers into the engine's callbacks.
// A lazily loaded chunk: only clients that share load it.
//
// The synchronous parts of the engine's API are answered here: a channel's references, subscribed and revoked
// flags and recovery position are mirrored per tab channel; userId, connectionId and the metrics are the hub's
// as of its last word (metrics() asks it for fresh ones); outboxEntries() lists this tab's sends not yet
// acknowledged (in flight while the connection is up); clearOutbox() cannot clear other tabs' sends and clears
// nothing.
//
// When a new leader takes over, the tab says hello again, subscribes every channel again from where it was (the
// server's recovery fills the gap; what the tab already had is dropped by offset) and fails the sends and
// requests whose answers were lost with the old leader (`unavailable`: send again).
//
// Who the tab is: `shareKey`, or a fixed token, or (a token provider without shareKey) the `sub` of the
// provider's token, asked once before attaching (that token is the first one used). Read, not verified: it only
// picks the connection; the server verifies the token. A token that names no user gives a per-tab connection.
// A later token of another user (signed in as someone else) never goes to this connection: the tab leaves it and
// moves, with its channels, to that user's shared connection (or, with a token naming no user, to one of its own).
import type { EngineCallbacks, createClient } from './client.js';
import type { NumericOption, ResolvedOptions } from './options.js';
import type { SharedOptions, TabMessage, WorkerMessage } from './shared_messages.js';
import { LeaderLink } from './tab_leader.js';
import type {
  EngineStatusValue,
  TidewireModule,
  WasmChannel,
  WasmClientConfig,
  WasmMetrics,
  WasmOutboxEntry,
  WasmResult,
} from './tidewire_module.mjs';
import type { ConnectionState } from './wire.js';

/**
 * What this chunk needs of the client's modules, passed in (as persistent_outbox.ts gets its): a static import
 * would make a bundler split the client's code into a chunk of its own, which costs the plain API ~0.4 KB gzip.
 */
export interface RemoteDeps {
  createClient: typeof createClient;
  idleMetrics: WasmMetrics;
  numericOptions: readonly NumericOption[];
  states: readonly ConnectionState[];
  /** ErrorCode.unavailable. */
  unavailable: string;
  /** The client's debug log (options.debug). */
  log: (...args: unknown[]) => void;
}

/** How a tab reaches the hub holding the connection: a SharedWorker's port, or the elected leader tab. */
export interface TabLink {
  post(message: TabMessage): void;
  /** `onNewHub`: another hub took over (a new leader): the tab says hello again and subscribes again. */
  listen(onMessage: (message: WorkerMessage) => void, onNewHub?: () => void): void;
  /** Stops listening (the tab moved to another connection); a leader hands the connection to the next tab. */
  close(): void;
}

interface Mirror extends WasmChannel {
  name: string;
  event: string;
  filter: string;
}

// Enum values are compared by identity (as embind's are): one object per name.
const enumOf = <N extends string>(names: readonly N[]) =>
  Object.fromEntries(names.map((n, value) => [n, { value }])) as unknown as Record<N, { value: number }>;
const STATUS = enumOf(['ok', 'invalidChannel', 'invalidEvent', 'invalidPayload', 'outboxFull', 'unknownChannel', 'tooLarge', 'invalidRequest', 'notConnected', 'invalidId']);
const OK: WasmResult = { id: 0, status: STATUS.ok as EngineStatusValue };
const NO_CHANNEL: WasmChannel = { id: 0, refs: 0, subscribed: false, revoked: false, offset: 0, epoch: '' };

/**
 * The user a token names: a JWT's `sub` (its payload read, not verified: the server verifies the token; this
 * only picks the shared connection), or undefined for anything else.
 */
export function tokenUser(token: unknown): string | undefined {
  const payload = typeof token === 'string' ? token.split('.') : [];
  if (payload.length !== 3) return undefined;
  try {
    const b64 = payload[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const sub = (JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as { sub?: unknown } | null)?.sub;
    return typeof sub === 'string' && sub !== '' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The module a sharing client runs on (`name`: the share's, from the URL and the user; with a token provider and
 * no shareKey, without the user, learnt here from the provider's token): its WasmClient is the remote engine.
 * When the token names no user: not shared, and what to start this tab's own connection with (the token, if
 * it is one).
 */
export async function remoteModule(name: string, options: ResolvedOptions, deps: RemoteDeps): Promise<TidewireModule | string | undefined> {
  const states = enumOf(deps.states);
  let user: string | undefined;
  let first: string | undefined;
  const provider = options.token;
  if (typeof provider === 'function' && options.shareKey === undefined) {
    let token: unknown;
    try {
      token = await provider();
    } catch (e) {
      deps.log('not shared: the token provider failed, so this tab cannot tell its user; it holds its own connection', String(e));
      return undefined;
    }
    user = tokenUser(token);
    if (user === undefined) {
      deps.log('not shared: the token is not a JWT whose payload has a string `sub` (or the provider returned none); this tab holds its own connection');
      return typeof token === 'string' && token !== '' ? token : undefined;
    }
    first = token as string;
  }
  const module = {
    WasmClient: class extends RemoteEngine {
      constructor(config: WasmClientConfig, callbacks: EngineCallbacks) {
        super(name, user, first, options, config, callbacks, deps, states);
      }
      // The engine's defaults live in the hub's wasm: graceMs comes with the hub's first word (config()).
      static defaultConfig(): WasmClientConfig {
        return { graceMs: 0 } as WasmClientConfig;
      }
      static statusMessage(): string {
        return 'the shared connection refused the call';
      }
    },
    ConnectionState: states,
    AuthMode: enumOf(['subprotocol', 'message']),
    EngineStatus: STATUS,
    HEAPU8: new Uint8Array(0),
    liveObjects: () => 0,
  };
  return module as unknown as TidewireModule;
}

function page(): { visible: boolean; online: boolean } {
  return {
    visible: typeof document === 'undefined' || document.visibilityState !== 'hidden',
    online: typeof navigator === 'undefined' || navigator.onLine !== false,
  };
}

class RemoteEngine {
  #link!: TabLink;
  readonly #tab: string;
  readonly #url: string;
  // The share's name without the user, and the user (the token's `sub`) when the tab learns it from its tokens.
  readonly #prefix: string;
  #user: string | undefined;
  // The token asked for to learn the user: the answer to the hub's first `token?`.
  #first: string | undefined;
  // Which link is current: a worker that fails to load after the tab moved on is ignored.
  #linkGen = 0;
  #cb: EngineCallbacks;
  #config: WasmClientConfig;
  #channels = new Map<number, Mirror>();
  #byName = new Map<string, Mirror>();
  #nextId = 0;
  #nextRef = 0;
  #sends = new Map<number, WasmOutboxEntry>();
  #requests = new Set<number>();
  #state: ConnectionState = 'idle';
  #userId = '';
  #connectionId = '';
  #metrics: WasmMetrics;
  #deps: RemoteDeps;
  #states: Record<ConnectionState, { value: number }>;
  #tokenReq = 0;
  #closed = false;
  #releaseLock: () => void = () => undefined;
  #hello: () => TabMessage;
  // Messages waiting for the tab's lock: the hub must not hear of the tab before the tab holds it.
  #unsent: TabMessage[] | undefined = [];
  // Posted to a SharedWorker that has not answered yet (posted again to a leader if the worker fails to load).
  #early: TabMessage[] | undefined;
  // After the worker failed to load: messages waiting for the leader's hub to be known.
  #waitingHub: TabMessage[] | undefined;
  #hubKnown = false;
  #pageListener = (): void => this.#post({ t: 'page', ...page() });

  constructor(
    name: string,
    user: string | undefined,
    first: string | undefined,
    options: ResolvedOptions,
    config: WasmClientConfig,
    callbacks: EngineCallbacks,
    deps: RemoteDeps,
    states: Record<ConnectionState, { value: number }>,
  ) {
    this.#cb = callbacks;
    this.#config = config;
    this.#deps = deps;
    this.#states = states;
    this.#metrics = deps.idleMetrics;
    const tab = (this.#tab = `tidewire-tab-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`);
    const locks = navigator.locks;
    this.#url = JSON.stringify(options.url);
    this.#user = user;
    this.#first = first;
    this.#prefix = name;
    this.#open(name + (user ?? ''), false);
    const numeric: Record<string, number> = {};
    for (const k of deps.numericOptions) if (options[k] !== undefined) numeric[k] = options[k]!;
    const url = options.url as string | readonly string[];
    const shared: SharedOptions = {
      url: typeof url === 'string' ? url : [...url],
      token: typeof options.token === 'string' ? options.token : undefined,
      tokenProvider: typeof options.token === 'function',
      authMode: options.authMode,
      numeric,
      debug: options.debug,
      transports: options.transports ? [...options.transports] : undefined,
      fallbackAfterFailures: options.fallbackAfterFailures,
      upgradeProbeMs: options.upgradeProbeMs,
    };
    this.#hello = () => ({ t: 'hello', tab, options: shared, ...page() });
    // Held while the tab lives: the hub asks for it once it heard `hello`, and gets it once the tab is gone. So
    // `hello` (and everything after it) goes only once the lock is granted to the tab: otherwise the hub could
    // ask first, get it at once and take the tab for gone.
    void locks.request(tab, () => {
      const unsent = this.#unsent ?? [];
      this.#unsent = undefined;
      if (this.#waitingHub !== undefined) {
        this.#waitingHub.push(...unsent); // the worker failed already: they go to the leader once it is known
        if (this.#hubKnown) this.#newHub(); // it became known before this grant
      } else {
        this.#link.post(this.#hello());
        for (const m of unsent) this.#post(m);
      }
      if (this.#closed) return undefined; // closed before the grant: its `bye` went with the rest
      return new Promise<void>((release) => (this.#releaseLock = release));
    });
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.#pageListener);
    addEventListener('online', this.#pageListener);
    addEventListener('offline', this.#pageListener);
  }

  // --- the engine's calls -------------------------------------------------------------------------------

  subscribe(channel: string, event: string, filter: string): WasmResult {
    let ch = this.#byName.get(channel);
    if (ch !== undefined) {
      ch.refs += 1;
      if (ch.event !== event || ch.filter !== filter) this.setChanges(ch.id, event, filter);
      return { id: ch.id, status: OK.status };
    }
    ch = { id: ++this.#nextId, name: channel, refs: 1, subscribed: false, revoked: false, offset: 0, epoch: '', event, filter };
    this.#channels.set(ch.id, ch);
    this.#byName.set(channel, ch);
    this.#post({ t: 'sub', key: ch.id, channel, event, filter });
    return { id: ch.id, status: OK.status };
  }

  setChanges(channelId: number, event: string, filter: string): void {
    const ch = this.#channels.get(channelId);
    if (ch === undefined) return;
    ch.event = event;
    ch.filter = filter;
    this.#post({ t: 'changes', key: channelId, event, filter });
  }

  /** The hub keeps the grace period: here the channel is gone with its last reference. */
  unsubscribe(channelId: number): void {
    const ch = this.#channels.get(channelId);
    if (ch === undefined || --ch.refs > 0) return;
    this.#channels.delete(channelId);
    this.#byName.delete(ch.name);
    this.#post({ t: 'unsub', key: channelId });
  }

  channel(channelId: number): WasmChannel {
    return this.#channels.get(channelId) ?? NO_CHANNEL;
  }

  resubscribe(channelId: number): void {
    const ch = this.#channels.get(channelId);
    if (ch === undefined || !ch.revoked) return;
    ch.revoked = false;
    this.#post({ t: 'resub', key: channelId });
  }

  /** `id`: a persisted send's (persistOutbox), kept so that the server's dedupe sees a resend as one. */
  publish(channel: string, event: string, json: string, ttlMs: number, id: string): WasmResult {
    return this.#send(channel, event, ttlMs, id, json, undefined);
  }

  publishBinary(channel: string, event: string, bytes: Uint8Array, ttlMs: number, id: string): WasmResult {
    return this.#send(channel, event, ttlMs, id, undefined, bytes.slice());
  }

  request(type: string, body: string, ttlMs: number): WasmResult {
    const key = ++this.#nextRef;
    this.#requests.add(key);
    this.#post({ t: 'req', key, type, body, ttlMs });
    return { id: key, status: OK.status };
  }

  notify(type: string, body: string): EngineStatusValue {
    this.#post({ t: 'notify', type, body });
    return OK.status;
  }

  /** This tab's sends not acknowledged yet; in flight while the shared connection is up (the hub sends at once). */
  outboxEntries(): WasmOutboxEntry[] {
    const inFlight = this.#state === 'connected';
    return [...this.#sends.values()].map((e) => ({ ...e, inFlight }));
  }

  clearOutbox(): number {
    return 0;
  }

  connect(): void {
    this.#post({ t: 'call', name: 'connect' });
  }

  disconnect(): void {
    this.#post({ t: 'call', name: 'disconnect' });
  }

  reconnect(): void {
    this.#post({ t: 'call', name: 'reconnect' });
  }

  setReconnectPolicy(base: number, cap: number, max: number): void {
    this.#post({ t: 'policy', base, cap, max });
  }

  setToken(token: string): void {
    // The user signed in as someone else: the token goes to that user's connection, never to this one.
    if (this.#user !== undefined && this.#tokenReq !== 0) {
      const user = tokenUser(token);
      if (user !== this.#user) return this.#move(user, token);
    }
    this.#answerToken({ token });
  }

  tokenRefused(): void {
    this.#answerToken({ token: null });
  }

  tokenFailed(message: string): void {
    this.#answerToken({ error: message });
  }

  /** The hub's, as of its last word; asks it for fresh ones for the next call. */
  metrics(): WasmMetrics {
    this.#post({ t: 'metrics?' });
    return this.#metrics;
  }

  config(): WasmClientConfig {
    return this.#config;
  }

  userId(): string {
    return this.#userId;
  }

  connectionId(): string {
    return this.#connectionId;
  }

  // Used only by a hub's own engine, never on a remote one.
  setPosition(): void {}
  setPageVisible(): void {}
  setOnline(): void {}
  setUrl(): void {}
  urlFailed(): void {}

  delete(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#post({ t: 'bye' });
    this.#releaseLock();
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.#pageListener);
    removeEventListener('online', this.#pageListener);
    removeEventListener('offline', this.#pageListener);
  }

  // --- internals ----------------------------------------------------------------------------------------

  #send(channel: string, event: string, ttlMs: number, id: string, json: string | undefined, bytes: Uint8Array | undefined): WasmResult {
    const key = ++this.#nextRef;
    const size = bytes?.length ?? json!.length;
    this.#sends.set(key, { ref: key, channel, event, bytes: size, binary: bytes !== undefined, inFlight: false, queuedAtMs: Date.now() });
    this.#post({ t: 'send', key, channel, event, json, bytes, ttlMs, id });
    return { id: key, status: OK.status };
  }

  #answerToken(answer: { token?: string | null; error?: string }): void {
    const req = this.#tokenReq;
    if (req === 0) return; // setToken() of a fixed token: the hub has it from `hello`
    this.#tokenReq = 0;
    this.#post({ t: 'token', req, ...answer });
  }

  #post(message: TabMessage): void {
    if (this.#closed && message.t !== 'bye') return;
    if (this.#unsent !== undefined) this.#unsent.push(message);
    else if (this.#waitingHub !== undefined) this.#waitingHub.push(message);
    else {
      this.#early?.push(message);
      this.#link.post(message);
    }
  }

  // The link to the hub of connection `name`: its SharedWorker, or its leader tab. `ask`: a tab starting late
  // asks who leads (tab_leader.ts).
  #open(name: string, ask: boolean): void {
    const gen = ++this.#linkGen;
    const SharedWorkerClass = (globalThis as { SharedWorker?: typeof SharedWorker }).SharedWorker;
    if (SharedWorkerClass !== undefined) {
      // The worker sits next to this chunk in web/dist (its own entry). Bundlers that rewrite
      // `new SharedWorker(new URL(…))` want static options; the name here is not, so the call stays plain. An
      // app bundle that left shared_worker.js behind gets a worker that fails to load: then the tabs elect a
      // leader instead, and what was posted to the worker goes to the leader.
      const worker = new SharedWorkerClass(new URL('./shared_worker.js', import.meta.url), { type: 'module', name });
      const port = worker.port;
      this.#early = [];
      worker.addEventListener('error', () => gen === this.#linkGen && this.#fallBack(name));
      this.#link = {
        post: (m) => port.postMessage(m),
        listen: (onMessage) => {
          port.onmessage = (e: MessageEvent<WorkerMessage>) => {
            this.#early = undefined; // the worker runs
            onMessage(e.data);
          };
          port.start();
        },
        close: () => port.close(),
      };
    } else {
      this.#link = new LeaderLink(name, this.#tab, navigator.locks, this.#deps.createClient, ask);
    }
    this.#link.listen(
      (m) => this.#onMessage(m),
      () => this.#newHub(),
    );
  }

  // The hub asked for a token and the provider's names another user (`user`; undefined: none): answer the hub
  // without it, leave its connection, and go with every channel to that user's (or to one of this tab's own).
  #move(user: string | undefined, token: string): void {
    const req = this.#tokenReq;
    this.#tokenReq = 0;
    this.#link.post({ t: 'token', req, error: 'tidewire: the tab signed in as another user and left this connection' });
    this.#link.post({ t: 'bye' });
    this.#link.close();
    this.#user = user;
    this.#first = token;
    const name = user === undefined ? `tidewire-tab ${this.#url} ${this.#tab}` : this.#prefix + user;
    this.#deps.log(user === undefined ? 'the token names no user now: this tab moves to its own connection' : 'signed in as another user: this tab moves to that user\'s shared connection');
    this.#waitingHub = undefined;
    this.#early = undefined;
    this.#open(name, true);
    // A SharedWorker hears the tab at once; a leader, once known (#newHub).
    if (this.#early !== undefined) this.#rehello((m) => this.#post(m));
  }

  // The SharedWorker did not load (an app bundle without shared_worker.js): elect a leader instead, and once a
  // hub is known, say hello to it and post what the worker never read.
  #fallBack(name: string): void {
    if (this.#early === undefined || this.#closed) return;
    this.#waitingHub = this.#early;
    this.#early = undefined;
    console.warn('[tidewire] the shared worker (shared_worker.js next to tidewire\'s chunks) did not load; the tabs elect a leader to share the connection instead');
    this.#link = new LeaderLink(name, this.#tab, navigator.locks, this.#deps.createClient, true);
    this.#link.listen(
      (m) => this.#onMessage(m),
      () => this.#newHub(),
    );
  }

  // A new leader holds the connection: say hello again, subscribe every channel again from where it was, and
  // fail the sends and requests the old one may not have made (their answers are gone with it).
  #newHub(): void {
    this.#hubKnown = true;
    if (this.#closed || this.#unsent !== undefined) return; // the hello after the lock grant goes to the new hub
    const waiting = this.#waitingHub;
    if (waiting !== undefined) {
      // The first hub after a failed worker: nothing was lost, everything goes to it.
      this.#waitingHub = undefined;
      this.#link.post(this.#hello());
      for (const m of waiting) this.#link.post(m);
      return;
    }
    this.#rehello((m) => this.#link.post(m));
  }

  // Attach to a new hub: hello, every channel again from where it was, and the sends and requests the old hub
  // may not have made fail.
  #rehello(post: (message: TabMessage) => void): void {
    post(this.#hello());
    for (const ch of this.#channels.values()) {
      ch.subscribed = false;
      const since = ch.epoch === '' ? undefined : { offset: ch.offset, epoch: ch.epoch };
      post({ t: 'sub', key: ch.id, channel: ch.name, event: ch.event, filter: ch.filter, since });
    }
    const message = 'tidewire: the tab holding the shared connection closed before the server answered; send it again if it matters';
    const sends = [...this.#sends.keys()];
    const requests = [...this.#requests];
    this.#sends.clear();
    this.#requests.clear();
    for (const key of sends) this.#cb.onAck(key, false, 0, this.#deps.unavailable, message, '');
    for (const key of requests) this.#cb.onReply(key, false, 'null', this.#deps.unavailable, message);
  }

  #onMessage(m: WorkerMessage): void {
    if (this.#closed) return;
    const cb = this.#cb;
    switch (m.t) {
      case 'msg': {
        const ch = this.#channels.get(m.key);
        if (ch === undefined) return;
        if (m.epoch !== '') {
          if (m.epoch === ch.epoch && m.m.offset <= ch.offset) return; // already delivered (a new leader's replay)
          ch.epoch = m.epoch;
          ch.offset = m.m.offset;
        }
        cb.onChannelMessage(m.key, m.m);
        return;
      }
      case 'subscribed': {
        const ch = this.#channels.get(m.key);
        if (ch === undefined) return;
        ch.subscribed = true;
        ch.revoked = false;
        cb.onSubscribed(m.key);
        return;
      }
      case 'gap':
        if (this.#channels.has(m.key)) cb.onGap(m.key, m.reason);
        return;
      case 'presence':
        if (this.#channels.has(m.key)) cb.onPresenceDiff(m.key, m.json);
        return;
      case 'revoked': {
        const ch = this.#channels.get(m.key);
        if (ch === undefined) return;
        ch.subscribed = false;
        ch.revoked = true;
        cb.onUnsubscribed(m.key, m.code, m.message);
        return;
      }
      case 'ack':
        if (this.#sends.delete(m.key)) cb.onAck(m.key, m.ok, m.offset, m.code, m.message, m.details);
        return;
      case 'reply':
        if (this.#requests.delete(m.key)) cb.onReply(m.key, m.ok, m.data, m.code, m.message);
        return;
      case 'state': {
        if (m.to === 'connected') this.#first = undefined; // the hub had a token: this one may be stale later
        this.#userId = m.userId;
        this.#connectionId = m.connectionId;
        this.#metrics = m.metrics;
        if (m.graceMs > 0) this.#config = { ...this.#config, graceMs: m.graceMs };
        if (m.to === this.#state) return;
        const from = this.#state;
        this.#state = m.to;
        if (m.to !== 'connected') for (const ch of this.#channels.values()) ch.subscribed = false;
        cb.onState(this.#states[from] as never, this.#states[m.to] as never, m.reason);
        return;
      }
      case 'error':
        cb.onError(m.code, m.message);
        return;
      case 'token?': {
        this.#tokenReq = m.req;
        const first = this.#first;
        this.#first = undefined;
        if (first !== undefined) this.setToken(first);
        else cb.onTokenRequest();
        return;
      }
    }
  }
}
