import type { WasmMetrics } from './tidewire_module.mjs';
import type { ConnectionState, TransportName } from './wire.js';
import type { TidewireError } from './errors.js';

/** A message delivered to a channel listener. Binary messages carry a Uint8Array payload. */
export interface ChannelMessage<T = unknown> {
  channel: string;
  event: string;
  payload: T;
  /** Per-channel position assigned by the server (starts at 1). */
  offset: number;
  /** Server time in ms since the epoch. */
  ts: number;
  /** The sender's user id. */
  from: string;
  /** True when the payload arrived as a binary frame (then it is a Uint8Array). */
  binary: boolean;
}

/** The server could not replay what a channel missed while disconnected: refetch its state. */
export interface Gap {
  channel: string;
  /** `epoch_changed` (the server lost its history) or `window_exceeded` (too much was missed). */
  reason: string;
}

export interface SendOptions {
  /** Give up (reject with code `expired`) if still queued after this long. Default: no limit. */
  ttlMs?: number;
}

/** A message waiting in the outbox (not yet sent) or in flight (sent, waiting for its ack). */
export interface OutboxEntry {
  channel: string;
  event: string;
  bytes: number;
  binary: boolean;
  inFlight: boolean;
  queuedAtMs: number;
}

/**
 * The result of a send made by an earlier page and resent after a reload (`persistOutbox`): its promise is
 * gone with that page, so client.onOutboxResult() reports it. `error` is set when it failed (`expired`,
 * `outbox_full`, `timeout`, `cleared` or the server's code).
 */
export interface OutboxResult {
  /** The message's client id, as sent both times. */
  id: string;
  channel: string;
  event: string;
  /** The payload as sent (a Uint8Array for a binary send). */
  payload: unknown;
  /** Date.now() when the earlier page sent it. */
  queuedAtMs: number;
  ok: boolean;
  /** The server's offset when ok (a publish). */
  offset?: number;
  /** The reply's data when ok (a request sent with `persist`, e.g. a chat message: `event` is its type). */
  data?: unknown;
  error?: TidewireError;
}

/** A send of an earlier page being resent (`persistOutbox`), not settled yet: client.getRestoredSends(). */
export type RestoredSend = Omit<OutboxResult, 'ok' | 'offset' | 'error'>;

export type MessageHandler<T = unknown> = (message: ChannelMessage<T>) => void;

export interface StateChange {
  from: ConnectionState;
  to: ConnectionState;
  reason: string;
  /** The transport of the socket that opened last ('websocket', 'sse', 'polling'); undefined before any did. */
  transport?: TransportName | undefined;
}

/** The server's acknowledgement of a send. */
export interface SendResult {
  offset: number;
}

/** getMetrics(): the engine's counters (WasmMetrics, declared with the module) and the client's own fields. */
export interface ClientMetrics extends WasmMetrics {
  state: ConnectionState;
  connectionId: string;
  /** Listeners that threw (each also reported through onError as `listener_threw`). */
  listenerErrors: number;
  /** The transport of the socket that opened last (ClientOptions.transports); undefined before any did. */
  transport?: TransportName | undefined;
}
