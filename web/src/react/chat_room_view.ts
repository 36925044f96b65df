import { createElement as h, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';

import type { ChatMessage } from '../chat.js';
import { cx } from './labels.js';
import { useChatRoom } from './use_chat_room.js';
import { useLatest } from './use_latest.js';

export interface ChatRoomViewProps {
  roomId: string;
  /** Shown in the header and the labels. Default: the room id. */
  title?: string;
  /** This user's id: marks own messages and leaves them out of "is typing". */
  currentUserId?: string;
  /** Display names by user id. Default: the ids. */
  names?: Record<string, string>;
  /** The reactions offered on each message. Default 👍 ❤️ 😂. */
  reactionChoices?: readonly string[];
  /** Called when the newest message changes (e.g. to refresh a room list's last message). */
  onActivity?: (latest: ChatMessage) => void;
  className?: string;
}

const TYPING_REFRESH_MS = 3000;

/** "Ann is typing…", "Ann and Bo are typing…", "3 people are typing…". */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

function time(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/**
 * One room: a "Load older messages" button while older ones remain, the messages (a `role="log"` live region)
 * with their reactions, the "X is typing…" line (a live region), and an input that sends on Enter. Typing is
 * announced while the user types; the newest message is marked read. Classes: `tw-room-view`, `tw-messages`,
 * `tw-message(--own)`, `tw-reactions`, `tw-reaction`, `tw-typing`, `tw-composer`.
 *
 * ```tsx
 * <ChatRoomView roomId={room.id} title={room.name} currentUserId={me} />
 * ```
 */
export function ChatRoomView({
  roomId,
  title,
  currentUserId,
  names,
  reactionChoices = ['👍', '❤️', '😂'],
  onActivity,
  className,
}: ChatRoomViewProps) {
  const room = useChatRoom(roomId);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const lastTyping = useRef(0);
  const lastRead = useRef('');
  const listRef = useRef<HTMLOListElement>(null);
  const activity = useLatest(onActivity);
  const name = (id: string) => names?.[id] ?? id;
  const heading = title ?? roomId;
  const latest = room.messages[room.messages.length - 1];

  useEffect(() => {
    if (latest === undefined || latest.id === lastRead.current) return;
    lastRead.current = latest.id;
    // Keep the newest message in view.
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
    activity.current?.(latest);
    if (latest.senderId !== currentUserId) room.markRead(latest.id).catch(() => undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per newest message
  }, [latest?.id]);

  const typing = room.typingUsers.filter((u) => u !== currentUserId).map(name);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const text = draft.trim();
    if (text === '') return;
    setDraft('');
    lastTyping.current = 0;
    room.setTyping(false);
    room.send(text).then(
      () => setError(null),
      (err: Error) => {
        setDraft(text);
        setError(`Not sent: ${err.message}`);
      },
    );
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) submit(e);
  };
  const onChange = (value: string) => {
    setDraft(value);
    const now = Date.now();
    if (value !== '' && now - lastTyping.current > TYPING_REFRESH_MS) {
      lastTyping.current = now;
      room.setTyping(true);
    } else if (value === '' && lastTyping.current !== 0) {
      lastTyping.current = 0;
      room.setTyping(false);
    }
  };

  return h(
    'section',
    { className: cx('tw-room-view', className), 'aria-label': `Chat: ${heading}`, 'data-room-id': roomId },
    h('header', { className: 'tw-room-view__header' }, heading),
    room.hasMore
      ? h(
          'button',
          { type: 'button', className: 'tw-button tw-load-older', onClick: () => void room.loadOlder().catch(() => undefined) },
          'Load older messages',
        )
      : null,
    h(
      'ol',
      { ref: listRef, className: 'tw-messages', role: 'log', 'aria-live': 'polite', 'aria-label': `Messages in ${heading}` },
      room.messages.map((m) => {
        const counts = m.reactions ?? {};
        const emojis = [...new Set([...reactionChoices, ...Object.keys(counts)])];
        return h(
          'li',
          { key: m.id, className: cx('tw-message', m.senderId === currentUserId && 'tw-message--own'), 'data-message-id': m.id },
          h(
            'div',
            { className: 'tw-message__meta' },
            h('span', { className: 'tw-message__sender' }, name(m.senderId)),
            h('time', { dateTime: new Date(m.createdAt).toISOString() }, time(m.createdAt)),
            m.editedAt ? h('span', { className: 'tw-message__edited' }, ' (edited)') : null,
          ),
          h('div', { className: 'tw-message__text' }, m.text),
          h(
            'div',
            { className: 'tw-reactions', role: 'group', 'aria-label': 'Reactions' },
            emojis.map((emoji) => {
              const n = counts[emoji] ?? 0;
              return h(
                'button',
                {
                  key: emoji,
                  type: 'button',
                  className: cx('tw-reaction', n > 0 && 'tw-reaction--active'),
                  'aria-label': `React with ${emoji}${n > 0 ? ` (${n})` : ''}`,
                  onClick: () => void room.react(m.id, emoji).catch(() => undefined),
                },
                n > 0 ? `${emoji} ${n}` : emoji,
              );
            }),
          ),
        );
      }),
    ),
    h('div', { className: 'tw-typing', 'aria-live': 'polite' }, typingText(typing)),
    error ? h('div', { className: 'tw-chat-error', role: 'alert' }, error) : null,
    h(
      'form',
      { className: 'tw-composer', onSubmit: submit },
      h('input', {
        type: 'text',
        value: draft,
        placeholder: `Message ${heading}`,
        'aria-label': `Message ${heading}`,
        maxLength: 4000,
        onChange: (e: { currentTarget: HTMLInputElement }) => onChange(e.currentTarget.value),
        onKeyDown,
        onBlur: () => {
          if (lastTyping.current !== 0) {
            lastTyping.current = 0;
            room.setTyping(false);
          }
        },
      }),
      h('button', { type: 'submit', className: 'tw-button tw-button--primary', disabled: draft.trim() === '' }, 'Send'),
    ),
  );
}
