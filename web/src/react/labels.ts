import type { ConnectionState } from '../wire.js';

/** The text each connection state is shown with; pass your own `labels` to a component to change them. */
export const STATE_LABELS: Record<ConnectionState, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  authenticating: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  disconnected: 'Disconnected',
  error: 'Connection error',
};

/** States shown with a spinner instead of a dot. */
export function isBusy(state: ConnectionState): boolean {
  return state === 'connecting' || state === 'authenticating' || state === 'reconnecting';
}

/** Joins class names, skipping empty ones. @internal */
export function cx(...names: Array<string | false | null | undefined>): string {
  return names.filter(Boolean).join(' ');
}
