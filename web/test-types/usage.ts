// Compiled with `tsc --strict --noEmit` by npm test: correct usage must compile, and every
// `@ts-expect-error` line must stay an error. It checks the published declarations in web/dist.
import {
  createClient,
  loadStateModule,
  TidewireError,
  type ChannelMessage,
  type ClientMetrics,
  type ConnectionState,
  type SendResult,
  type StateModule,
} from '../dist/index.js';
import { RealtimeProvider, useRealtimeChannel } from '../dist/react/index.js';

const client = createClient({ url: 'ws://localhost:8080/ws', token: async () => 'jwt', graceMs: 500 });
const state: ConnectionState = client.state;
const off: () => void = client.subscribe<{ text: string }>('room:1', (m: ChannelMessage<{ text: string }>) => {
  const text: string = m.payload.text;
  void text;
});
off();
const ack: Promise<SendResult> = client.send('room:1', 'chat', { text: 'hi' });
void client.send('room:1', { type: 'user_message' });
const channel = client.channel('room:2').subscribe();
channel.on<number>('count', (m) => m.payload.toFixed());
channel.once('*', (m) => m.event.toUpperCase());
const metrics: ClientMetrics = client.getMetrics();
const latency: number = metrics.lastLatencyMs;
client.onError((e: TidewireError) => e.code.length);
client.onStateChange(({ from, to }) => `${from}->${to}`);
// Transport fallback (issue 17): the order, the fallback threshold, the upgrade probe; the transport in use.
const fallback = createClient({ url: 'ws://localhost:8080/ws', transports: ['websocket', 'polling'], fallbackAfterFailures: 3, upgradeProbeMs: 10000 });
const transport: 'websocket' | 'sse' | 'polling' | undefined = fallback.getMetrics().transport;
fallback.onStateChange(({ transport: t }) => t?.toUpperCase());
// @ts-expect-error: not a transport
createClient({ url: 'ws://localhost:8080/ws', transports: ['carrier-pigeon'] });
void transport;
void [state, ack, latency, RealtimeProvider, useRealtimeChannel];
// Preloading the state module (presence, sync, chat) before the first use.
void loadStateModule().then((sm: StateModule) => {
  const presence = sm.presence();
  const members: string = presence.members();
  presence.delete();
  return [members, sm.liveObjects() + 1];
});

// Issue 12: a provider may resolve to null (nobody signed in); the reconnect policy can be overridden; a Blob
// payload goes as binary; a channel reports the server ending its subscription; the user id is a string.
const signedOut = createClient({ url: 'ws://x/ws', token: async () => (Math.random() > 0.5 ? 'jwt' : null) });
const restore: () => void = signedOut.setReconnectPolicy({ maxReconnectAttempts: 3, reconnectBaseMs: 500 });
restore();
// The defaults live in the engine: a field left to them is undefined until the module has loaded.
const policy: number | undefined = signedOut.reconnectPolicy.reconnectCapMs;
const grace: number = signedOut.graceMs;
void client.send('room:1', 'file', new Blob(['bytes']));
const offError: () => void = channel.onError((e: TidewireError) => e.code === 'room_left');
const me: string = client.userId;
void [policy, grace, offError, me];
// @ts-expect-error: the policy's fields are numbers
signedOut.setReconnectPolicy({ maxReconnectAttempts: 'five' });
// @ts-expect-error: url is required
createClient({});
// @ts-expect-error: the token must be a string or a function
createClient({ url: 'ws://x/ws', token: 42 });
// @ts-expect-error: authMode is one of two strings
createClient({ url: 'ws://x/ws', authMode: 'cookie' });
// @ts-expect-error: a subscribe handler receives a message, not a string
client.subscribe('room:1', (m: string) => m);
// @ts-expect-error: states are a closed set
const bad: ConnectionState = 'open';
// @ts-expect-error: the payload type flows into the handler
channel.on<number>('count', (m) => m.payload.toUpperCase());
// @ts-expect-error: useRealtimeChannel takes an options object
useRealtimeChannel('room:1');
// @ts-expect-error: a chat room needs its typing TTL
void loadStateModule().then((sm) => sm.chatRoom());
void bad;

// One connection for every tab (issue #18): createClient shares by default; the options and the flag are typed,
// and createSharedClient gives the same TidewireClient.
import { createSharedClient, type TabChannel } from '../dist/shared_client.js';
const sharing = createClient({ url: 'ws://localhost:8080/ws', token: async () => 'jwt', shareKey: 'ann', shareAcrossTabs: true });
const shares: boolean = sharing.sharedAcrossTabs;
const explicit = createSharedClient({ url: 'ws://localhost:8080/ws', token: 'jwt', persistOutbox: true });
const tabChannel: TabChannel = explicit.channel('room:1');
explicit.presence('room:1').leave();
void shares;
void tabChannel;
// @ts-expect-error shareAcrossTabs is a boolean
createClient({ url: 'ws://localhost:8080/ws', shareAcrossTabs: 'yes' });
// @ts-expect-error sharedAcrossTabs is read-only
sharing.sharedAcrossTabs = false;
