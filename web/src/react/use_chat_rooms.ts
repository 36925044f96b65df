import { useCallback, useMemo } from 'react';

import type { ChatRoomInfo } from '../chat.js';
import type { TidewireError } from '../errors.js';
import { useRealtimeClient } from './context.js';
import { useStore } from './use_store.js';

export interface ChatRooms {
  /** This user's rooms and direct messages, each with its last message and unread count, by latest activity. */
  rooms: ChatRoomInfo[];
  /** True until the first list arrived. */
  loading: boolean;
  /** The last fetch's error, if it failed. */
  error: TidewireError | null;
  /** Fetches the list again (it is kept current by itself; this is rarely needed). */
  refresh: () => Promise<ChatRoomInfo[]>;
  createRoom: (name: string, options?: { visibility?: 'public' | 'private'; participants?: string[] }) => Promise<ChatRoomInfo>;
  /** Opens (or finds) the direct-message room with `userId`. */
  openDm: (userId: string) => Promise<ChatRoomInfo>;
  joinRoom: (roomId: string) => Promise<ChatRoomInfo>;
  leaveRoom: (roomId: string) => Promise<void>;
  /** Deletes a room this user created (not a DM). */
  deleteRoom: (roomId: string) => Promise<void>;
}

/**
 * The current user's chat rooms, live: the list is fetched on mount, then the server pushes every change on the
 * user's own channel `user:<userId>` (rooms created, DMs others opened, new messages, unread counts, members,
 * rooms left or deleted) and the list updates at once; it is fetched again after a reconnect that could not
 * replay what was missed. No polling.
 *
 * ```tsx
 * const { rooms, createRoom, openDm } = useChatRooms();
 * ```
 */
export function useChatRooms(): ChatRooms {
  const client = useRealtimeClient();
  // Created during render without side effects; it follows the list while useStore subscribes.
  const list = useMemo(() => client.chat.rooms(false), [client]);
  const { rooms, loading, error } = useStore(list);

  const refresh = useCallback(() => list.refresh(), [list]);
  // The answer shows at once; the server's push (with the summary fields) follows.
  const put = useCallback(
    async (p: Promise<ChatRoomInfo>) => {
      const room = await p;
      list.upsert(room);
      return room;
    },
    [list],
  );
  const createRoom = useCallback<ChatRooms['createRoom']>((name, options) => put(client.chat.createRoom(name, options)), [client, put]);
  const openDm = useCallback((userId: string) => put(client.chat.openDm(userId)), [client, put]);
  const joinRoom = useCallback((roomId: string) => put(client.chat.joinRoom(roomId)), [client, put]);
  const leaveRoom = useCallback(
    async (roomId: string) => {
      await client.chat.leaveRoom(roomId);
      list.remove(roomId);
    },
    [client, list],
  );
  const deleteRoom = useCallback(
    async (roomId: string) => {
      await client.chat.deleteRoom(roomId);
      list.remove(roomId);
    },
    [client, list],
  );
  return { rooms, loading, error, refresh, createRoom, openDm, joinRoom, leaveRoom, deleteRoom };
}
