// Compatibility (web/src/compat: the seeds' API shapes, kept working over the library's own API).
// The shared default client (the seeds' `realtimeClient`) and the plain `useRealtimeChannel` function.
import { createClient, type TidewireClient } from '../client.js';
import type { ClientOptions } from '../options.js';
import type { ChannelMessage, SendResult } from '../types.js';

let defaultOptions: ClientOptions | undefined;
let defaultClient: TidewireClient | undefined;

/** Sets the options of the shared default client (call once at start-up, before using it). */
export function configure(options: ClientOptions): TidewireClient {
  if (defaultClient !== undefined && !defaultClient.closed) defaultClient.close();
  defaultOptions = options;
  defaultClient = createClient(options);
  return defaultClient;
}

/** The shared default client. Throws a clear error if configure() was not called. */
export function getDefaultClient(): TidewireClient {
  if (defaultClient === undefined || defaultClient.closed) {
    if (defaultOptions === undefined) {
      throw new Error('tidewire: call configure({ url, token }) before using the default client');
    }
    defaultClient = createClient(defaultOptions);
  }
  return defaultClient;
}

/** Forgets the default client (tests, logout). */
export function resetDefaultClient(): void {
  defaultClient?.close();
  defaultClient = undefined;
}

/** The seeds' shape: `realtimeClient.send(channel, message)` and `realtimeClient.getMetrics()`. */
export const realtimeClient = {
  send<T>(channel: string, message: T): Promise<SendResult> {
    return getDefaultClient().send(channel, message);
  },
  getMetrics() {
    return getDefaultClient().getMetrics();
  },
};

/**
 * Subscribes `handler` to `channel` on the default client and returns the unsubscribe function. Usable
 * anywhere (not a React hook despite the name, which the seeds use); `params.event` filters one event.
 */
export function useRealtimeChannel<T = unknown>(
  channel: string,
  params: { event?: string },
  handler: (message: ChannelMessage<T>) => void,
): () => void {
  return getDefaultClient().subscribe<T>(channel, handler, params ?? {});
}
