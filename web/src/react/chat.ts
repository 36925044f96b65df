import { createElement as h, useEffect, useState, type FormEvent } from 'react';

import type { ChatRoomInfo } from '../chat.js';
import { ChatRoomList, roomTitle } from './chat_room_list.js';
import { ChatRoomView } from './chat_room_view.js';
import { cx } from './labels.js';
import { useChatRooms } from './use_chat_rooms.js';

export interface ChatProps {
  /** This user's id (marks own messages, names DMs after the other participant). */
  currentUserId?: string;
  /** The room open at first (one of this user's rooms). Default: the first room of the list. */
  initialRoomId?: string;
  /** Display names by user id. */
  names?: Record<string, string>;
  /** Show the "new room" form. Default true. */
  allowCreate?: boolean;
  className?: string;
}

/**
 * A complete chat: the room list (last message, unread count) beside the open room (messages, typing,
 * reactions, members, input), and a form to create a room. The list is live: the server pushes every change of
 * this user's rooms (useChatRooms), so unread counts and previews update at once, without polling.
 *
 * ```tsx
 * <RealtimeProvider client={client}><Chat currentUserId={me} /></RealtimeProvider>
 * ```
 */
export function Chat({
  currentUserId,
  initialRoomId,
  names,
  allowCreate = true,
  className,
}: ChatProps) {
  const { rooms, loading, createRoom } = useChatRooms();
  const [selected, setSelected] = useState<string | null>(initialRoomId ?? null);
  const [newName, setNewName] = useState('');

  // The first room at first; another one when the open room leaves the list (left elsewhere, or deleted).
  useEffect(() => {
    if (loading) return;
    if (selected === null ? rooms.length > 0 : !rooms.some((r) => r.id === selected)) setSelected(rooms[0]?.id ?? null);
  }, [rooms, selected, loading]);

  const create = (e: FormEvent) => {
    e.preventDefault();
    const name = newName.trim();
    if (name === '') return;
    setNewName('');
    createRoom(name).then(
      (room) => setSelected(room.id),
      () => setNewName(name),
    );
  };

  const current: ChatRoomInfo | undefined = rooms.find((r) => r.id === selected);
  return h(
    'div',
    { className: cx('tw-chat', className) },
    h(
      'div',
      { className: 'tw-chat__sidebar' },
      h(ChatRoomList, { rooms, activeRoomId: selected, currentUserId, onSelect: (r: ChatRoomInfo) => setSelected(r.id) }),
      allowCreate
        ? h(
            'form',
            { className: 'tw-composer tw-new-room', onSubmit: create },
            h('input', {
              type: 'text',
              value: newName,
              placeholder: 'New room',
              'aria-label': 'New room name',
              onChange: (e: { currentTarget: HTMLInputElement }) => setNewName(e.currentTarget.value),
            }),
            h('button', { type: 'submit', className: 'tw-button', disabled: newName.trim() === '' }, 'Create'),
          )
        : null,
    ),
    selected !== null
      ? h(ChatRoomView, {
          key: selected,
          roomId: selected,
          title: current ? roomTitle(current, currentUserId) : undefined,
          currentUserId,
          names,
        })
      : h('p', { className: 'tw-empty' }, 'Pick a room or create one.'),
  );
}
