import { createElement as h } from 'react';

import { cx } from './labels.js';

/** Anything with an id; `name`, `status` and `color` are used when present (useRealtimePresence's users fit). */
export interface AvatarUser {
  id: string;
  name?: string;
  status?: string;
  /** A CSS colour; default: one of eight palette classes chosen from the id. */
  color?: string;
}

export interface PresenceAvatarsProps {
  users: readonly AvatarUser[];
  /** Avatars shown before the rest collapse into "+N". Default 5. */
  max?: number;
  /** Hide the status dots. */
  hideStatus?: boolean;
  className?: string;
}

const PALETTE_SIZE = 8;

/** Up to two initials of a name ("Ada Lovelace" → "AL", "bob" → "B"). */
export function initials(name: string): string {
  const words = name.trim().split(/[\s._-]+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = [...words[0]!][0] ?? '';
  const last = words.length > 1 ? [...words[words.length - 1]!][0] ?? '' : '';
  return (first + last).toUpperCase();
}

/** A stable palette index for an id (FNV-1a). */
export function colorIndex(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % PALETTE_SIZE;
}

/**
 * Overlapping round avatars with initials, a colour from the user's id and a status dot (online, away, busy);
 * beyond `max`, a "+N" avatar. A list labelled with the count; each avatar is labelled "Name (status)".
 * Classes: `tw-avatars`, `tw-avatar tw-avatar--c0..c7`, `tw-avatar__status--<status>`, `tw-avatar--more`.
 *
 * ```tsx
 * const { users } = useRealtimePresence({ channel: 'doc:1', user: me });
 * <PresenceAvatars users={users} max={4} />
 * ```
 */
export function PresenceAvatars({ users, max = 5, hideStatus = false, className }: PresenceAvatarsProps) {
  const shown = users.slice(0, Math.max(0, max));
  const hidden = users.length - shown.length;
  const count = users.length;
  return h(
    'ul',
    { className: cx('tw-avatars', className), 'aria-label': `${count} ${count === 1 ? 'person' : 'people'} here` },
    shown.map((u) => {
      const name = u.name ?? u.id;
      const label = u.status ? `${name} (${u.status})` : name;
      return h(
        'li',
        {
          key: u.id,
          className: cx('tw-avatar', u.color === undefined && `tw-avatar--c${colorIndex(u.id)}`),
          style: u.color !== undefined ? { backgroundColor: u.color } : undefined,
          title: label,
          'aria-label': label,
          'data-user-id': u.id,
        },
        h('span', { 'aria-hidden': true }, initials(name)),
        !hideStatus && u.status
          ? h('span', { className: cx('tw-avatar__status', `tw-avatar__status--${u.status}`), 'aria-hidden': true })
          : null,
      );
    }),
    hidden > 0
      ? h(
          'li',
          {
            key: '+more',
            className: 'tw-avatar tw-avatar--more',
            title: users.slice(shown.length).map((u) => u.name ?? u.id).join(', '),
            'aria-label': `${hidden} more`,
          },
          h('span', { 'aria-hidden': true }, `+${hidden}`),
        )
      : null,
  );
}
