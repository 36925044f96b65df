// Hand-written declarations of the embind module declared by bindings/tidewire_module.cpp (Emscripten 3.1.6
// has no TS generator). Kept honest by tests/node/module-exports.test.mjs (classes, methods, enums and
// value_object fields, both ways) and web/test-types/ (tsc --strict). A WasmClient owns wasm memory: call
// delete() when done (a deleted object's methods throw).

/**
 * The listener object the engine calls, one method per event (bindings/js_listener.cpp). Internal to the web
 * package; the methods must never throw (a JS exception through wasm leaks its stack).
 */
export interface WasmCallbacks {
  onState(from: ConnectionStateValue, to: ConnectionStateValue, reason: string): void;
  onEventName(eventId: number, name: string): void;
  /** Hot path: the payload (JSON text) and sender are UTF-8 bytes in HEAPU8, valid only during the call. */
  onMessage(
    channelId: number,
    eventId: number,
    payloadPtr: number,
    payloadLen: number,
    offset: number,
    ts: number,
    fromPtr: number,
    fromLen: number,
  ): void;
  /**
   * Hot path of protocol v2: the compact batch is `frameLen` bytes at `framePtr` in HEAPU8 (valid only during the
   * call, the same frame while `frameSeq` stays); decoded as UTF-8 text, the payload is its `payloadUnits` UTF-16
   * units from `payloadIndex`, the sender the `fromUnits` before.
   */
  onCompactMessage(
    channelId: number,
    eventId: number,
    framePtr: number,
    frameLen: number,
    frameSeq: number,
    payloadIndex: number,
    payloadUnits: number,
    fromUnits: number,
    offset: number,
    ts: number,
  ): void;
  /** A binary channel message: the bytes are in HEAPU8, valid only during the call. */
  onBinaryMessage(
    channelId: number,
    eventId: number,
    bytesPtr: number,
    bytesLen: number,
    offset: number,
    ts: number,
    fromPtr: number,
    fromLen: number,
  ): void;
  /** The server could not replay what a channel missed (`epoch_changed` or `window_exceeded`). */
  onGap(channelId: number, reason: string): void;
  /** `code` is '' on success; `timeout`, `expired`, `cleared` or a server error code otherwise. */
  onAck(ref: number, ok: boolean, offset: number, code: string, message: string, errorJson: string): void;
  onSubscribed(channelId: number): void;
  /** The answer to request(): `dataJson` is the reply's data (or, on failure, the error message as JSON). */
  onReply(ref: number, ok: boolean, dataJson: string, code: string, message: string): void;
  /** A presence_diff message (JSON text) for a subscribed channel. */
  onPresenceDiff(channelId: number, diffJson: string): void;
  /** The server ended a channel's subscription (access revoked): `code` is its reason, e.g. `room_left`. */
  onUnsubscribed(channelId: number, code: string, message: string): void;
  onError(code: string, message: string): void;
  /** Answer with setToken(), tokenFailed() (transient: retried with backoff) or tokenRefused() (terminal). */
  onTokenRequest(): void;
  /** Only with `urlProvider`, before every connection attempt: answer with setUrl() or urlFailed() (a failed attempt). */
  onUrlRequest(): void;
}

/** An embind enum value: compare with `===` against the module's enum object (e.g. `module.AuthMode.message`). */
export interface EnumValue<Name extends string> {
  readonly value: number;
  /** Type-only tag: which enum the value belongs to. */
  readonly __enum?: Name;
}
export type AuthMode = EnumValue<'AuthMode'>;
export type ConnectionStateValue = EnumValue<'ConnectionState'>;
export type EngineStatusValue = EnumValue<'EngineStatus'>;

/**
 * The engine's options (value_object over client::ClientConfig). Every field is required when passed in; the
 * defaults are C++'s, read with WasmClient.defaultConfig(). Documented for users in web/src/options.ts.
 */
export interface WasmClientConfig {
  url: string;
  authMode: AuthMode;
  tokenProvider: boolean;
  /** Ask for the URL (onUrlRequest) before every connection attempt; `url` is then the last one used. */
  urlProvider: boolean;
  graceMs: number;
  reconnectBaseMs: number;
  reconnectCapMs: number;
  maxReconnectAttempts: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  probeTimeoutMs: number;
  hiddenCloseMs: number;
  authTimeoutMs: number;
  outboxMaxMessages: number;
  outboxMaxBytes: number;
  ackTimeoutMs: number;
}

/** A channel as the engine holds it (value_object over ChannelView: client::ChannelEntry's flags); `id` 0 once released. */
export interface WasmChannel {
  id: number;
  /** References (Channel handles, subscribe() calls) held on it. */
  refs: number;
  /** The server confirmed the subscription on the current connection. */
  subscribed: boolean;
  /** The server ended the subscription (onUnsubscribed); a new subscribe() starts it again. */
  revoked: boolean;
  /** The recovery position: the last offset seen in `epoch` (0 and '' before any message). */
  offset: number;
  epoch: string;
}

/** What subscribe/publish/request answer: `id` (channel id or ref) is valid when `status` is EngineStatus.ok. */
export interface WasmResult {
  id: number;
  status: EngineStatusValue;
}

/** The engine's counters and gauges (value_object over client::Metrics); getMetrics() shows them. */
export interface WasmMetrics {
  connectionAttempts: number;
  connectionSuccesses: number;
  connectionFailures: number;
  reconnects: number;
  messagesReceived: number;
  messagesSent: number;
  bytesReceived: number;
  bytesSent: number;
  /** Round trip of the last ping, or -1 before the first pong. */
  lastLatencyMs: number;
  avgLatencyMs: number;
  uptimeMs: number;
  frameErrors: number;
  /** Resubscribes the server could not recover (each also emitted as a gap). */
  gaps: number;
  duplicatesDropped: number;
  acksTimedOut: number;
  messagesExpired: number;
  probes: number;
  /** Messages waiting in the outbox. */
  queueDepth: number;
  queueBytes: number;
  /** Sent messages waiting for the server's ack. */
  inflight: number;
  /** Failed connection attempts in a row since the last success. */
  reconnectAttempts: number;
  channelCount: number;
  subscriberCount: number;
}

export interface WasmOutboxEntry {
  ref: number;
  channel: string;
  event: string;
  bytes: number;
  binary: boolean;
  inFlight: boolean;
  queuedAtMs: number;
}

export interface WasmClient {
  /**
   * Adds a reference to `channel`: its id, shared by every reference (see WasmClientConstructor.statusMessage).
   * `changesEvent`/`changesFilter`: what a changefeed channel (`db:<schema>.<table>`) asks for ('' = none), as
   * setChanges() for a channel that exists.
   */
  subscribe(channel: string, changesEvent: string, changesFilter: string): WasmResult;
  /**
   * A changefeed channel's `changes` (event INSERT | UPDATE | DELETE | *, filter `col=op.value` or ''), sent with
   * every later subscribe; a subscribed channel whose spec changed is subscribed again at once.
   */
  setChanges(channelId: number, event: string, filter: string): void;
  /** Answers onUrlRequest(): the URL to open for this attempt. */
  setUrl(url: string): void;
  /** Answers onUrlRequest() with a failure: a failed attempt (`url_provider_failed`), retried with the backoff. */
  urlFailed(message: string): void;
  /** Drops one reference; the last one unsubscribes (then channel(id).id is 0). */
  unsubscribe(channelId: number): void;
  /**
   * Gives a channel with no recovery position yet another engine's (a tab taking over a shared connection): its
   * next subscribe asks for what came after `offset` in `epoch`. Does nothing if it has one.
   */
  setPosition(channelId: number, offset: number, epoch: string): void;
  /** Subscribes again a channel the server ended (onUnsubscribed), keeping its references. */
  resubscribe(channelId: number): void;
  /**
   * The message's ref. `ttlMs` 0 = no limit in the outbox. `id` is the message's client id (the server dedupes
   * by it; at most 64 bytes, else invalidId): '' lets the engine make one; a persisted outbox resending an
   * earlier page's message passes the id it had then.
   */
  publish(channel: string, event: string, payloadJson: string, ttlMs: number, id: string): WasmResult;
  publishBinary(channel: string, event: string, bytes: Uint8Array, ttlMs: number, id: string): WasmResult;
  /** An RPC (`type` + the fields of the JSON object `bodyJson`): the request's ref. */
  request(type: string, bodyJson: string, ttlMs: number): WasmResult;
  /** A message with no answer, sent only while connected (else notConnected). Never queued. */
  notify(type: string, bodyJson: string): EngineStatusValue;
  outboxEntries(): WasmOutboxEntry[];
  /** Fails every queued (unsent) message with `cleared`; returns how many. */
  clearOutbox(): number;
  setPageVisible(visible: boolean): void;
  setOnline(online: boolean): void;
  probe(): void;
  connect(): void;
  disconnect(): void;
  reconnect(): void;
  setToken(token: string): void;
  /** The token provider failed (threw or rejected): a failed attempt, retried with the reconnect backoff. */
  tokenFailed(message: string): void;
  /** The token provider refused (resolved to null): terminal until reconnect(), online or visible. */
  tokenRefused(message: string): void;
  /** Changes the reconnect backoff and attempt limit (0 = unlimited); a negative value keeps the current one. */
  setReconnectPolicy(baseMs: number, capMs: number, maxAttempts: number): void;
  state(): ConnectionStateValue;
  connectionId(): string;
  /** The authenticated user id ('' before the first auth_success). */
  userId(): string;
  metrics(): WasmMetrics;
  /** A channel's references and subscribe state (the engine owns them). */
  channel(channelId: number): WasmChannel;
  /** The options in force (setReconnectPolicy() included). */
  config(): WasmClientConfig;
  /** Closes the socket and frees the client (embind). Further calls throw. */
  delete(): void;
}

export interface WasmClientConstructor {
  new (config: WasmClientConfig, callbacks: WasmCallbacks): WasmClient;
  /** The engine's default options (C++'s ClientConfig{}: the one home of the defaults). */
  defaultConfig(): WasmClientConfig;
  statusMessage(status: EngineStatusValue): string;
}

/** An embind enum: one value per name. */
export type EnumObject<Names extends string, V> = { readonly [N in Names]: V };

export interface TidewireModule {
  WasmClient: WasmClientConstructor;
  ConnectionState: EnumObject<
    'idle' | 'connecting' | 'authenticating' | 'connected' | 'reconnecting' | 'disconnected' | 'error',
    ConnectionStateValue
  >;
  AuthMode: EnumObject<'subprotocol' | 'message', AuthMode>;
  EngineStatus: EnumObject<
    | 'ok'
    | 'invalidChannel'
    | 'invalidEvent'
    | 'invalidPayload'
    | 'outboxFull'
    | 'unknownChannel'
    | 'tooLarge'
    | 'invalidRequest'
    | 'notConnected'
    | 'invalidId',
    EngineStatusValue
  >;
  HEAPU8: Uint8Array;
  /** Diagnostics: clients alive in wasm memory (not yet deleted). */
  liveObjects(): number;
  /** The WebSocket class sockets are made with; when unset, the global WebSocket. Set it before a client connects. */
  WebSocket?: WebSocketClass;
}

/** What the module needs of a WebSocket class: the browser API's constructor. */
export type WebSocketClass = new (url: string, protocols?: string[]) => object;

export interface TidewireModuleOptions {
  wasmBinary?: ArrayBuffer | Uint8Array;
  locateFile?: (path: string, scriptDirectory: string) => string;
  /** The WebSocket class to use instead of the global one. */
  WebSocket?: WebSocketClass;
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}

declare function createTidewireModule(options?: TidewireModuleOptions): Promise<TidewireModule>;
export default createTidewireModule;
