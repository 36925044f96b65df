import { useCallback, useEffect, useRef, useState } from 'react';

import type { ChatRoomInfo } from '../chat.js';
import type { TidewireError } from '../errors.js';
import { useRealtimeClient } from './context.js';

export interface ChatRooms {
  /** This user's rooms and direct messages, each with its last message and unread count. */
  rooms: ChatRoomInfo[];
  /** True until the first list arrived. */
  loading: boolean;
  /** The last refresh's error, if it failed. */
  error: TidewireError | null;
  /** Fetches the list again (also done on mount and after every reconnect). */
  refresh: () => Promise<ChatRoomInfo[]>;
  createRoom: (name: string, options?: { visibility?: 'public' | 'private'; participants?: string[] }) => Promise<ChatRoomInfo>;
  /** Opens (or finds) the direct-message room with `userId`. */
  openDm: (userId: string) => Promise<ChatRoomInfo>;
  joinRoom: (roomId: string) => Promise<ChatRoomInfo>;
  leaveRoom: (roomId: string) => Promise<void>;
}

export interface UseChatRoomsOptions {
  /**
   * Also fetch the list every this many ms while mounted (new rooms and DMs others opened with this user,
   * unread counts of the other rooms: the server does not push those). Default 0: never.
   */
  refreshIntervalMs?: number;
}

/**
 * The current user's chat rooms. The list is fetched on mount, after every reconnect, after createRoom(),
 * openDm(), joinRoom() and leaveRoom(), on refresh(), and every `refreshIntervalMs` if set.
 *
 * ```tsx
 * const { rooms, createRoom, openDm } = useChatRooms();
 * ```
 */
export function useChatRooms({ refreshIntervalMs = 0 }: UseChatRoomsOptions = {}): ChatRooms {
  const client = useRealtimeClient();
  const [rooms, setRooms] = useState<ChatRoomInfo[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<TidewireError | null>(null);
  const generation = useRef(0);

  const refresh = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const list = await client.chat.listRooms();
      if (mine === generation.current) {
        setRooms(list);
        setError(null);
        setLoading(false);
      }
      return list;
    } catch (e) {
      if (mine === generation.current) {
        setError(e as TidewireError);
        setLoading(false);
      }
      throw e;
    }
  }, [client]);

  useEffect(() => {
    refresh().catch(() => undefined);
    const off = client.onStateChange(({ from, to }) => {
      if (to === 'connected' && from !== 'connected') refresh().catch(() => undefined);
    });
    return () => {
      off();
      generation.current += 1; // ignore answers after unmount
    };
  }, [client, refresh]);

  useEffect(() => {
    if (!(refreshIntervalMs > 0)) return undefined;
    const timer = setInterval(() => void refresh().catch(() => undefined), refreshIntervalMs);
    return () => clearInterval(timer);
  }, [refresh, refreshIntervalMs]);

  const after = useCallback(
    async <R,>(p: Promise<R>): Promise<R> => {
      const r = await p;
      refresh().catch(() => undefined);
      return r;
    },
    [refresh],
  );
  const createRoom = useCallback<ChatRooms['createRoom']>((name, options) => after(client.chat.createRoom(name, options)), [client, after]);
  const openDm = useCallback((userId: string) => after(client.chat.openDm(userId)), [client, after]);
  const joinRoom = useCallback((roomId: string) => after(client.chat.joinRoom(roomId)), [client, after]);
  const leaveRoom = useCallback((roomId: string) => after(client.chat.leaveRoom(roomId)), [client, after]);
  return { rooms, loading, error, refresh, createRoom, openDm, joinRoom, leaveRoom };
}
