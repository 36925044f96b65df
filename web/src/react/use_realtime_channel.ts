import { useCallback, useEffect, useRef } from 'react';

import type { ChannelMessage, SendResult } from '../types.js';
import { useRealtimeClient } from './context.js';

export interface UseRealtimeChannelOptions {
  channel: string;
  /** Handlers by event name (`'*'` for every event). The latest handlers are always called. */
  events?: Record<string, (payload: unknown, message: ChannelMessage) => void>;
  /** Set false to pause the subscription. Default true. */
  enabled?: boolean;
}

/**
 * Subscribes to a channel while the component is mounted and returns `{ send }`.
 * Every message reaches its handler (no batching drops); one socket is shared by all hooks.
 */
export function useRealtimeChannel({ channel, events, enabled = true }: UseRealtimeChannelOptions): {
  send: <T>(event: string, payload: T) => Promise<SendResult>;
} {
  const client = useRealtimeClient();
  const eventsRef = useRef(events);
  eventsRef.current = events;

  useEffect(() => {
    if (!enabled) return undefined;
    const handle = client.channel(channel).subscribe();
    handle.on('*', (message) => {
      const handlers = eventsRef.current;
      if (!handlers) return;
      handlers[message.event]?.(message.payload, message);
      handlers['*']?.(message.payload, message);
    });
    return () => handle.unsubscribe();
  }, [client, channel, enabled]);

  const send = useCallback(<T,>(event: string, payload: T) => client.send(channel, event, payload), [client, channel]);
  return { send };
}
