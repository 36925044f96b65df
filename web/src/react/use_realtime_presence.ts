import { useCallback, useEffect, useMemo, useRef } from 'react';

import { Presence, type PresenceMember, type PresenceStatus } from '../presence.js';
import { useRealtimeClient } from './context.js';
import { useStore } from './use_store.js';

/** The current user as shown to others: `id` and `name`, plus any other JSON fields (at most 1 KiB). */
export interface PresenceUserInfo {
  id: string;
  name: string;
  [key: string]: unknown;
}

/** A member of the channel, flattened for rendering: the member's info fields plus these. */
export interface PresenceUser {
  /** The user id (the token's `sub`). */
  id: string;
  /** The name it joined with (its id if none). */
  name: string;
  status: PresenceStatus;
  /** When it joined, in ms since the epoch. */
  joinedAt: number;
  /** How many connections this user has on the channel. */
  connections: number;
  [key: string]: unknown;
}

export interface UseRealtimePresenceOptions {
  channel: string;
  /** Who is joining. `id` is for display: the server identifies the user by the token. */
  user: PresenceUserInfo;
  /** Initial status, default `'online'`. */
  status?: PresenceStatus;
}

export interface RealtimePresence {
  users: PresenceUser[];
  onlineCount: number;
  /** Changes this user's status for everyone on the channel (usable from the first render). */
  updateStatus: (status: PresenceStatus) => Promise<void>;
}

function toUser(m: PresenceMember): PresenceUser {
  const info = (m.info ?? {}) as Record<string, unknown>;
  return {
    ...info,
    id: m.userId,
    name: typeof info.name === 'string' ? info.name : m.userId,
    status: m.status,
    joinedAt: m.joinedAt,
    connections: m.connections,
  };
}

/**
 * Joins `channel`'s presence while mounted and lists who is there. The member list lives in the client (it
 * re-joins after reconnects); the hook renders it. Changing `user`'s fields updates them for everyone.
 *
 * ```tsx
 * const { users, onlineCount, updateStatus } = useRealtimePresence({
 *   channel: 'editor:doc123', user: { id: me.id, name: me.name },
 * });
 * ```
 */
export function useRealtimePresence({ channel, user, status = 'online' }: UseRealtimePresenceOptions): RealtimePresence {
  const client = useRealtimeClient();
  const { id: _id, ...info } = user;
  const infoJson = JSON.stringify(info);
  // Created during render without side effects; it joins when useStore subscribes, leaves after the last.
  const presence = useMemo(
    () => new Presence(client, channel, { status, info: JSON.parse(infoJson) as Record<string, unknown> }, false),
    // Later changes of status and info reach the same presence (below) instead of re-joining.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, channel],
  );
  const members = useStore(presence);
  const users = useMemo(() => members.map(toUser), [members]);

  // A later change of the user's fields or of `status` reaches the others without re-joining.
  const applied = useRef<{ presence: Presence | null; key: string }>({ presence: null, key: '' });
  useEffect(() => {
    const key = `${status} ${infoJson}`;
    const last = applied.current;
    applied.current = { presence, key };
    // A new presence was created with these values already.
    if (last.presence !== presence || last.key === key) return;
    presence.updateStatus(status, JSON.parse(infoJson) as Record<string, unknown>).catch(() => undefined);
  }, [presence, status, infoJson]);

  const updateStatus = useCallback((next: PresenceStatus) => presence.updateStatus(next), [presence]);
  return { users, onlineCount: users.length, updateStatus };
}
