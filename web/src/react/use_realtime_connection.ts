import { useCallback, useEffect } from 'react';

import type { TidewireClient } from '../client.js';
import type { TidewireError } from '../errors.js';
import type { TokenSource } from '../options.js';
import type { ConnectionState } from '../wire.js';
import { useConnectionSnapshot } from './use_store.js';
import { useOptionalRealtimeClient } from './context.js';
import { useLatest } from './use_latest.js';
import { useSharedClient } from './use_shared_client.js';

export interface UseRealtimeConnectionOptions {
  /** Each time the connection is (re)established. */
  onConnect?: () => void;
  /** Each time an established connection is lost, with the reason. */
  onDisconnect?: (reason: string) => void;
  /** Runtime errors of the client (auth failures, a reconnect given up...). */
  onError?: (error: TidewireError) => void;
  /**
   * Connect directly to this URL instead of using the provider's client: the client comes from the shared
   * registry (one per URL, as useWebSocket({url})), created with `token`, `maxReconnectAttempts` and
   * `reconnectInterval`.
   */
  url?: string;
  token?: TokenSource;
  /**
   * Give up (state `error`) after this many failed attempts in a row; 0 = never. Overrides the client's
   * `maxReconnectAttempts` while this hook is mounted (client.setReconnectPolicy), whether the client is the
   * provider's, the default one or the shared client of `url`. With several hooks setting it, the most recently
   * mounted wins; unmounting restores the previous policy.
   */
  maxReconnectAttempts?: number;
  /**
   * Base of the exponential backoff in ms (the client's `reconnectBaseMs`: full jitter, capped at
   * `reconnectCapMs`, 30 s by default). Overrides the client's value while mounted, like `maxReconnectAttempts`.
   */
  reconnectInterval?: number;
}

export interface RealtimeConnection {
  status: ConnectionState;
  isConnected: boolean;
  /** True while connecting, authenticating or reconnecting. */
  isConnecting: boolean;
  /** Failed attempts in a row since the last successful connection. */
  reconnectAttempts: number;
  /** Reconnects now and resets the attempt counter. */
  reconnect: () => void;
  /** Closes the connection and stays disconnected until reconnect() (subscriptions are kept). */
  disconnect: () => void;
  client: TidewireClient;
}

/**
 * The connection's state and controls. The client connects lazily (with the first subscription) and owns
 * reconnects; this hook only shows them.
 *
 * ```tsx
 * const { status, isConnected, reconnectAttempts, reconnect } = useRealtimeConnection({
 *   onConnect: () => console.log('connected'),
 *   onDisconnect: (reason) => console.log('lost:', reason),
 * });
 * ```
 */
export function useRealtimeConnection(options: UseRealtimeConnectionOptions = {}): RealtimeConnection {
  const direct = useSharedClient(
    options.url === undefined
      ? null
      : {
          url: options.url,
          token: options.token,
          ...(options.maxReconnectAttempts !== undefined ? { maxReconnectAttempts: options.maxReconnectAttempts } : {}),
          ...(options.reconnectInterval !== undefined ? { reconnectBaseMs: options.reconnectInterval } : {}),
        },
  );
  const fromContext = useOptionalRealtimeClient();
  const client = direct ?? fromContext;
  if (client === null) {
    throw new Error('tidewire: useRealtimeConnection() needs a <RealtimeProvider>, configure({url}) or a `url` option');
  }
  const { state, reconnectAttempts } = useConnectionSnapshot(client);
  const handlers = useLatest(options);

  // The per-hook reconnect policy: an override of the client's, held while mounted (also for a shared client
  // another component created first, whose creation options would not carry these).
  const { maxReconnectAttempts, reconnectInterval } = options;
  useEffect(() => {
    if (maxReconnectAttempts === undefined && reconnectInterval === undefined) return undefined;
    if (client.closed) return undefined;
    return client.setReconnectPolicy({
      ...(maxReconnectAttempts !== undefined ? { maxReconnectAttempts } : {}),
      ...(reconnectInterval !== undefined ? { reconnectBaseMs: reconnectInterval } : {}),
    });
  }, [client, maxReconnectAttempts, reconnectInterval]);

  useEffect(() => {
    let wasConnected = client.isConnected;
    const offState = client.onStateChange(({ to, reason }) => {
      if (to === 'connected' && !wasConnected) {
        wasConnected = true;
        handlers.current.onConnect?.();
      } else if (to !== 'connected' && wasConnected) {
        wasConnected = false;
        handlers.current.onDisconnect?.(reason);
      }
    });
    const offError = client.onError((e) => handlers.current.onError?.(e));
    return () => {
      offState();
      offError();
    };
  }, [client, handlers]);

  const reconnect = useCallback(() => client.reconnect(), [client]);
  const disconnect = useCallback(() => client.disconnect(), [client]);
  return {
    status: state,
    isConnected: state === 'connected',
    isConnecting: state === 'connecting' || state === 'authenticating' || state === 'reconnecting',
    reconnectAttempts,
    reconnect,
    disconnect,
    client,
  };
}
