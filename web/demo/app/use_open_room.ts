// Which room the chat panel has open, kept valid as the live room list changes. The list is the library's
// (useChatRooms); this keeps only the choice: the first room while none is open, and another one when the open
// room leaves the list (left here or elsewhere, or deleted by its creator), reported to `onClosed`.
import { useEffect, useRef, useState } from 'react';
import type { ChatRoomInfo } from 'tidewire';
import { roomTitle } from 'tidewire/react';

export interface OpenRoom {
  /** The open room's id; null when there is none. */
  id: string | null;
  /** Its summary in the live list: undefined until the list shows it (a room just created or opened). */
  room: ChatRoomInfo | undefined;
  title: string | undefined;
  open: (roomId: string) => void;
  /**
   * Marks a room this page is leaving or deleting itself: its going is reported as expected. Returns the
   * undo, for when the server refuses.
   */
  expectRemoval: (roomId: string) => () => void;
}

/**
 * @param onClosed the open room left the list and another one is open now: `title` as it was shown, `expected`
 *   when this page removed it (expectRemoval).
 */
export function useOpenRoom(
  rooms: ChatRoomInfo[],
  userId: string,
  onClosed: (title: string, expected: boolean) => void,
): OpenRoom {
  const [id, setId] = useState<string | null>(null);
  const room = id === null ? undefined : rooms.find((r) => r.id === id);
  const title = room === undefined ? undefined : roomTitle(room, userId);
  // The open room as last seen in the list: only a room seen there can leave it.
  const seen = useRef<{ id: string; title: string } | null>(null);
  const removing = useRef(new Set<string>());
  const latestOnClosed = useRef(onClosed);
  useEffect(() => {
    latestOnClosed.current = onClosed;
  });

  useEffect(() => {
    if (id === null) {
      if (rooms.length > 0) setId(rooms[0]!.id);
      return;
    }
    if (room !== undefined && title !== undefined) {
      seen.current = { id, title };
      return;
    }
    if (seen.current?.id !== id) return; // not in the list yet
    const shown = seen.current.title;
    seen.current = null;
    setId(rooms[0]?.id ?? null);
    latestOnClosed.current(shown, removing.current.delete(id));
  }, [rooms, id, room, title]);

  const expectRemoval = (roomId: string) => {
    removing.current.add(roomId);
    return () => void removing.current.delete(roomId);
  };
  return { id, room, title, open: setId, expectRemoval };
}
