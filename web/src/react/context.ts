import { createContext, createElement, useContext, useEffect, useMemo, type ReactNode } from 'react';

import { createClient, type TidewireClient } from '../client.js';
import { getDefaultClient } from '../default_client.js';
import type { ClientOptions } from '../options.js';

const ClientContext = createContext<TidewireClient | null>(null);

export interface RealtimeProviderProps {
  /** An existing client, or options to create one (created once, closed on unmount). */
  client?: TidewireClient;
  options?: ClientOptions;
  children?: ReactNode;
}

/** Puts one client at the root of the tree; every hook below uses it. */
export function RealtimeProvider({ client, options, children }: RealtimeProviderProps) {
  const owned = useMemo(() => (client === undefined && options !== undefined ? createClient(options) : undefined), [client, options]);
  useEffect(() => () => owned?.close(), [owned]);
  const value = client ?? owned ?? null;
  return createElement(ClientContext.Provider, { value }, children);
}

/** The provider's client, else the default client (see configure()). */
export function useRealtimeClient(): TidewireClient {
  const fromContext = useContext(ClientContext);
  return fromContext ?? getDefaultClient();
}
