import { createElement as h } from 'react';

import type { ConnectionState } from '../wire.js';
import { useConnectionSnapshot } from './use_store.js';
import { useOptionalRealtimeClient } from './context.js';
import { STATE_LABELS, cx, isBusy } from './labels.js';

export interface RealtimeIndicatorProps {
  /** The state to show; without it, the provider's (or default) client's. */
  status?: ConnectionState;
  /** The text while connected. Default `'Live'`. */
  liveLabel?: string;
  /** The text while not connected. Default: the state's text (`'Reconnecting…'`, `'Disconnected'`...). */
  offlineLabel?: string;
  className?: string;
}

/**
 * A "Live" badge with a pulsing green dot while connected; otherwise the state, with a spinner while
 * (re)connecting. Classes: `tw-indicator tw-badge tw-state--<state>`.
 *
 * ```tsx
 * <RealtimeIndicator />
 * ```
 */
export function RealtimeIndicator({ status, liveLabel = 'Live', offlineLabel, className }: RealtimeIndicatorProps) {
  const client = useOptionalRealtimeClient();
  const snapshot = useConnectionSnapshot(status === undefined ? client : null);
  const state = status ?? snapshot.state;
  const live = state === 'connected';
  const label = live ? liveLabel : offlineLabel ?? STATE_LABELS[state];
  return h(
    'span',
    {
      className: cx('tw-indicator', 'tw-badge', `tw-state--${state}`, className),
      role: 'status',
      'aria-live': 'polite',
      'aria-label': live ? `${liveLabel}: real-time updates are on` : label,
      'data-state': state,
    },
    h('span', { className: isBusy(state) ? 'tw-spinner' : 'tw-dot', 'aria-hidden': true }),
    h('span', { className: 'tw-indicator__label' }, label),
  );
}
