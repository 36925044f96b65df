import { useRef, type MutableRefObject } from 'react';

/**
 * A ref that always holds the value of the latest render: handlers read `ref.current` when they run, so a
 * subscription made once never calls a stale callback and never has to be re-made when a callback changes.
 * @internal
 */
export function useLatest<T>(value: T): MutableRefObject<T> {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}
