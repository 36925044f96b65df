// The chat panel: this user's rooms and DMs, live (useChatRooms: the server pushes every change of them on the
// user's own channel; no polling), as <ChatRoomList /> beside the open room's <ChatRoomView /> (own messages
// pending, then stored or failed with Retry). A new room invites everyone online; a DM opens from the presence
// list's "Message" (dmRequest). When the open room leaves the list, another one opens and, unless this page
// removed it, a notice says why.
//
// Test hooks: #chat[data-rooms][data-room-id]; focus goes to #chat-title after sign-in and when the open room goes.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ChatRoomList, ChatRoomView, useChatRooms, type PresenceUser } from 'tidewire/react';

import { ErrorNotice } from './error_notice';
import { NewRoomForm } from './new_room_form';
import { useOpenRoom } from './use_open_room';

export interface ChatPanelProps {
  userId: string;
  /** Who a new room invites: everyone online (a demo shortcut: rooms are listed to their participants). */
  online: PresenceUser[];
  /** A DM asked for elsewhere (the presence list's "Message"): a new object per request. */
  dmRequest: { userId: string } | null;
}

export function ChatPanel({ userId, online, dmRequest }: ChatPanelProps) {
  const { rooms, createRoom, openDm, leaveRoom, deleteRoom } = useChatRooms();
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const onClosed = useCallback((title: string, expected: boolean) => {
    if (!expected) setError(`“${title}” is no longer in your rooms: you left it elsewhere, or it was deleted.`);
    // Focus was perhaps in the view that goes (its composer, a message): keep it in the chat, not on <body>.
    setTimeout(() => {
      if (document.activeElement === document.body) heading.current?.focus();
    });
  }, []);
  const open = useOpenRoom(rooms, userId, onClosed);

  // Signing in unmounts the form that had focus, which would leave it on <body>: move it to this panel's
  // heading (read out as "Chat, heading"), one Tab before the room list and the composer.
  useEffect(() => heading.current?.focus(), []);

  // A DM asked for from the presence list.
  useEffect(() => {
    if (dmRequest === null) return;
    openDm(dmRequest.userId).then(
      (room) => open.open(room.id),
      (e: Error) => setError(`Could not open the conversation: ${e.message}`),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per request
  }, [dmRequest]);

  const create = async (name: string): Promise<boolean> => {
    setError(null);
    const participants = online.map((u) => u.id).filter((id) => id !== userId);
    try {
      open.open((await createRoom(name, { visibility: 'public', participants })).id);
      return true;
    } catch (e) {
      setError(`Could not create "${name}": ${(e as Error).message}`);
      return false;
    }
  };

  const act = (what: string, action: (roomId: string) => Promise<void>) => () => {
    if (open.room === undefined) return;
    const title = open.title;
    setError(null);
    const undo = open.expectRemoval(open.room.id);
    action(open.room.id).catch((e: Error) => {
      undo();
      setError(`Could not ${what} “${title}”: ${e.message}`);
    });
  };

  return (
    <section id="chat" className="card chat" aria-labelledby="chat-title" data-rooms={rooms.length} data-room-id={open.id ?? ''}>
      <div className="card-head">
        <h2 id="chat-title" ref={heading} tabIndex={-1}>
          Chat
        </h2>
      </div>
      <div className="chat__body">
        <div className="chat__sidebar">
          <ChatRoomList rooms={rooms} activeRoomId={open.id} currentUserId={userId} onSelect={(r) => open.open(r.id)} />
          <NewRoomForm onCreate={create} />
          <p className="hint">A new room invites everyone online. “Message” someone under “Who is here” for a DM.</p>
          <ErrorNotice message={error} onDismiss={() => setError(null)} />
        </div>
        {open.id !== null ? (
          <div className="chat__main" key={open.id}>
            <ChatRoomView roomId={open.id} title={open.title} currentUserId={userId} />
            {/* After the composer, so that they add no Tab stop between the room list and it. */}
            {open.room?.kind === 'room' ? (
              <div className="room-actions">
                <button type="button" className="tw-button small" onClick={act('leave', leaveRoom)}>
                  Leave #{open.title}
                </button>
                {open.room.createdBy === userId ? (
                  <button type="button" className="tw-button small" onClick={act('delete', deleteRoom)}>
                    Delete #{open.title}
                  </button>
                ) : null}
              </div>
            ) : null}
          </div>
        ) : (
          <p className="empty chat__empty">No rooms yet: create one.</p>
        )}
      </div>
    </section>
  );
}
