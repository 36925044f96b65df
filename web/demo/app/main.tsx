// tidewire demo app (what `npm start` serves at /): React over the public API only (`tidewire`,
// `tidewire/react`), bundled by scripts/build-demo.mjs into build/site/app.js. This file only composes the
// panels; every piece of live state comes from the library's hooks and components:
//
//   sign_in.tsx           signed out: a name → GET /dev/token?user=NAME (session.ts; the server runs with
//                         --dev-tokens); the provider's token function fetches a fresh token before every connect
//   top_bar.tsx           <RealtimeStatus /> (badge + details popover), who is signed in, Sign out
//   chat_panel.tsx        useChatRooms + <ChatRoomList /> + <ChatRoomView />; use_open_room.ts keeps the open
//                         room valid as the live list changes; new_room_form.tsx
//   presence_panel.tsx    the lobby's useRealtimePresence (joined here, once: the chat invites from it),
//                         <PresenceAvatars />, a status selector
//   tasks_panel.tsx       useRealtimeSync({ channel: 'tasks', resource: 'task' }), optimistic
//   connection_panel.tsx  useRealtimeConnection, <ConnectionStatus />, the client's metrics
//   page_state.tsx        <body data-state> from useRealtimeConnection, window.tidewireDemo (test hooks)
//   <ConnectionToast />   "Reconnecting…" / "Connected again" toasts
//
// Test hooks (tests/browser/demo-app.test.mjs, a11y.test.mjs): <body data-ready data-state data-user>, and
// data-* attributes on the panels (counts, ids, statuses), so tests wait for facts instead of sleeping.
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { PresenceStatus } from 'tidewire';
import { ConnectionToast, RealtimeProvider, TidewireStyles, useRealtimePresence } from 'tidewire/react';

import { ChatPanel } from './chat_panel';
import { ConnectionPanel } from './connection_panel';
import { PageState } from './page_state';
import { PresencePanel } from './presence_panel';
import { fetchToken, wsUrl, type Session } from './session';
import { SignIn } from './sign_in';
import { TasksPanel } from './tasks_panel';
import { TopBar } from './top_bar';

import './app.css';

const PRESENCE_CHANNEL = 'presence:lobby';

/** The signed-in page: the panels, and what passes between them (the lobby's members, a DM asked for). */
function Workspace({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [status, setStatus] = useState<PresenceStatus>('online');
  const lobby = useRealtimePresence({ channel: PRESENCE_CHANNEL, user: { id: session.userId, name: session.name }, status });
  const [dmRequest, setDmRequest] = useState<{ userId: string } | null>(null);
  // Said by screen readers once signed in (a live region is announced when its text changes after it exists);
  // focus meanwhile moves to the Chat heading (ChatPanel).
  const [announcement, setAnnouncement] = useState('');
  useEffect(() => setAnnouncement(`Signed in as ${session.name}.`), [session.name]);

  return (
    <>
      <PageState />
      <p id="announcer" className="visually-hidden" role="status">
        {announcement}
      </p>
      <ConnectionToast />
      <TopBar name={session.name} onSignOut={onSignOut} />
      <main className="layout">
        <ChatPanel userId={session.userId} online={lobby.users} dmRequest={dmRequest} />
        <div className="side">
          <PresencePanel
            userId={session.userId}
            presence={lobby}
            status={status}
            onStatus={setStatus}
            onMessage={(userId) => setDmRequest({ userId })}
          />
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
          // persistOutbox: sends survive a reload (issue #18), kept per signed-in user. The tabs signed in with
          // one name share one connection (issue #18, the default: the token's `sub` names the user; a
          // SharedWorker, build/site/shared_worker.js, holds it).
          options={{ url: wsUrl(), token: async () => (await fetchToken(session.name)).token, persistOutbox: { key: session.name } }}
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
