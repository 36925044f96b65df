import { createElement as h, useCallback, useEffect, useRef, useState } from 'react';

import { useRealtimeClient } from './context.js';
import { cx } from './labels.js';

/** The kinds of connection notifications. */
export type ConnectionToastKind = 'connected' | 'reconnecting' | 'disconnected' | 'error';

export interface ConnectionToastItem {
  id: number;
  kind: ConnectionToastKind;
  message: string;
}

export interface ConnectionToastProps {
  /** Auto-dismiss after this many ms (errors stay twice as long). Default 4000. */
  durationMs?: number;
  /** Also notify the first successful connection (by default only a connection regained is announced). */
  announceFirstConnect?: boolean;
  /** Replaces the default texts. */
  messages?: Partial<Record<ConnectionToastKind, string>>;
  /** At most this many toasts at once. Default 3. */
  max?: number;
  className?: string;
}

const DEFAULT_MESSAGES: Record<ConnectionToastKind, string> = {
  connected: 'Connected. Live updates resumed.',
  reconnecting: 'Connection lost. Reconnecting…',
  disconnected: 'Disconnected.',
  error: 'Connection error.',
};

/**
 * Toast notifications for connection events: lost (reconnecting), regained (connected), disconnected and
 * errors, each dismissed automatically or by its close button. A polite live region (errors: `role="alert"`).
 * Classes: `tw-toasts`, `tw-toast tw-toast--<kind>`, `tw-toast__close`.
 *
 * ```tsx
 * <><ConnectionToast /><App /></>
 * ```
 */
export function ConnectionToast({
  durationMs = 4000,
  announceFirstConnect = false,
  messages,
  max = 3,
  className,
}: ConnectionToastProps) {
  const client = useRealtimeClient();
  const [toasts, setToasts] = useState<ConnectionToastItem[]>([]);
  const nextId = useRef(1);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());
  const texts = useRef(messages);
  texts.current = messages;

  const dismiss = useCallback((id: number) => {
    clearTimeout(timers.current.get(id));
    timers.current.delete(id);
    setToasts((list) => list.filter((t) => t.id !== id));
  }, []);

  const show = useCallback(
    (kind: ConnectionToastKind, detail?: string) => {
      const id = nextId.current++;
      const base = texts.current?.[kind] ?? DEFAULT_MESSAGES[kind];
      const message = detail ? `${base} ${detail}` : base;
      setToasts((list) => {
        // A new state replaces the notices of the connection it supersedes; errors accumulate.
        const kept = kind === 'error' ? list : list.filter((t) => t.kind === 'error');
        return [...kept, { id, kind, message }].slice(-max);
      });
      timers.current.set(
        id,
        setTimeout(() => dismiss(id), kind === 'error' ? durationMs * 2 : durationMs),
      );
    },
    [dismiss, durationMs, max],
  );

  useEffect(() => {
    let wasConnected = client.isConnected;
    let lost = false;
    const offState = client.onStateChange(({ to, reason }) => {
      if (to === 'connected') {
        if (lost || (!wasConnected && announceFirstConnect)) show('connected');
        wasConnected = true;
        lost = false;
      } else if (to === 'reconnecting' && !lost) {
        lost = true;
        show('reconnecting');
      } else if (to === 'disconnected' && (wasConnected || lost)) {
        lost = false;
        wasConnected = false;
        show('disconnected', reason ? `(${reason})` : undefined);
      } else if (to === 'error') {
        lost = false;
        show('error', reason || undefined);
      }
    });
    // A failing token provider is transient (retried with the backoff, shown as `reconnecting`): no error
    // toast per attempt. Only what stops the client is an error.
    const offError = client.onError((e) => {
      if (e.code === 'auth_failed' || e.code === 'reconnect_failed') show('error', e.message);
    });
    const pending = timers.current;
    return () => {
      offState();
      offError();
      for (const t of pending.values()) clearTimeout(t);
      pending.clear();
    };
  }, [client, show, announceFirstConnect]);

  return h(
    'div',
    { className: cx('tw-toasts', className), role: 'region', 'aria-label': 'Connection notifications', 'aria-live': 'polite' },
    toasts.map((t) =>
      h(
        'div',
        {
          key: t.id,
          className: cx('tw-toast', `tw-toast--${t.kind}`),
          role: t.kind === 'error' ? 'alert' : 'status',
          'data-kind': t.kind,
        },
        h('span', { className: 'tw-toast__message' }, t.message),
        h(
          'button',
          { type: 'button', className: 'tw-toast__close', 'aria-label': 'Dismiss notification', onClick: () => dismiss(t.id) },
          '×',
        ),
      ),
    ),
  );
}
