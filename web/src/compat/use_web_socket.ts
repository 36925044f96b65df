// Compatibility (web/src/compat: the seeds' API shapes, kept working over the library's own API).
import { useCallback, useEffect } from 'react';

import type { TidewireClient } from '../client.js';
import type { ClientOptions } from '../options.js';
import type { TidewireError } from '../errors.js';
import type { ChannelMessage, SendResult } from '../types.js';
import type { ConnectionState } from '../wire.js';
import { useConnectionSnapshot } from '../react/use_store.js';
import { useOptionalRealtimeClient } from '../react/context.js';
import { useLatest } from '../react/use_latest.js';
import { useSharedClient } from '../react/use_shared_client.js';

/** The channel a direct `useWebSocket({url})` connection talks on when `channel` is not given. */
export const DEFAULT_WEBSOCKET_CHANNEL = 'default';

/** What `useWebSocket()` returns inside a `<RealtimeProvider>`. */
export interface RealtimeWebSocket {
  /** `idle`, `connecting`, `authenticating`, `connected`, `reconnecting`, `disconnected` or `error`. */
  connectionState: ConnectionState;
  isConnected: boolean;
  /**
   * Publishes on `channel`: `sendMessage(channel, payload)` with the event `'message'`, or
   * `sendMessage(channel, event, payload)`. Resolves with the server's ack; queued while disconnected.
   */
  sendMessage: {
    <T>(channel: string, payload: T): Promise<SendResult>;
    <T>(channel: string, event: string, payload: T): Promise<SendResult>;
  };
  /** Reconnects now (resets the attempt counter). */
  reconnect: () => void;
  /** The client itself, for everything else. */
  client: TidewireClient;
}

/** Options of a direct connection: the client's options plus the channel and handlers. */
export interface UseWebSocketOptions extends ClientOptions {
  /** The channel `send` publishes on and `onMessage` listens to. Default `'default'`. */
  channel?: string;
  /** Each time the connection is (re)established. */
  onOpen?: () => void;
  /** Each time an established connection is lost. */
  onClose?: (reason: string) => void;
  /** Every message of `channel`, in order; the latest handler is always called. */
  onMessage?: (message: ChannelMessage) => void;
  /** Runtime errors of the client (auth failures, refused sends...). */
  onError?: (error: TidewireError) => void;
}

/** What `useWebSocket({url})` returns. */
export interface DirectWebSocket {
  status: ConnectionState;
  isConnected: boolean;
  /** Publishes `event` on the hook's channel; resolves with the server's ack. */
  send: <T>(event: string, payload: T) => Promise<SendResult>;
  reconnect: () => void;
  client: TidewireClient;
}

/**
 * `useWebSocket()` inside a `<RealtimeProvider>`: the shared connection's state and a `sendMessage`.
 *
 * ```tsx
 * const { connectionState, isConnected, sendMessage, reconnect } = useWebSocket();
 * sendMessage('room:lobby', 'chat', { text: 'hi' });
 * ```
 *
 * `useWebSocket({ url, token, onOpen, onMessage, channel })`: a direct connection, no provider needed.
 * Components using the same `url` share one client (one socket), kept for a grace period after the last one
 * unmounts, so StrictMode and hot reload never open a second socket. The first component's options create it.
 *
 * ```tsx
 * const { status, send, isConnected } = useWebSocket({
 *   url: 'ws://localhost:8080/ws', token, onMessage: (m) => console.log(m.event, m.payload),
 * });
 * send('chat:message', { text: 'Hello World!' });
 * ```
 *
 * Use one form per call site: switching between them remounts nothing and is not supported.
 */
export function useWebSocket(): RealtimeWebSocket;
export function useWebSocket(options: UseWebSocketOptions): DirectWebSocket;
export function useWebSocket(options?: UseWebSocketOptions): RealtimeWebSocket | DirectWebSocket {
  const direct = useSharedClient(options ?? null);
  const fromContext = useOptionalRealtimeClient();
  const client = direct ?? fromContext;
  if (client === null) {
    throw new Error('tidewire: useWebSocket() needs a <RealtimeProvider>, configure({url}), or useWebSocket({url})');
  }
  const { state } = useConnectionSnapshot(client);
  const handlers = useLatest(options);
  const channel = options === undefined ? null : options.channel ?? DEFAULT_WEBSOCKET_CHANNEL;

  useEffect(() => {
    if (direct === null || channel === null) return undefined;
    let wasConnected = direct.isConnected;
    const offState = direct.onStateChange(({ to, reason }) => {
      if (to === 'connected' && !wasConnected) {
        wasConnected = true;
        handlers.current?.onOpen?.();
      } else if (to !== 'connected' && wasConnected) {
        wasConnected = false;
        handlers.current?.onClose?.(reason);
      }
    });
    const offError = direct.onError((e) => handlers.current?.onError?.(e));
    const unsubscribe = direct.subscribe(channel, (message) => handlers.current?.onMessage?.(message));
    return () => {
      unsubscribe();
      offState();
      offError();
    };
  }, [direct, channel, handlers]);

  const sendMessage = useCallback(
    (ch: string, eventOrPayload: unknown, ...rest: unknown[]) =>
      rest.length > 0 ? client.send(ch, eventOrPayload as string, rest[0]) : client.send(ch, eventOrPayload),
    [client],
  ) as RealtimeWebSocket['sendMessage'];
  const send = useCallback(
    <T,>(event: string, payload: T) => client.send(channel ?? DEFAULT_WEBSOCKET_CHANNEL, event, payload),
    [client, channel],
  );
  const reconnect = useCallback(() => client.reconnect(), [client]);

  if (options === undefined) {
    return { connectionState: state, isConnected: state === 'connected', sendMessage, reconnect, client };
  }
  return { status: state, isConnected: state === 'connected', send, reconnect, client };
}
