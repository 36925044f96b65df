import { useCallback, useSyncExternalStore } from 'react';

/**
 * Reads `get(source)` through useSyncExternalStore, re-rendering when `source` calls its onChange listeners: a
 * burst of changes renders once with the latest value, and no change is lost. `fallback` while `source` is
 * null. `get` must return the same object until the source changes. @internal
 */
export function useExternal<S extends { onChange(listener: () => void): () => void }, V>(
  source: S | null,
  get: (source: S) => V,
  fallback: V,
): V {
  const subscribe = useCallback(
    (listener: () => void) => (source === null ? () => undefined : source.onChange(() => listener())),
    [source],
  );
  // eslint-disable-next-line react-hooks/exhaustive-deps -- `get` reads the source's cached value only
  const snapshot = useCallback(() => (source === null ? fallback : get(source)), [source, fallback]);
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}
