import type { ConnectionState } from './wire.js';

/** A message delivered to a channel listener. */
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
}

export type MessageHandler<T = unknown> = (message: ChannelMessage<T>) => void;

export interface StateChange {
  from: ConnectionState;
  to: ConnectionState;
  reason: string;
}

/** The server's acknowledgement of a send. */
export interface SendResult {
  offset: number;
}

export interface ClientMetrics {
  state: ConnectionState;
  connectionId: string;
  connectionAttempts: number;
  connectionSuccesses: number;
  connectionFailures: number;
  reconnects: number;
  reconnectAttempts: number;
  messagesReceived: number;
  messagesSent: number;
  bytesReceived: number;
  bytesSent: number;
  /** Round trip of the last ping, or -1 before the first pong. */
  lastLatencyMs: number;
  avgLatencyMs: number;
  uptimeMs: number;
  frameErrors: number;
  /** Messages waiting in the outbox. */
  queueDepth: number;
  queueBytes: number;
  /** Sent messages waiting for the server's ack. */
  inflight: number;
  channelCount: number;
  subscriberCount: number;
  listenerErrors: number;
}
