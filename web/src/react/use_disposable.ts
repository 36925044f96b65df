import { useEffect, useRef, useState } from 'react';

import type { TidewireClient } from '../client.js';

const clientIds = new WeakMap<TidewireClient, number>();
let lastClientId = 0;

/** A key part that differs between clients, so a resource follows a provider that switches clients. @internal */
export function clientKey(client: TidewireClient): string {
  let id = clientIds.get(client);
  if (id === undefined) {
    id = ++lastClientId;
    clientIds.set(client, id);
  }
  return String(id);
}

interface Entry<T> {
  key: string;
  value: T;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Creates a resource (a Presence, a SyncCollection, a ChatRoom...) in an effect and disposes it on unmount or
 * when `key` changes. The disposal waits one macrotask: StrictMode's unmount/remount, which runs both at once,
 * reuses the same resource instead of leaving and rejoining. Returns `null` until the effect has run.
 * @internal
 */
export function useDisposable<T>(key: string | null, create: () => T, dispose: (value: T) => void): T | null {
  const entry = useRef<Entry<T> | undefined>(undefined);
  const [value, setValue] = useState<T | null>(null);
  const createRef = useRef(create);
  createRef.current = create;
  const disposeRef = useRef(dispose);
  disposeRef.current = dispose;

  useEffect(() => {
    if (key === null) {
      setValue(null);
      return undefined;
    }
    let current = entry.current;
    if (current !== undefined && current.key === key && current.timer !== undefined) {
      clearTimeout(current.timer);
      current.timer = undefined;
    } else {
      current = { key, value: createRef.current(), timer: undefined };
      entry.current = current;
    }
    const mine = current;
    setValue(() => mine.value);
    return () => {
      mine.timer = setTimeout(() => {
        mine.timer = undefined;
        if (entry.current === mine) entry.current = undefined;
        disposeRef.current(mine.value);
      }, 0);
    };
  }, [key]);

  // Until the effect of a new key has run, do not hand out the previous key's resource.
  return value !== null && entry.current?.value === value && entry.current.key === key ? value : null;
}
