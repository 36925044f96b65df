// Hand-written declarations of the wasm module: the classes of bindings/tidewire_api.js over the C exports of
// tidewire_module.cpp. Kept honest by tests/node/module-exports.test.mjs (runtime, both
// ways) and web/test-types/ (tsc --strict). Every class owns wasm memory: call delete() when done (a deleted
// object's methods throw; a second delete() does nothing).

/** Internal callbacks the engine calls. They must never throw (a JS exception through wasm leaks its stack). */
export interface WasmCallbacks {
  onState(from: string, to: string, reason: string): void;
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
}

export interface WasmClientOptions {
  url: string;
  token?: string;
  authMode?: 'subprotocol' | 'message';
  tokenProvider?: boolean;
  graceMs?: number;
  reconnectBaseMs?: number;
  reconnectCapMs?: number;
  maxReconnectAttempts?: number;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  probeTimeoutMs?: number;
  hiddenCloseMs?: number;
  ackTimeoutMs?: number;
  authTimeoutMs?: number;
  outboxMaxMessages?: number;
  outboxMaxBytes?: number;
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

/** A channel as the engine holds it (client::ChannelEntry); `id` 0 once its last reference is gone. */
export interface WasmChannel {
  id: number;
  /** References (Channel handles, subscribe() calls) held on it. */
  refs: number;
  /** The server confirmed the subscription on the current connection. */
  subscribed: boolean;
  /** The server ended the subscription (onUnsubscribed); a new subscribe() starts it again. */
  revoked: boolean;
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
   * Adds a reference to `channel` (the engine counts them): its id (> 0, the same for every reference) or minus
   * a status code (see WasmClientConstructor.statusMessage).
   */
  subscribe(channel: string): number;
  /** Drops one reference; the last one unsubscribes (then channel(id).id is 0). */
  unsubscribe(channelId: number): void;
  /** A channel's references and subscribe state (the engine owns them; the TS layer mirrors nothing). */
  channel(channelId: number): WasmChannel;
  /** Subscribes again a channel the server ended (onUnsubscribed), keeping its references. */
  resubscribe(channelId: number): void;
  /** Message ref (> 0) or minus a status code. `ttlMs` 0 = no limit in the outbox. */
  publish(channel: string, event: string, payloadJson: string, ttlMs: number): number;
  publishBinary(channel: string, event: string, bytes: Uint8Array, ttlMs: number): number;
  /** An RPC (`type` + the fields of the JSON object `bodyJson`): request ref (> 0) or minus a status code. */
  request(type: string, bodyJson: string, ttlMs: number): number;
  /** A message with no answer, sent only while connected: 0 when sent, else a status code. Never queued. */
  notify(type: string, bodyJson: string): number;
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
  state(): string;
  connectionId(): string;
  /** The authenticated user id ('' before the first auth_success). */
  userId(): string;
  metrics(): WasmMetrics;
  delete(): void;
}

export interface WasmClientConstructor {
  new (options: WasmClientOptions, callbacks: WasmCallbacks): WasmClient;
  statusMessage(status: number): string;
}

export interface TidewireModule {
  WasmClient: WasmClientConstructor;
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
