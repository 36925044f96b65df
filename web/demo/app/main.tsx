// tidewire demo app (what `npm start` serves at /): React over the public API only (`tidewire`,
// `tidewire/react`), bundled by scripts/build-demo.mjs into build/site/app.js.
//
//   sign in    → GET /dev/token?user=NAME (the server runs with --dev-tokens); the client's token provider
//                fetches a fresh token before every connect and reconnect
//   chat       → useChatRooms (live) + ChatRoomList + ChatRoomView (own messages pending, then stored or failed
//                with Retry); rooms invite everyone online, DMs from presence
//   presence   → useRealtimePresence on presence:lobby, PresenceAvatars, a status selector
//   tasks      → useRealtimeSync({ channel: 'tasks', resource: 'task' }), optimistic; a refused change is
//                said plainly and can be dismissed (one the stored task already satisfies is not an error)
//   connection → RealtimeStatus, ConnectionStatus, getMetrics() every second, ConnectionToast
//
// Test hooks (tests/browser/demo-app.test.mjs): <body data-ready data-state data-user>, and data-* attributes
// on the panels (counts, ids, statuses) so tests wait for facts instead of sleeping.
import { StrictMode, useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import type { ClientMetrics, PresenceStatus, TidewireClient } from 'tidewire';
import {
  ChatRoomList,
  ChatRoomView,
  ConnectionStatus,
  ConnectionToast,
  PresenceAvatars,
  RealtimeProvider,
  RealtimeStatus,
  TidewireStyles,
  roomTitle,
  useChatRooms,
  useRealtimeClient,
  useRealtimePresence,
  useRealtimeSync,
  type PresenceUser,
} from 'tidewire/react';

import './app.css';

const NAME_KEY = 'tidewire-demo:name';
const PRESENCE_CHANNEL = 'presence:lobby';
const STATUSES: PresenceStatus[] = ['online', 'away', 'busy'];

interface Session {
  name: string;
  userId: string;
}

interface Task extends Record<string, unknown> {
  title: string;
  done: boolean;
}

declare global {
  interface Window {
    /** The signed-in client, for the console and tests. */
    tidewireDemo?: { client: TidewireClient };
  }
}

function wsUrl(): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

/** GET /dev/token?user=NAME → {token, userId, expiresAt}; throws an Error fit to show. */
async function fetchToken(name: string): Promise<{ token: string; userId: string; expiresAt: number }> {
  let response: Response;
  try {
    response = await fetch(`/dev/token?user=${encodeURIComponent(name)}`, { cache: 'no-store' });
  } catch (e) {
    throw new Error(`could not reach the server (${(e as Error).message})`);
  }
  if (response.status === 404) throw new Error('this server does not sign development tokens (start it with --dev-tokens)');
  if (!response.ok) throw new Error(`the server refused (${response.status} ${await response.text().catch(() => '')})`);
  return (await response.json()) as { token: string; userId: string; expiresAt: number };
}

/** An error said in words, with a Dismiss button (it stays until dismissed or replaced). */
function ErrorNotice({ message, onDismiss }: { message: string | null; onDismiss: () => void }) {
  if (message === null) return null;
  return (
    <div className="error notice" role="alert">
      <span>{message}</span>
      <button type="button" className="tw-button small" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

// --- sign in ---------------------------------------------------------------------------------------------

function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [name, setName] = useState(() => sessionStorage.getItem(NAME_KEY) ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = name.trim();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(trimmed)) {
      setError('Use 1 to 64 letters, digits, _ . or -');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { userId } = await fetchToken(trimmed); // checks the endpoint and learns the user id
      sessionStorage.setItem(NAME_KEY, trimmed);
      onSignedIn({ name: trimmed, userId });
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <main className="signin-page">
      <form id="signin" className="card signin" onSubmit={submit} autoComplete="off" aria-labelledby="signin-title">
        <h1 id="signin-title">tidewire demo</h1>
        <p className="hint">
          Pick any name: this development server signs a token for it. Open a second window with another name to see
          each other live.
        </p>
        <label htmlFor="name">Your name</label>
        <div className="row">
          <input
            id="name"
            type="text"
            required
            maxLength={64}
            placeholder="alice"
            autoFocus
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
          />
          <button type="submit" className="tw-button tw-button--primary" disabled={busy}>
            Sign in
          </button>
        </div>
        {error ? (
          <p className="error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </main>
  );
}

// --- connection --------------------------------------------------------------------------------------------

/** Mirrors the client's state on <body data-state> (test hook) and exposes the client on window. */
function BodyState() {
  const client = useRealtimeClient();
  useEffect(() => {
    document.body.dataset.state = client.state;
    window.tidewireDemo = { client };
    const off = client.onStateChange(({ to }) => {
      document.body.dataset.state = to;
    });
    return () => {
      off();
      document.body.dataset.state = 'idle';
      if (window.tidewireDemo?.client === client) delete window.tidewireDemo;
    };
  }, [client]);
  return null;
}

/** The client's connection state, re-rendered on every change. */
function useConnectionState(): string {
  const client = useRealtimeClient();
  const [state, setState] = useState(() => client.state);
  useEffect(() => {
    setState(client.state);
    return client.onStateChange(({ to }) => setState(to));
  }, [client]);
  return state;
}

function useMetrics(client: TidewireClient, everyMs = 1000): ClientMetrics {
  const [metrics, setMetrics] = useState(() => client.getMetrics());
  useEffect(() => {
    const refresh = () => {
      if (!client.closed) setMetrics(client.getMetrics());
    };
    refresh();
    const timer = setInterval(refresh, everyMs);
    const off = client.onStateChange(refresh);
    return () => {
      clearInterval(timer);
      off();
    };
  }, [client, everyMs]);
  return metrics;
}

function ConnectionPanel() {
  const client = useRealtimeClient();
  const m = useMetrics(client);
  const rows: Array<[string, string, string]> = [
    ['state', 'State', m.state],
    ['latency', 'Latency', m.lastLatencyMs < 0 ? '—' : `${Math.round(m.lastLatencyMs)} ms`],
    ['queue', 'Queue depth', String(m.queueDepth)],
    ['inflight', 'Awaiting ack', String(m.inflight)],
    ['reconnects', 'Reconnects', String(m.reconnects)],
    ['attempts', 'Failed attempts', String(m.reconnectAttempts)],
    ['traffic', 'Messages in / out', `${m.messagesReceived} / ${m.messagesSent}`],
    ['channels', 'Channels', String(m.channelCount)],
  ];
  return (
    <section
      id="connection"
      className="card"
      aria-labelledby="connection-title"
      data-state={m.state}
      data-queue={m.queueDepth}
      data-inflight={m.inflight}
      data-reconnects={m.reconnects}
    >
      <div className="card-head">
        <h2 id="connection-title">Connection</h2>
        <ConnectionStatus />
      </div>
      <dl className="metrics">
        {rows.map(([key, label, value]) => (
          <div key={key} className="metric" data-metric={key}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <button type="button" className="tw-button" onClick={() => client.reconnect()}>
        Reconnect now
      </button>
    </section>
  );
}

// --- presence ----------------------------------------------------------------------------------------------

function PresencePanel({
  session,
  onMessage,
  onUsers,
}: {
  session: Session;
  onMessage: (userId: string) => void;
  onUsers: (users: PresenceUser[]) => void;
}) {
  const [status, setStatus] = useState<PresenceStatus>('online');
  const { users, onlineCount } = useRealtimePresence({
    channel: PRESENCE_CHANNEL,
    user: { id: session.userId, name: session.name },
    status,
  });
  useEffect(() => onUsers(users), [users, onUsers]);
  const others = users.filter((u) => u.id !== session.userId);
  // While disconnected the list is the last one known: say so (it is refreshed when the client rejoins).
  const stale = useConnectionState() !== 'connected';

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
        <select value={status} onChange={(e) => setStatus(e.currentTarget.value as PresenceStatus)}>
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

// --- tasks -------------------------------------------------------------------------------------------------

function TasksPanel() {
  const { data: tasks, insert, update, remove } = useRealtimeSync<Task>({ channel: 'tasks', resource: 'task' });
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const fail = (what: string) => (e: Error) => setError(`${what}: ${e.message}`);

  const add = (e: FormEvent) => {
    e.preventDefault();
    const t = title.trim();
    if (t === '') return;
    setTitle('');
    setError(null);
    insert({ title: t, done: false }).catch(fail(`Could not add "${t}"`));
  };
  const open = tasks.filter((t) => !t.done).length;

  return (
    <section id="tasks" className="card" aria-labelledby="tasks-title" data-count={tasks.length}>
      <div className="card-head">
        <h2 id="tasks-title">Shared tasks</h2>
        <span className="count" aria-label={`${open} open`}>
          {open} open
        </span>
      </div>
      <form className="row" onSubmit={add} autoComplete="off">
        <label htmlFor="new-task" className="visually-hidden">
          New task
        </label>
        <input
          id="new-task"
          type="text"
          maxLength={200}
          placeholder="Add a task"
          value={title}
          onChange={(e) => setTitle(e.currentTarget.value)}
        />
        <button type="submit" className="tw-button" disabled={title.trim() === ''}>
          Add task
        </button>
      </form>
      <ErrorNotice message={error} onDismiss={() => setError(null)} />
      {tasks.length === 0 ? (
        <p className="empty">No tasks. Everyone signed in shares this list.</p>
      ) : (
        <ul className="tasks" aria-label="Tasks" aria-live="polite">
          {tasks.map((t) => (
            <li
              key={t.id}
              className={`task${t.done ? ' task--done' : ''}${t.pending ? ' task--pending' : ''}`}
              data-task-id={t.id}
              data-title={t.title}
              data-done={String(Boolean(t.done))}
              data-pending={String(Boolean(t.pending))}
            >
              <label>
                <input
                  type="checkbox"
                  checked={Boolean(t.done)}
                  disabled={t.pending}
                  onChange={() => update(t.id, { done: !t.done }).catch(fail(`Could not update "${t.title}"`))}
                />
                <span className="task__title">{t.title}</span>
              </label>
              {t.pending ? <span className="task__pending">saving…</span> : null}
              <button
                type="button"
                className="tw-button small"
                aria-label={`Delete ${t.title}`}
                disabled={t.pending}
                onClick={() => remove(t.id).catch(fail(`Could not delete "${t.title}"`))}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

// --- chat --------------------------------------------------------------------------------------------------

function ChatPanel({
  session,
  online,
  dmRequest,
}: {
  session: Session;
  online: PresenceUser[];
  dmRequest: { userId: string; n: number } | null;
}) {
  // Live: the server pushes every change of this user's rooms (created, DM opened, new message, unread count,
  // read marker, members, left or deleted) on the user's own channel; no polling, no announcements of our own.
  const { rooms, createRoom, openDm, leaveRoom, deleteRoom } = useChatRooms();
  const [selected, setSelected] = useState<string | null>(null);
  const [newName, setNewName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // The titles of the rooms seen in the list, to name one that has gone from it.
  const titles = useRef(new Map<string, string>());
  // Rooms this page is leaving or deleting itself: their going needs no explanation.
  const removing = useRef(new Set<string>());

  // Signing in unmounts the form that had focus, which would leave it on <body>: move it to this panel's
  // heading (read out as "Chat, heading"), one Tab before the room list and the composer.
  useEffect(() => heading.current?.focus(), []);

  useEffect(() => {
    for (const r of rooms) titles.current.set(r.id, roomTitle(r, session.userId));
    if (selected === null) {
      if (rooms.length > 0) setSelected(rooms[0]!.id);
      return;
    }
    // The open room left the list (this user left it here or elsewhere, or its creator deleted it): the
    // server has ended its subscription, so show another room and say why. A room just created or opened is
    // selected before the list shows it: only a room seen in the list before counts as gone.
    const gone = titles.current.get(selected);
    if (gone !== undefined && !rooms.some((r) => r.id === selected)) {
      titles.current.delete(selected);
      setSelected(rooms[0]?.id ?? null);
      if (!removing.current.delete(selected)) setError(`“${gone}” is no longer in your rooms: you left it elsewhere, or it was deleted.`);
      // Focus was perhaps in the view that goes (its composer, a message): keep it in the chat, not on <body>.
      setTimeout(() => {
        if (document.activeElement === document.body) heading.current?.focus();
      });
    }
  }, [rooms, selected, session.userId]);

  // A DM asked for from the presence list.
  useEffect(() => {
    if (dmRequest === null) return;
    openDm(dmRequest.userId).then(
      (room) => setSelected(room.id),
      (e: Error) => setError(`Could not open the conversation: ${e.message}`),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per request
  }, [dmRequest]);

  const create = (e: FormEvent) => {
    e.preventDefault();
    const name = newName.trim();
    if (name === '') return;
    setNewName('');
    setError(null);
    // Everyone online now is invited (a demo shortcut: rooms are listed to their participants).
    const participants = online.map((u) => u.id).filter((id) => id !== session.userId);
    createRoom(name, { visibility: 'public', participants }).then(
      (room) => setSelected(room.id),
      (err: Error) => {
        setNewName(name);
        setError(`Could not create "${name}": ${err.message}`);
      },
    );
  };

  const current = rooms.find((r) => r.id === selected);
  const currentTitle = current ? roomTitle(current, session.userId) : undefined;
  const act = (what: string, action: (roomId: string) => Promise<void>) => () => {
    if (current === undefined) return;
    const roomId = current.id;
    setError(null);
    removing.current.add(roomId);
    action(roomId).catch((e: Error) => {
      removing.current.delete(roomId);
      setError(`Could not ${what} “${currentTitle}”: ${e.message}`);
    });
  };
  return (
    <section id="chat" className="card chat" aria-labelledby="chat-title" data-rooms={rooms.length} data-room-id={selected ?? ''}>
      <div className="card-head">
        <h2 id="chat-title" ref={heading} tabIndex={-1}>
          Chat
        </h2>
      </div>
      <div className="chat__body">
        <div className="chat__sidebar">
          <ChatRoomList
            rooms={rooms}
            activeRoomId={selected}
            currentUserId={session.userId}
            onSelect={(r) => setSelected(r.id)}
          />
          <form className="tw-composer new-room" onSubmit={create} autoComplete="off">
            <input
              type="text"
              value={newName}
              maxLength={100}
              placeholder="New room"
              aria-label="New room name"
              onChange={(e) => setNewName(e.currentTarget.value)}
            />
            <button type="submit" className="tw-button" disabled={newName.trim() === ''}>
              Create
            </button>
          </form>
          <p className="hint">A new room invites everyone online. “Message” someone under “Who is here” for a DM.</p>
          <ErrorNotice message={error} onDismiss={() => setError(null)} />
        </div>
        {selected !== null ? (
          <div className="chat__main" key={selected}>
            <ChatRoomView roomId={selected} title={currentTitle} currentUserId={session.userId} />
            {/* After the composer, so that they add no Tab stop between the room list and it. */}
            {current !== undefined && current.kind === 'room' ? (
              <div className="room-actions">
                <button type="button" className="tw-button small" onClick={act('leave', leaveRoom)}>
                  Leave #{currentTitle}
                </button>
                {current.createdBy === session.userId ? (
                  <button type="button" className="tw-button small" onClick={act('delete', deleteRoom)}>
                    Delete #{currentTitle}
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

// --- the signed-in app ---------------------------------------------------------------------------------------

function Workspace({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [online, setOnline] = useState<PresenceUser[]>([]);
  const [dmRequest, setDmRequest] = useState<{ userId: string; n: number } | null>(null);
  const requestDm = useCallback((userId: string) => setDmRequest((r) => ({ userId, n: (r?.n ?? 0) + 1 })), []);
  // Said by screen readers once signed in (a live region is announced when its text changes after it exists);
  // focus meanwhile moves to the Chat heading (ChatPanel).
  const [announcement, setAnnouncement] = useState('');
  useEffect(() => setAnnouncement(`Signed in as ${session.name}.`), [session.name]);

  return (
    <>
      <BodyState />
      <p id="announcer" className="visually-hidden" role="status">
        {announcement}
      </p>
      <ConnectionToast />
      <header className="top">
        <h1>
          tidewire <span className="sub">demo</span>
        </h1>
        <div className="top__right">
          <RealtimeStatus />
          <span className="who">
            Signed in as <strong id="me">{session.name}</strong>
          </span>
          <button type="button" className="tw-button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main className="layout">
        <ChatPanel session={session} online={online} dmRequest={dmRequest} />
        <div className="side">
          <PresencePanel session={session} onMessage={requestDm} onUsers={setOnline} />
          <TasksPanel />
          <ConnectionPanel />
        </div>
      </main>
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  useEffect(() => {
    document.body.dataset.ready = 'true';
  }, []);
  useEffect(() => {
    document.body.dataset.user = session?.name ?? '';
    if (session === null) document.body.dataset.state = 'idle';
  }, [session]);

  return (
    <>
      <TidewireStyles />
      {session === null ? (
        <SignIn onSignedIn={setSession} />
      ) : (
        // One client per signed-in user: the provider creates it once and closes it on sign-out (unmount).
        <RealtimeProvider
          key={session.name}
          options={{ url: wsUrl(), token: async () => (await fetchToken(session.name)).token }}
        >
          <Workspace session={session} onSignOut={() => setSession(null)} />
        </RealtimeProvider>
      )}
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
