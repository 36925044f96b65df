// The one home of wire names, states, codes and defaults in TypeScript. Mirrors src/protocol/wire.hpp and
// src/client/connection_state.hpp; docs/PROTOCOL.md is the contract.

export const PROTOCOL_VERSION = 1;

/** Connection states, in the order a healthy connection goes through them. */
export const CONNECTION_STATES = [
  'idle',
  'connecting',
  'authenticating',
  'connected',
  'reconnecting',
  'disconnected',
  'error',
] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** WebSocket close codes used by tidewire (docs/PROTOCOL.md section 5). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  abnormal: 1006,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
  authFailed: 4001,
  authTimeout: 4002,
  tokenExpired: 4003,
  tooManyConnections: 4005,
  unsupportedVersion: 4006,
} as const;

/** Stable error codes: the server's (docs/PROTOCOL.md section 4) and the client's own. */
export const ErrorCode = {
  badJson: 'bad_json',
  badRequest: 'bad_request',
  unknownType: 'unknown_type',
  notAuthenticated: 'not_authenticated',
  notSubscribed: 'not_subscribed',
  forbidden: 'forbidden',
  tooManyChannels: 'too_many_channels',
  rateLimited: 'rate_limited',
  notFound: 'not_found',
  versionConflict: 'version_conflict',
  unsupported: 'unsupported',
  internal: 'internal',
  unavailable: 'unavailable',  // the broker (Redis) is unreachable: retry
  badFilter: 'bad_filter',  // postgres_changes: a filter the server cannot apply
  unknownTable: 'unknown_table',  // postgres_changes: no such table in the change feed
  // client-side
  invalidArgument: 'invalid_argument',
  outboxFull: 'outbox_full',
  outboxStorage: 'outbox_storage_failed',  // persistOutbox: IndexedDB refused a write (quota) or is missing
  authFailed: 'auth_failed',
  tokenProvider: 'token_provider_failed',
  urlProvider: 'url_provider_failed',
  connectionRefused: 'connection_refused',
  reconnectFailed: 'reconnect_failed',
  badFrame: 'bad_frame',
  listenerThrew: 'listener_threw',
  tooManyConnections: 'too_many_connections',
  unsupportedVersion: 'unsupported_version',
  ackTimeout: 'timeout',
  expired: 'expired',
  cleared: 'cleared',
  closed: 'client_closed',
  moduleLoadFailed: 'module_load_failed',
} as const;

/**
 * Reasons of a server-initiated `unsubscribed` (no ref): the server ended the subscription because access was
 * lost (docs/PROTOCOL.md section 3.1). Mirrors wire::unsubscribe_reason.
 */
export const UnsubscribeReason = {
  roomLeft: 'room_left',
  roomDeleted: 'room_deleted',
  accessRevoked: 'access_revoked',
} as const;
export type UnsubscribeReason = (typeof UnsubscribeReason)[keyof typeof UnsubscribeReason];

/** Chat limits the server enforces (docs/PROTOCOL.md sections 11 and 14); the client checks them before sending. */
export const ChatLimits = {
  /** `chat_send` / `chat_edit` text: at most this many characters (Unicode code points), never cut. */
  textMaxChars: 4000,
} as const;

/**
 * Wire defaults. The client's option defaults are not here: they live in C++ (src/client/client_config.hpp)
 * and reach TS through the module (WasmClient.defaultConfig()).
 */
export const DEFAULTS = {
  path: '/ws',
  defaultEvent: 'message',
} as const;

/**
 * The database change feed (docs/PROTOCOL.md): a table's changes arrive on the channel `db:<schema>.<table>` as
 * messages with the event `postgres_changes`; the subscribe's `changes` says which (events, filter operators).
 */
export const PostgresChanges = {
  event: 'postgres_changes',
  channelPrefix: 'db:',
  defaultSchema: 'public',
  /** The column usePostgresChanges identifies rows by unless told otherwise. */
  defaultKey: 'id',
  events: ['INSERT', 'UPDATE', 'DELETE', '*'],
  operators: ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in'],
} as const;

/**
 * The HTTP transports (docs/PROTOCOL.md "HTTP transports"; web/src/http_socket.ts) and the fallback between
 * transports (web/src/transport_fallback.ts). These defaults are TS-only: the wasm engine is transport-agnostic.
 */
export const HttpTransport = {
  ssePath: '/sse',
  pollPath: '/poll',
  sendPath: '/send',
  /** Binary frames (section 13), whole, kind byte included: an SSE event of this type, its data the frame in base64; */
  sseBinaryEvent: 'binary',
  /** a poll line starting with this, then the frame in base64 (a JSON message's line starts with '{'); */
  pollBinaryPrefix: 'b:',
  /** a POST to sendPath with this Content-Type, the body one frame as it is. */
  binaryContentType: 'application/octet-stream',
  /** A dropped stream or failed poll is resumed (same session) for this long; then the socket closes (1006). */
  resumeWindowMs: 20000,
  resumeRetryMs: 250,
  /** SSE acknowledges what it received in a POST after this many messages, or this long after the first. */
  ackEveryMessages: 500,
  ackDelayMs: 1000,
  /** No first SSE event this long after the response started: a buffering proxy; SSE counts as failed. */
  sseOpenTimeoutMs: 3000,
} as const;

export type TransportName = 'websocket' | 'sse' | 'polling';

/** ClientOptions `transports`, `fallbackAfterFailures`, `upgradeProbeMs` defaults. */
export const TRANSPORT_DEFAULTS = {
  transports: ['websocket', 'sse', 'polling'] as readonly TransportName[],
  /** A transport that fails to open this many times in a row gives way to the next one. */
  fallbackAfterFailures: 2,
  /** While on a fallback, WebSocket is tried in the background this often; when it opens, the client upgrades. */
  upgradeProbeMs: 30000,
} as const;

export const LOG_PREFIX = '[tidewire]';
