import { createElement as h, useCallback, useEffect, useId, useRef, useState } from 'react';

import type { TidewireClient } from '../client.js';
import type { ClientMetrics } from '../types.js';
import type { ConnectionState } from '../wire.js';
import { useConnectionSnapshot } from './use_store.js';
import { useRealtimeClient } from './context.js';
import { STATE_LABELS, cx, isBusy } from './labels.js';

/** The badge's text per state (the seeds' look: "Live", "Connecting...", "Offline"). */
export const STATUS_BADGE_LABELS: Record<ConnectionState, string> = {
  idle: 'Offline',
  connecting: 'Connecting…',
  authenticating: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  disconnected: 'Offline',
  error: 'Offline',
};

export interface RealtimeStatusProps {
  /** How often the details refresh while the popover is open. Default 1000 ms. */
  refreshMs?: number;
  /** Open the popover initially. Default false. */
  defaultOpen?: boolean;
  className?: string;
}

const TRANSPORT_LABELS = { websocket: 'WebSocket', sse: 'HTTP streaming (SSE)', polling: 'Long polling' } as const;

function latency(m: ClientMetrics): string {
  return m.lastLatencyMs < 0 ? '—' : `${Math.round(m.lastLatencyMs)} ms`;
}

function details(client: TidewireClient, state: ConnectionState): Array<[string, string]> {
  const m = client.getMetrics();
  return [
    ['State', STATE_LABELS[state]],
    ['Transport', m.transport ? TRANSPORT_LABELS[m.transport] : '—'],
    ['Latency', latency(m)],
    ['Queued messages', String(m.queueDepth)],
    ['Awaiting ack', String(m.inflight)],
    ['Reconnects', String(m.reconnects)],
    ['Failed attempts', String(m.reconnectAttempts)],
    ['Connection id', m.connectionId || '—'],
  ];
}

/**
 * A status badge (green "Live", grey "Connecting…" with a spinner, red "Offline") that opens a popover with
 * the connection's details (state, transport, latency, queue depth, reconnects, connection id) and a Reconnect button.
 * The badge is a button with `aria-expanded`; the popover is a `role="dialog"` closed by Escape or a click
 * outside. Classes: `tw-realtime-status`, `tw-status-button tw-badge tw-state--<state>`, `tw-popover`,
 * `tw-details`.
 *
 * ```tsx
 * <header><RealtimeStatus /></header>
 * ```
 */
export function RealtimeStatus({ refreshMs = 1000, defaultOpen = false, className }: RealtimeStatusProps) {
  const client = useRealtimeClient();
  const { state } = useConnectionSnapshot(client);
  const [open, setOpen] = useState(defaultOpen);
  const [tick, setTick] = useState(0);
  const popoverId = useId();
  const rootRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return undefined;
    const timer = setInterval(() => setTick((n) => n + 1), refreshMs);
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    const onPointer = (e: Event) => {
      if (rootRef.current && e.target instanceof Node && !rootRef.current.contains(e.target)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('mousedown', onPointer);
    return () => {
      clearInterval(timer);
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('mousedown', onPointer);
    };
  }, [open, refreshMs]);

  const reconnect = useCallback(() => {
    client.reconnect();
    setTick((n) => n + 1);
  }, [client]);
  const label = STATUS_BADGE_LABELS[state];

  return h(
    'div',
    { className: cx('tw-realtime-status', className), ref: rootRef, 'data-tick': tick },
    h(
      'button',
      {
        type: 'button',
        className: cx('tw-status-button', 'tw-badge', `tw-state--${state}`),
        'aria-haspopup': 'dialog',
        'aria-expanded': open,
        'aria-controls': open ? popoverId : undefined,
        'aria-label': `Connection: ${label}. Show details`,
        'data-state': state,
        onClick: () => setOpen((o) => !o),
      },
      h('span', { className: isBusy(state) ? 'tw-spinner' : 'tw-dot', 'aria-hidden': true }),
      h('span', { className: 'tw-status-button__label', 'aria-live': 'polite' }, label),
    ),
    open &&
      h(
        'div',
        { id: popoverId, className: 'tw-popover', role: 'dialog', 'aria-label': 'Connection details' },
        h('h2', null, 'Connection'),
        h(
          'dl',
          { className: 'tw-details' },
          details(client, state).flatMap(([k, v]) => [h('dt', { key: `${k}-t` }, k), h('dd', { key: `${k}-d` }, v)]),
        ),
        h(
          'button',
          { type: 'button', className: 'tw-button tw-button--primary', onClick: reconnect, disabled: client.closed },
          'Reconnect',
        ),
      ),
  );
}
