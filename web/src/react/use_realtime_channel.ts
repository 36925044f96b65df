import { useCallback, useMemo } from 'react';

import { ChannelStatus } from '../channel_status.js';
import type { TidewireError } from '../errors.js';
import type { ChannelMessage, SendResult } from '../types.js';
import { useRealtimeClient } from './context.js';
import { useLatest } from './use_latest.js';
import { constantStore, useStore } from './use_store.js';

const DISABLED = constantStore(false);

export interface UseRealtimeChannelOptions {
  channel: string;
  /** Handlers by event name (`'*'` for every event). The latest handlers are always called. */
  events?: Record<string, (payload: unknown, message: ChannelMessage) => void>;
  /** Set false to pause the subscription. Default true. */
  enabled?: boolean;
  /**
   * The server ended the subscription because access was lost: `error.code` is `room_left`, `room_deleted`
   * or `access_revoked`. `subscribed` turns false and stays so (also across reconnects) until the hook
   * subscribes again (a new `channel`, `enabled` toggled, or a remount).
   */
  onError?: (error: TidewireError) => void;
}

export interface RealtimeChannel {
  /** Publishes `event` on the channel; resolves with the server's ack (queued while disconnected). */
  send: <T>(event: string, payload: T) => Promise<SendResult>;
  /** True while the server has confirmed the subscription on the current connection. */
  subscribed: boolean;
}

/**
 * Subscribes to a channel while the component is mounted and returns `{ send, subscribed }`.
 * Every message reaches its handler (handlers are called, not batched into state); one socket is shared by
 * all hooks.
 *
 * ```tsx
 * const { send } = useRealtimeChannel({ channel: 'chat:lobby', events: { message: (p) => add(p) } });
 * ```
 */
export function useRealtimeChannel({ channel, events, enabled = true, onError }: UseRealtimeChannelOptions): RealtimeChannel {
  const client = useRealtimeClient();
  const eventsRef = useLatest(events);
  const onErrorRef = useLatest(onError);
  // Created during render without side effects; it subscribes when useStore does.
  const status = useMemo(
    () =>
      enabled
        ? new ChannelStatus(client, channel, {
            onMessage: (message) => {
              const handlers = eventsRef.current;
              if (!handlers) return;
              handlers[message.event]?.(message.payload, message);
              handlers['*']?.(message.payload, message);
            },
            onError: (error) => onErrorRef.current?.(error),
          })
        : DISABLED,
    [client, channel, enabled, eventsRef, onErrorRef],
  );
  const subscribed = useStore(status);
  const send = useCallback(<T,>(event: string, payload: T) => client.send(channel, event, payload), [client, channel]);
  return { send, subscribed };
}
