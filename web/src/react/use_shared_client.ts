import { useEffect, useReducer } from 'react';

import type { TidewireClient } from '../client.js';
import { urlKey, type ClientOptions } from '../options.js';
import { acquireClient, peekClient, releaseClient } from './client_registry.js';

/**
 * The registry's client for `options.url`, held while mounted (see client_registry.ts); `null` for `null`
 * options. Options other than `url` are read when the client is created only. @internal
 */
export function useSharedClient(options: ClientOptions | null): TidewireClient | null {
  const rendered = options === null ? null : peekClient(options);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const url = options === null ? null : urlKey(options.url); // a list is the same list whatever its array
  useEffect(() => {
    if (url === null || options === null) return undefined;
    const held = acquireClient(options);
    // The rendered client was closed meanwhile (a long-suspended render): render again with the new one.
    if (held !== rendered) rerender();
    return () => releaseClient(options.url, held);
    // One client per URL: the other options apply when it is created.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [url]);
  return rendered;
}
