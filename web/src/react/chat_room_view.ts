import {
  createElement as h,
  useEffect,
  useId,
  useRef,
  useState,
  type FocusEvent,
  type FormEvent,
  type KeyboardEvent,
  type ReactNode,
} from 'react';

import { chatTextLength, chatTextProblem, type ChatMemberEvent, type ChatMessage } from '../chat.js';
import { ChatLimits } from '../wire.js';
import { cx } from './labels.js';
import { useChatRoom } from './use_chat_room.js';
import { useLatest } from './use_latest.js';

export interface ChatRoomViewProps {
  roomId: string;
  /** Shown in the header and the labels. Default: the room id. */
  title?: string;
  /** This user's id: marks own messages and reactions, and leaves this user out of "is typing". */
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

/** "3,980 / 4,000": the composer's count of characters against the limit. */
export function countText(chars: number, max: number = ChatLimits.textMaxChars): string {
  return `${chars.toLocaleString('en-US')} / ${max.toLocaleString('en-US')}`;
}

/** Why a room's live view ended (the server's unsubscribe reason). */
function endedText(code: string): string {
  if (code === 'room_left') return 'You left this room.';
  if (code === 'room_deleted') return 'This room was deleted.';
  return 'You no longer have access to this room.';
}

function time(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/**
 * A message's stable key: sender and client id when it has one (pending, and stored ones the server echoes it
 * on), so an own message keeps its element when confirmed; else its id. The server keeps (sender, client id)
 * unique per room.
 */
const keyOf = (m: ChatMessage) => (m.clientId !== undefined ? `${m.senderId}\n${m.clientId}` : m.id);

type Line = { kind: 'message'; at: number; message: ChatMessage } | { kind: 'member'; at: number; event: ChatMemberEvent };

/** Messages with the join/leave lines between them by time; own unsent messages stay last. */
function timeline(messages: readonly ChatMessage[], events: readonly ChatMemberEvent[]): Line[] {
  const lines: Line[] = [];
  let e = 0;
  for (const m of messages) {
    if (m.status === undefined) {
      while (e < events.length && events[e]!.at < m.createdAt) lines.push({ kind: 'member', at: events[e]!.at, event: events[e++]! });
    }
    lines.push({ kind: 'message', at: m.createdAt, message: m });
  }
  // Lines later than every stored message go before the unsent ones.
  const firstUnsent = lines.findIndex((l) => l.kind === 'message' && l.message.status !== undefined);
  const rest: Line[] = events.slice(e).map((event) => ({ kind: 'member', at: event.at, event }));
  if (firstUnsent === -1) lines.push(...rest);
  else lines.splice(firstUnsent, 0, ...rest);
  return lines;
}

/**
 * One room: a header with the member count, a "Load older messages" button while older ones remain, the
 * messages (a `role="log"` live region holding an ordered list) with their reactions and the join/leave lines,
 * the "X is typing…" line (a live region), and a composer that sends on Enter and shows the count of characters
 * against the limit (Send is disabled past it or for a blank text; nothing is ever cut). An own message shows
 * at once as "Sending…" (also while offline), then as stored, or "Not sent" with Retry and Discard. Typing is
 * announced while the user types; the newest message is marked read. Clicking one of your own reactions
 * (`aria-pressed="true"`) removes it. Classes: `tw-room-view`, `tw-messages`, `tw-message(--own|--pending|--failed)`,
 * `tw-member-line`, `tw-reactions`, `tw-reaction(--mine)`, `tw-typing`, `tw-composer`, `tw-composer__count(--over)`.
 *
 * Keyboard: the message list is ONE tab stop (a roving tabindex), so Tab goes from the list straight to the
 * composer however many messages and reaction buttons there are. Inside it: ↑/↓ move between messages,
 * Home/End to the first/last, → and ← move through the focused message's buttons (reactions, Retry, Discard),
 * ← from the first button or Escape goes back to the message. The list remembers the last focused place.
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
  // The roving tab stop: a message (by key) and, 0 and up, one of its buttons; -1 the message itself.
  const [stop, setStop] = useState<{ key: string | null; action: number }>({ key: null, action: -1 });
  const lastTyping = useRef(0);
  const lastRead = useRef('');
  const logRef = useRef<HTMLDivElement>(null);
  const activity = useLatest(onActivity);
  const countId = useId();
  const name = (id: string) => names?.[id] ?? id;
  const heading = title ?? roomId;
  const stored = room.messages.filter((m) => m.status === undefined);
  const latest = stored[stored.length - 1];
  const newestKey = room.messages.length > 0 ? keyOf(room.messages[room.messages.length - 1]!) : null;

  useEffect(() => {
    if (latest === undefined || latest.id === lastRead.current) return;
    lastRead.current = latest.id;
    activity.current?.(latest);
    if (latest.senderId !== currentUserId) room.markRead(latest.id).catch(() => undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per newest message
  }, [latest?.id]);
  // Keep the newest line in view (a new message, an own pending one, a join).
  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [newestKey, room.memberEvents.length]);

  const typing = room.typingUsers.filter((u) => u !== currentUserId).map(name);
  const text = draft.trim();
  const chars = chatTextLength(text);
  const over = chars > ChatLimits.textMaxChars;
  const problem = text === '' ? null : chatTextProblem(text);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (text === '' || problem !== null) return;
    setDraft('');
    lastTyping.current = 0;
    room.setTyping(false);
    // It shows at once as "Sending…"; a refusal leaves it as "Not sent" with Retry.
    room.send(text).catch(() => undefined);
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

  // The roving tab stop. The place that holds tabIndex 0: the remembered one if it still exists, else the newest.
  const stopKey = stop.key !== null && room.messages.some((m) => keyOf(m) === stop.key) ? stop.key : newestKey;
  const stopAction = stop.key === stopKey ? stop.action : -1;
  const place = (el: Element | null): { item: HTMLElement; action: number } | null => {
    const item = el?.closest<HTMLElement>('li[data-key]');
    if (!item) return null;
    const action = el?.closest<HTMLElement>('[data-action]');
    return { item, action: action ? Number(action.dataset.action) : -1 };
  };
  const onListFocus = (e: FocusEvent<HTMLOListElement>) => {
    const p = place(e.target);
    if (p) setStop({ key: p.item.dataset.key ?? null, action: p.action });
  };
  const onListKeyDown = (e: KeyboardEvent<HTMLOListElement>) => {
    const p = place(e.target as Element);
    if (!p) return;
    const items = Array.from(e.currentTarget.querySelectorAll<HTMLElement>('li[data-key]'));
    const i = items.indexOf(p.item);
    const actions = Array.from(p.item.querySelectorAll<HTMLElement>('[data-action]'));
    let target: HTMLElement | undefined;
    switch (e.key) {
      case 'ArrowUp':
        target = items[Math.max(0, i - 1)];
        break;
      case 'ArrowDown':
        target = items[Math.min(items.length - 1, i + 1)];
        break;
      case 'Home':
        target = items[0];
        break;
      case 'End':
        target = items[items.length - 1];
        break;
      case 'ArrowRight':
        target = actions[Math.min(actions.length - 1, p.action + 1)];
        break;
      case 'ArrowLeft':
        target = p.action <= 0 ? p.item : actions[p.action - 1];
        break;
      case 'Escape':
        target = p.action >= 0 ? p.item : undefined;
        break;
      default:
        return;
    }
    e.preventDefault();
    target?.focus();
  };


  const renderMessage = (m: ChatMessage): ReactNode => {
    const key = keyOf(m);
    const unsent = m.status !== undefined;
    const own = unsent || m.senderId === currentUserId;
    const buttons: ReactNode[] = [];
    let n = 0;
    const action = (props: Record<string, unknown>, label: ReactNode) => {
      const index = n++;
      return h('button', { type: 'button', 'data-action': index, tabIndex: key === stopKey && stopAction === index ? 0 : -1, ...props }, label);
    };
    if (m.status === 'failed') {
      buttons.push(
        action({ key: 'retry', className: 'tw-button tw-retry', onClick: () => void room.retry(key).catch(() => undefined) }, 'Retry'),
        action({ key: 'discard', className: 'tw-button tw-discard', onClick: () => room.discard(key) }, 'Discard'),
      );
    } else if (!unsent) {
      const counts = m.reactions ?? {};
      for (const emoji of [...new Set([...reactionChoices, ...Object.keys(counts)])]) {
        const count = counts[emoji] ?? 0;
        const who = m.reactedBy?.[emoji] ?? [];
        const mine = currentUserId !== undefined && who.includes(currentUserId);
        const visible = count > 0 ? `${emoji} ${count}` : emoji;
        buttons.push(
          action(
            {
              key: emoji,
              className: cx('tw-reaction', count > 0 && 'tw-reaction--active', mine && 'tw-reaction--mine'),
              // The name starts with what is shown, so speech input ("click 👍 2") finds it.
              'aria-label': `${visible}, react with ${emoji}`,
              'aria-pressed': mine ? 'true' : 'false',
              title: who.length > 0 ? who.map(name).join(', ') : undefined,
              onClick: () => void room.react(m.id, emoji, !mine).catch(() => undefined),
            },
            visible,
          ),
        );
      }
    }
    return h(
      'li',
      {
        key,
        'data-key': key,
        'data-message-id': m.id,
        // The message holds the stop unless one of its buttons does (a button that is gone gives it back).
        tabIndex: key === stopKey && (stopAction < 0 || stopAction >= n) ? 0 : -1,
        className: cx('tw-message', own && 'tw-message--own', m.status && `tw-message--${m.status}`),
      },
      h(
        'div',
        { className: 'tw-message__meta' },
        h('span', { className: 'tw-message__sender' }, own && unsent ? name(currentUserId ?? m.senderId) : name(m.senderId)),
        h('time', { dateTime: new Date(m.createdAt).toISOString() }, time(m.createdAt)),
        m.editedAt ? h('span', { className: 'tw-message__edited' }, ' (edited)') : null,
        m.status === 'pending' ? h('span', { className: 'tw-message__status' }, ' Sending…') : null,
        m.status === 'failed' ? h('span', { className: 'tw-message__status' }, ` Not sent: ${m.error ?? 'refused'}`) : null,
      ),
      h('div', { className: 'tw-message__text' }, m.text),
      buttons.length > 0
        ? h('div', { className: cx('tw-reactions', unsent && 'tw-message__actions'), role: 'group', 'aria-label': unsent ? 'Message actions' : 'Reactions' }, buttons)
        : null,
    );
  };

  const members = room.participants.length;
  return h(
    'section',
    { className: cx('tw-room-view', className), 'aria-label': `Chat: ${heading}`, 'data-room-id': roomId },
    h(
      'header',
      { className: 'tw-room-view__header' },
      heading,
      members > 0
        ? h(
            'span',
            { className: 'tw-room-view__members', title: room.participants.map(name).join(', ') },
            ` · ${members} ${members === 1 ? 'member' : 'members'}`,
          )
        : null,
    ),
    room.hasMore
      ? h(
          'button',
          { type: 'button', className: 'tw-button tw-load-older', onClick: () => void room.loadOlder().catch(() => undefined) },
          'Load older messages',
        )
      : null,
    // The log region wraps the list: an <ol> keeps its list role (its items are list items) while the region
    // announces what is added.
    h(
      'div',
      { ref: logRef, className: 'tw-messages', role: 'log', 'aria-live': 'polite', 'aria-label': `Messages in ${heading}` },
      h(
        'ol',
        { className: 'tw-messages__list', onKeyDown: onListKeyDown, onFocus: onListFocus },
        timeline(room.messages, room.memberEvents).map((line) =>
          line.kind === 'message'
            ? renderMessage(line.message)
            : h(
                'li',
                { key: `member-${line.event.userId}-${line.at}-${line.event.joined}`, className: 'tw-member-line' },
                `${name(line.event.userId)} ${line.event.joined ? 'joined' : 'left'}`,
              ),
        ),
      ),
    ),
    h('div', { className: 'tw-typing', 'aria-live': 'polite' }, typingText(typing)),
    room.ended ? h('p', { className: 'tw-room-view__ended', role: 'status' }, endedText(room.ended.code)) : null,
    h(
      'form',
      { className: 'tw-composer', onSubmit: submit },
      h('input', {
        type: 'text',
        value: draft,
        placeholder: `Message ${heading}`,
        'aria-label': `Message ${heading}`,
        'aria-describedby': countId,
        'aria-invalid': over ? 'true' : undefined,
        disabled: room.ended !== null,
        onChange: (e: { currentTarget: HTMLInputElement }) => onChange(e.currentTarget.value),
        onKeyDown,
        onBlur: () => {
          if (lastTyping.current !== 0) {
            lastTyping.current = 0;
            room.setTyping(false);
          }
        },
      }),
      h(
        'span',
        { id: countId, className: cx('tw-composer__count', over && 'tw-composer__count--over') },
        text === '' ? '' : over ? `${countText(chars)}: too long, shorten it to send` : problem !== null ? `${countText(chars)}: only invisible characters` : countText(chars),
      ),
      h('button', { type: 'submit', className: 'tw-button tw-button--primary', disabled: text === '' || problem !== null || room.ended !== null }, 'Send'),
    ),
  );
}
