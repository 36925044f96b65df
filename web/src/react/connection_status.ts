import { createElement as h } from 'react';

import type { ConnectionState } from '../wire.js';
import { useConnectionSnapshot } from './use_store.js';
import { useOptionalRealtimeClient } from './context.js';
import { STATE_LABELS, cx, isBusy } from './labels.js';

export interface ConnectionStatusProps {
  /** The state to show; without it, the state of the provider's (or default) client. */
  status?: ConnectionState;
  /** Replaces some or all of the state texts. */
  labels?: Partial<Record<ConnectionState, string>>;
  /** Hide the text (the dot or spinner stays, and the text stays for screen readers). */
  compact?: boolean;
  className?: string;
}

/**
 * The connection state as a coloured dot (green connected, grey disconnected, red error) or a spinner
 * (connecting, yellow while reconnecting) and a text. A polite live region: screen readers hear changes.
 *
 * ```tsx
 * <ConnectionStatus />                    // the provider's client
 * <ConnectionStatus status={status} />    // e.g. from useWebSocket({url})
 * ```
 * Classes: `tw-status tw-state--<state>`, `tw-dot` / `tw-spinner`, `tw-status__label`.
 */
export function ConnectionStatus({ status, labels, compact = false, className }: ConnectionStatusProps) {
  const client = useOptionalRealtimeClient();
  const snapshot = useConnectionSnapshot(status === undefined ? client : null);
  const state = status ?? snapshot.state;
  const label = labels?.[state] ?? STATE_LABELS[state];
  return h(
    'span',
    { className: cx('tw-status', `tw-state--${state}`, className), role: 'status', 'aria-live': 'polite', 'data-state': state },
    h('span', { className: isBusy(state) ? 'tw-spinner' : 'tw-dot', 'aria-hidden': true }),
    h('span', { className: cx('tw-status__label', compact && 'tw-visually-hidden') }, label),
  );
}
