// tidewire: the plain (framework-free) API.
export { createClient, TidewireClient, ANY_EVENT } from './client.js';
export type { ReconnectPolicy, RequestOptions } from './client.js';
export { Presence } from './presence.js';
export type { PresenceMember, PresenceOptions, PresenceStatus } from './presence.js';
export { SyncCollection } from './sync.js';
export type { SyncEvents, SyncItem, SyncSnapshot } from './sync.js';
export type { Store, StoreListener } from './store.js';
export { connectionStore } from './connection.js';
export type { ConnectionSnapshot } from './connection.js';
export { ChatClient, ChatRoom, chatTextLength, chatTextProblem } from './chat.js';
export { RoomList } from './chat_rooms.js';
export type { RoomListSnapshot } from './chat_rooms.js';
export { ChatService, createChatService } from './compat/chat_service.js';
export type { ChatMemberEvent, ChatMessage, ChatRoomInfo, ChatRoomSnapshot } from './chat.js';
export { Channel } from './channel.js';
export { TidewireError } from './errors.js';
export { loadModule } from './module.js';
export { loadStateModule } from './state_module.js';
export type { StateModule } from './state_module.js';
export type { ClientOptions, TokenSource, UrlSource } from './options.js';
export type {
  PostgresChangeEvent,
  PostgresChangesEvent,
  PostgresChangesFilter,
  PostgresChangesPayload,
  PostgresDeletePayload,
  PostgresInsertPayload,
  PostgresUpdatePayload,
} from './postgres_changes.js';
export type {
  ChannelMessage,
  ClientMetrics,
  Gap,
  MessageHandler,
  OutboxEntry,
  OutboxResult,
  RestoredSend,
  SendOptions,
  SendResult,
  StateChange,
} from './types.js';
export { CONNECTION_STATES, ChatLimits, CloseCode, ErrorCode, DEFAULTS, PROTOCOL_VERSION, PostgresChanges } from './wire.js';
export type { ConnectionState } from './wire.js';
export { configure, getDefaultClient, resetDefaultClient, realtimeClient, useRealtimeChannel } from './compat/default_client.js';
