// "Who is here": the members of the lobby's presence (useRealtimePresence, joined once for the page in
// workspace.tsx: the chat invites from the same list), as <PresenceAvatars /> and a list with a "Message"
// button each; the user's own status. While the connection is down (useRealtimeConnection) the list is the
// last one known, and says so; the client refreshes it when it rejoins.
//
// Test hooks: #presence[data-count][data-stale], li.person[data-user-id][data-status].
import type { PresenceStatus } from 'tidewire';
import { PresenceAvatars, useRealtimeConnection, type RealtimePresence } from 'tidewire/react';

const STATUSES: PresenceStatus[] = ['online', 'away', 'busy'];

export interface PresencePanelProps {
  /** This user's id: the others are listed below the avatars. */
  userId: string;
  presence: RealtimePresence;
  /** This user's status as chosen here (what the presence was joined with), and its change. */
  status: PresenceStatus;
  onStatus: (status: PresenceStatus) => void;
  /** "Message" pressed on someone: open a DM with them. */
  onMessage: (userId: string) => void;
}

export function PresencePanel({ userId, presence, status, onStatus, onMessage }: PresencePanelProps) {
  const { users, onlineCount } = presence;
  const others = users.filter((u) => u.id !== userId);
  const stale = !useRealtimeConnection().isConnected;

  return (
    <section
      id="presence"
      className={`card${stale ? ' stale' : ''}`}
      aria-labelledby="presence-title"
      aria-busy={stale}
      data-count={onlineCount}
      data-stale={String(stale)}
    >
      <div className="card-head">
        <h2 id="presence-title">Who is here{stale ? <span className="stale-note"> (last known)</span> : null}</h2>
        <span className="count" aria-label={`${onlineCount} online`}>
          {onlineCount}
        </span>
      </div>
      <PresenceAvatars users={users} max={8} />
      <label className="status-select">
        Your status{' '}
        <select value={status} onChange={(e) => onStatus(e.currentTarget.value as PresenceStatus)}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      {others.length === 0 ? (
        <p className="empty">Nobody else yet. Open this page in another window.</p>
      ) : (
        <ul className="people" aria-label="People online">
          {others.map((u) => (
            <li key={u.id} className="person" data-user-id={u.id} data-status={u.status}>
              <span className={`status-dot status-dot--${u.status}`} aria-hidden="true" />
              <span className="person__name">{u.name}</span>
              <span className="person__status">{u.status}</span>
              <button type="button" className="tw-button small" aria-label={`Direct message to ${u.name}`} onClick={() => onMessage(u.id)}>
                Message
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
