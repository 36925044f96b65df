import { createElement as h } from 'react';

import type { ChatRoomInfo } from '../chat.js';
import { cx } from './labels.js';

export interface ChatRoomListProps {
  rooms: readonly ChatRoomInfo[];
  activeRoomId?: string | null;
  onSelect?: (room: ChatRoomInfo) => void;
  /** Names direct-message rooms after the other participant. */
  currentUserId?: string;
  className?: string;
}

/** A room's display name: its name, or for a DM the other participant. */
export function roomTitle(room: ChatRoomInfo, currentUserId?: string): string {
  if (room.kind === 'dm') {
    const other = room.participants.find((p) => p !== currentUserId);
    return other ?? room.name;
  }
  return room.name;
}

/**
 * The list of rooms and direct messages, each with its last message and unread count. A navigation landmark
 * whose room buttons carry `aria-current` for the open room. Classes: `tw-room-list`, `tw-room`,
 * `tw-room__name`, `tw-room__last`, `tw-unread`.
 *
 * ```tsx
 * const { rooms } = useChatRooms();
 * <ChatRoomList rooms={rooms} activeRoomId={id} onSelect={(r) => setId(r.id)} />
 * ```
 */
export function ChatRoomList({ rooms, activeRoomId, onSelect, currentUserId, className }: ChatRoomListProps) {
  return h(
    'nav',
    { className: cx('tw-room-list', className), 'aria-label': 'Chat rooms' },
    rooms.length === 0
      ? h('p', { className: 'tw-empty' }, 'No rooms yet.')
      : h(
          'ul',
          null,
          rooms.map((room) => {
            const title = roomTitle(room, currentUserId);
            const unread = room.unreadCount ?? 0;
            const last = room.lastMessage;
            return h(
              'li',
              { key: room.id },
              h(
                'button',
                {
                  type: 'button',
                  className: 'tw-room',
                  'aria-current': room.id === activeRoomId ? 'true' : undefined,
                  'data-room-id': room.id,
                  onClick: () => onSelect?.(room),
                },
                h('span', { className: 'tw-room__name' }, room.kind === 'dm' ? `@${title}` : `#${title}`),
                unread > 0
                  ? h('span', { className: 'tw-unread', 'aria-label': `${unread} unread` }, String(unread))
                  : h('span', null),
                h('span', { className: 'tw-room__last' }, last ? `${last.senderId}: ${last.text}` : 'No messages yet'),
              ),
            );
          }),
        ),
  );
}
