import { createElement as h, useCallback, useEffect, useRef, useState, type FormEvent } from 'react';

import type { ChatRoomInfo } from '../chat.js';
import { ChatRoomList, roomTitle } from './chat_room_list.js';
import { ChatRoomView } from './chat_room_view.js';
import { cx } from './labels.js';
import { useChatRooms } from './use_chat_rooms.js';

export interface ChatProps {
  /** This user's id (marks own messages, names DMs after the other participant). */
  currentUserId?: string;
  /** The room open at first. Default: the first room of the list. */
  initialRoomId?: string;
  /** Display names by user id. */
  names?: Record<string, string>;
  /** Re-fetch the room list this often (new DMs, other rooms' unread counts). Default 10000 ms; 0: never. */
  refreshIntervalMs?: number;
  /** Show the "new room" form. Default true. */
  allowCreate?: boolean;
  className?: string;
}

/**
 * A complete chat: the room list (last message, unread count) beside the open room (messages, typing,
 * reactions, input), and a form to create a room. The list refreshes when the open room gets a message.
 *
 * ```tsx
 * <RealtimeProvider client={client}><Chat currentUserId={me} /></RealtimeProvider>
 * ```
 */
export function Chat({
  currentUserId,
  initialRoomId,
  names,
  refreshIntervalMs = 10000,
  allowCreate = true,
  className,
}: ChatProps) {
  const { rooms, refresh, createRoom } = useChatRooms({ refreshIntervalMs });
  const [selected, setSelected] = useState<string | null>(initialRoomId ?? null);
  const [newName, setNewName] = useState('');
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => {
    if (selected === null && rooms.length > 0) setSelected(rooms[0]!.id);
  }, [rooms, selected]);
  useEffect(() => () => clearTimeout(refreshTimer.current), []);

  const onActivity = useCallback(() => {
    clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => void refresh().catch(() => undefined), 300);
  }, [refresh]);

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
          onActivity,
        })
      : h('p', { className: 'tw-empty' }, 'Pick a room or create one.'),
  );
}
