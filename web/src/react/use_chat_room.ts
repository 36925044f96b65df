import { useCallback, useMemo } from 'react';

import { ChatRoom, type ChatMessage, type ChatRoomSnapshot } from '../chat.js';
import { useRealtimeClient } from './context.js';
import { constantStore, useStore } from './use_store.js';

/** A room's snapshot (`loaded` is false until its first page of messages arrived) and its actions. */
export interface ChatRoomState extends ChatRoomSnapshot {
  /** Loads the page before the oldest loaded message; resolves to whether older ones remain. */
  loadOlder: (limit?: number) => Promise<boolean>;
  /**
   * Sends a message: it shows at once with `status: 'pending'` (also while offline), then as the server stored
   * it, or with `status: 'failed'` (retry() it). Rejects at once for an empty or too long text. Usable from the
   * first render.
   */
  send: (text: string) => Promise<ChatMessage>;
  /** Sends a failed message again, by its `clientId`. */
  retry: (clientId: string) => Promise<ChatMessage>;
  /** Drops a failed message from the view, by its `clientId`. */
  discard: (clientId: string) => void;
  edit: (messageId: string, text: string) => Promise<ChatMessage>;
  /** Adds (or with `add = false` removes) this user's reaction. */
  react: (messageId: string, emoji: string, add?: boolean) => Promise<void>;
  /** Tells the room this user is (or stopped) typing; the server ends it by itself after 5 s. */
  setTyping: (typing: boolean) => void;
  markRead: (messageId: string) => Promise<void>;
}

const NO_ROOM = constantStore<ChatRoomSnapshot>({
  messages: [],
  typingUsers: [],
  hasMore: false,
  participants: [],
  memberEvents: [],
  ended: null,
  loaded: false,
});

/**
 * A chat room's live view while mounted: messages (first page loaded, older ones with loadOlder(); after every
 * reconnect it resumes from its newest message, so nothing sent meanwhile is missed), own messages pending or
 * failed, typing users (they expire by themselves), reactions (`reactedBy` marks this user's), participants
 * and their joins and leaves. The user must be a participant (listRooms() lists those;
 * joinRoom() a public room first). `null` renders an empty room.
 *
 * ```tsx
 * const { messages, typingUsers, participants, hasMore, loadOlder, send, retry, react, setTyping, markRead } = useChatRoom(roomId);
 * ```
 */
export function useChatRoom(roomId: string | null | undefined): ChatRoomState {
  const client = useRealtimeClient();
  // Created during render without side effects; it opens when useStore subscribes, closes after the last.
  const room = useMemo(() => (roomId ? new ChatRoom(client, roomId, false) : null), [client, roomId]);
  const snapshot = useStore(room ?? NO_ROOM);

  const need = useCallback(() => {
    if (room === null) throw new Error('tidewire: the chat room is not open (no roomId)');
    return room;
  }, [room]);
  const loadOlder = useCallback(async (limit?: number) => need().loadOlder(limit), [need]);
  const send = useCallback(async (text: string) => need().send(text), [need]);
  const retry = useCallback(async (clientId: string) => need().retry(clientId), [need]);
  const discard = useCallback((clientId: string) => room?.discard(clientId), [room]);
  const edit = useCallback(async (messageId: string, text: string) => need().edit(messageId, text), [need]);
  const react = useCallback(async (messageId: string, emoji: string, add = true) => need().react(messageId, emoji, add), [need]);
  const setTyping = useCallback((typing: boolean) => room?.setTyping(typing), [room]);
  const markRead = useCallback(async (messageId: string) => need().markRead(messageId), [need]);
  return { ...snapshot, hasMore: snapshot.loaded && snapshot.hasMore, loadOlder, send, retry, discard, edit, react, setTyping, markRead };
}
