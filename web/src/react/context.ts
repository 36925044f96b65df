import { createContext, createElement, useContext, useEffect, useRef, useState, type ReactNode } from 'react';

import { createClient, type TidewireClient } from '../client.js';
import { getDefaultClient } from '../compat/default_client.js';
import type { ClientOptions } from '../options.js';

const ClientContext = createContext<TidewireClient | null>(null);

export interface RealtimeProviderProps {
  /** An existing client, or options to create one (created once, closed on unmount). */
  client?: TidewireClient;
  options?: ClientOptions;
  children?: ReactNode;
}

/**
 * Puts one client at the root of the tree; every hook below uses it. With `options`, the provider creates the
 * client once (later changes of `options` are ignored: remount with a new `key` to switch servers) and closes
 * it on unmount. Creating a client is free until it is used, so StrictMode's double render costs nothing.
 *
 * ```tsx
 * <RealtimeProvider options={{ url: 'wss://example.com/ws', token: fetchToken, maxReconnectAttempts: 5 }}>
 *   <App />
 * </RealtimeProvider>
 * ```
 */
export function RealtimeProvider({ client, options, children }: RealtimeProviderProps) {
  const [owned] = useState(() => (client === undefined && options !== undefined ? createClient(options) : undefined));
  const pendingClose = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    if (owned === undefined) return undefined;
    // StrictMode unmounts and remounts at once: close only if no remount follows.
    clearTimeout(pendingClose.current);
    return () => {
      pendingClose.current = setTimeout(() => owned.close(), 0);
    };
  }, [owned]);
  const value = client ?? owned ?? null;
  return createElement(ClientContext.Provider, { value }, children);
}

/** The provider's client, else the default client (see configure()). Throws when there is neither. */
export function useRealtimeClient(): TidewireClient {
  const fromContext = useContext(ClientContext);
  return fromContext ?? getDefaultClient();
}

/**
 * The provider's client, else the default client, else `null` (no provider and configure() not called).
 * For components that also work from props alone, such as `<ConnectionStatus status="connected" />`.
 */
export function useOptionalRealtimeClient(): TidewireClient | null {
  const fromContext = useContext(ClientContext);
  if (fromContext !== null) return fromContext;
  try {
    return getDefaultClient();
  } catch {
    return null;
  }
}
