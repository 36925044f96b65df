// Compiled with `tsc --strict --noEmit` (npx tsc -p web/test-types): correct use of every tidewire/react hook
// and component must compile, and every `@ts-expect-error` line must stay an error. It checks the published
// declarations in web/dist.
import { StrictMode, useState, useSyncExternalStore } from 'react';

import {
  connectionStore,
  createClient,
  Presence,
  type ChatMessage,
  type ChatRoomInfo,
  type ConnectionState,
  type SendResult,
  type Store,
  type SyncSnapshot,
  type TidewireError,
} from '../dist/index.js';
import {
  Chat,
  ChatRoomList,
  ChatRoomView,
  ConnectionStatus,
  ConnectionToast,
  PresenceAvatars,
  RealtimeIndicator,
  RealtimeProvider,
  RealtimeStatus,
  TidewireStyles,
  tidewireStyles,
  resetClientRegistry,
  useChatRoom,
  useChatRooms,
  useRealtimeChannel,
  useRealtimeClient,
  useRealtimeConnection,
  useRealtimePresence,
  useRealtimeSync,
  useWebSocket,
  type PresenceUser,
  type SyncRecord,
} from '../dist/react/index.js';

const client = createClient({ url: 'ws://localhost:8080/ws', token: () => 'jwt' });
const css: string = tidewireStyles;
void css;

// A type alias (an interface has no implicit index signature and does not meet Record<string, unknown>).
type Task = {
  title: string;
  completed: boolean;
};

// --- useWebSocket: provider form ---------------------------------------------------------------------------
function ProviderSocket() {
  const { connectionState, isConnected, sendMessage, reconnect } = useWebSocket();
  const s: ConnectionState = connectionState;
  const ok: boolean = isConnected;
  const a: Promise<SendResult> = sendMessage('room:1', { type: 'custom_message', data: {} });
  const b: Promise<SendResult> = sendMessage('room:1', 'chat', { text: 'hi' });
  reconnect();
  void [s, ok, a, b];
  // @ts-expect-error sendMessage needs a channel and a payload
  sendMessage('room:1');
  // @ts-expect-error the provider form has no `send` (that is the direct form)
  useWebSocket().send('chat', {});
  return null;
}

// --- useWebSocket: direct form (the seeds' example) --------------------------------------------------------
function DirectSocket() {
  const { status, send, isConnected } = useWebSocket({
    url: 'ws://localhost:8080/ws',
    token: 'jwt',
    channel: 'room:lobby',
    onOpen: () => console.log('Connected!'),
    onMessage: (msg) => console.log('Message:', msg.event, msg.payload, msg.from),
    onError: (e: TidewireError) => console.log(e.code),
  });
  // @ts-expect-error the direct form needs a url
  useWebSocket({ onOpen: () => undefined });
  // @ts-expect-error the direct form has no `sendMessage`
  useWebSocket({ url: 'ws://x/ws' }).sendMessage('c', {});
  return (
    <div>
      <ConnectionStatus status={status} />
      <button onClick={() => void send('chat:message', { text: 'Hello World!' })} disabled={!isConnected}>
        Send Message
      </button>
    </div>
  );
}

// --- useRealtimeChannel -----------------------------------------------------------------------------------
function ChatChannel({ roomId }: { roomId: string }) {
  const [messages, setMessages] = useState<string[]>([]);
  const { send, subscribed } = useRealtimeChannel({
    channel: `chat:${roomId}`,
    events: {
      message: (data) => setMessages((prev) => [...prev, (data as { text: string }).text]),
      'user:typing': (_data, message) => console.log(message.from),
    },
  });
  const s: boolean = subscribed;
  void s;
  // @ts-expect-error `channel` is required
  useRealtimeChannel({ events: {} });
  // The server ended the subscription (room_left, room_deleted, access_revoked).
  useRealtimeChannel({ channel: `chat:${roomId}`, onError: (e) => console.log(e.code, e.details?.channel) });
  return <button onClick={() => void send('message', { text: 'hi' })}>{messages.length}</button>;
}

// --- useRealtimeConnection --------------------------------------------------------------------------------
function Connection() {
  const { status, isConnected, isConnecting, reconnectAttempts, reconnect, disconnect } = useRealtimeConnection({
    onConnect: () => console.log('Connected'),
    onDisconnect: (reason) => console.log('Disconnected', reason),
    onError: (error) => console.error(error.code),
  });
  useRealtimeConnection({ url: 'ws://localhost:8080/ws', maxReconnectAttempts: 5, reconnectInterval: 3000 });
  useRealtimeConnection({ maxReconnectAttempts: 5, reconnectInterval: 3000 }); // the provider's client, too
  // @ts-expect-error maxReconnectAttempts is a number
  useRealtimeConnection({ maxReconnectAttempts: '5' });
  const n: number = reconnectAttempts;
  void [n, isConnecting, disconnect];
  return (
    <div>
      Status: {status}
      {!isConnected && <button onClick={reconnect}>Reconnect</button>}
    </div>
  );
}

// --- useRealtimePresence + PresenceAvatars ----------------------------------------------------------------
function Editor() {
  const { users, onlineCount, updateStatus } = useRealtimePresence({
    channel: 'editor:doc123',
    user: { id: 'u1', name: 'Ada', avatarUrl: '/a.png' },
    status: 'online',
  });
  const first: PresenceUser | undefined = users[0];
  const joined: number | undefined = first?.joinedAt;
  void joined;
  // @ts-expect-error not a presence status
  void updateStatus('offline');
  // @ts-expect-error the user needs a name
  useRealtimePresence({ channel: 'c', user: { id: 'u1' } });
  return (
    <div>
      <PresenceAvatars users={users} max={4} />
      <PresenceAvatars users={users.map((u) => ({ ...u, color: '#3B82F6' }))} />
      <span>{onlineCount} online</span>
      <select onChange={(e) => void updateStatus(e.target.value as 'online' | 'away' | 'busy')}>
        <option value="online">Online</option>
      </select>
    </div>
  );
}

// --- useRealtimeSync --------------------------------------------------------------------------------------
function TaskList() {
  const { data: tasks, insert, update, remove } = useRealtimeSync<Task>({
    channel: 'tasks',
    resource: 'task',
    initialData: [],
    onInsert: (task) => console.log('New task', task.title),
    onUpdate: (task) => console.log('Updated', task.title, task.completed),
    onDelete: (id: string) => console.log('Deleted', id),
  });
  const t: SyncRecord<Task> | undefined = tasks[0];
  const pending: boolean | undefined = t?.pending;
  void pending;
  // @ts-expect-error title is a string
  void insert({ title: 1, completed: false });
  // @ts-expect-error not a field of Task
  void update('1', { nope: true });
  // @ts-expect-error completed is a boolean
  void update('1', { completed: 'yes' });
  return (
    <div>
      <button onClick={() => void insert({ title: 'New Task', completed: false })}>Add Task</button>
      {tasks.map((task) => (
        <div key={task.id}>
          <input type="checkbox" checked={task.completed} onChange={() => void update(task.id, { completed: !task.completed })} />
          <span>{task.title}</span>
          <button onClick={() => void remove(task.id)}>Delete</button>
        </div>
      ))}
    </div>
  );
}

// --- chat hooks and components ----------------------------------------------------------------------------
function Rooms() {
  const { rooms, refresh, createRoom, openDm } = useChatRooms();
  const [open, setOpen] = useState<string | null>(null);
  const { messages, typingUsers, hasMore, loadOlder, send, react, setTyping, markRead } = useChatRoom(open);
  const m: ChatMessage | undefined = messages[0];
  const typing: string[] = typingUsers;
  void [m, typing, hasMore, refresh, markRead];
  void loadOlder(20);
  void send('hello');
  void react('m1', '👍');
  setTyping(true);
  void createRoom('general', { visibility: 'private', participants: ['bob'] });
  void openDm('bob');
  // @ts-expect-error the room list is live (pushed on the user's channel): no polling interval any more
  useChatRooms({ refreshIntervalMs: 15000 });
  // @ts-expect-error a room id is a string
  useChatRoom(42);
  // @ts-expect-error visibility is public or private
  void createRoom('x', { visibility: 'secret' });
  const select = (r: ChatRoomInfo) => setOpen(r.id);
  return (
    <>
      <ChatRoomList rooms={rooms} activeRoomId={open} onSelect={select} currentUserId="me" />
      {open && <ChatRoomView roomId={open} title="General" currentUserId="me" reactionChoices={['👍']} />}
      {/* @ts-expect-error ChatRoomView needs a roomId */}
      <ChatRoomView title="x" />
    </>
  );
}

// --- status components ------------------------------------------------------------------------------------
function Header() {
  const c = useRealtimeClient();
  void c;
  return (
    <header>
      <TidewireStyles />
      <ConnectionStatus />
      <ConnectionStatus status="reconnecting" labels={{ reconnecting: 'Back soon…' }} compact />
      {/* @ts-expect-error not a connection state */}
      <ConnectionStatus status="online" />
      <RealtimeIndicator />
      <RealtimeIndicator status="connected" liveLabel="Live" />
      <RealtimeStatus refreshMs={2000} />
      <ConnectionToast durationMs={3000} messages={{ reconnecting: 'Lost the connection…' }} />
      {/* @ts-expect-error PresenceAvatars needs users */}
      <PresenceAvatars />
      <Chat currentUserId="me" names={{ bob: 'Bob' }} />
    </header>
  );
}

// The plain API's live state is a store ({getSnapshot, subscribe}): React reads it directly, no wrapper needed.
function RawStores() {
  const [presence] = useState(() => new Presence(client, 'doc:1', { status: 'away' }, false));
  const members = useSyncExternalStore(presence.subscribe, presence.getSnapshot);
  const connection: Store<{ state: ConnectionState; reconnectAttempts: number }> = connectionStore(client);
  const { state } = useSyncExternalStore(connection.subscribe, connection.getSnapshot);
  const sync = client.sync<{ title: string }>('tasks', 'task');
  const snapshot: SyncSnapshot<{ title: string }> = sync.getSnapshot();
  // @ts-expect-error a snapshot is read-only data, not a store
  snapshot.subscribe(() => undefined);
  return (
    <p>
      {members.length} {state} {snapshot.items.length} {String(snapshot.loaded)}
    </p>
  );
}

export function App() {
  resetClientRegistry();
  return (
    <StrictMode>
      <RealtimeProvider client={client}>
        <Header />
        <ProviderSocket />
        <DirectSocket />
        <ChatChannel roomId="1" />
        <Connection />
        <Editor />
        <TaskList />
        <Rooms />
        <RawStores />
      </RealtimeProvider>
      <RealtimeProvider options={{ url: 'ws://localhost:8080/ws', maxReconnectAttempts: 5 }}>
        <Header />
      </RealtimeProvider>
    </StrictMode>
  );
}
