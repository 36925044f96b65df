// tidewire/react: hooks and components. React is a peer dependency of this entry only.
//
// Hooks are thin: the client owns the connection, reconnects, queues and reference counts; a hook subscribes
// while mounted, renders state through useSyncExternalStore (bursts render once, nothing is lost), calls the
// latest callbacks, and releases everything on unmount. Components only set `tw-` class names: render
// <TidewireStyles /> (or include `tidewireStyles`) for the default look.

// Provider and client access
export { RealtimeProvider, useRealtimeClient, useOptionalRealtimeClient } from './context.js';
export type { RealtimeProviderProps } from './context.js';
export { resetClientRegistry, clientRegistryStats, REGISTRY_GRACE_MS } from './client_registry.js';

// Hooks
export { useWebSocket, DEFAULT_WEBSOCKET_CHANNEL } from '../compat/use_web_socket.js';
export type { RealtimeWebSocket, DirectWebSocket, UseWebSocketOptions } from '../compat/use_web_socket.js';
export { useRealtimeChannel } from './use_realtime_channel.js';
export type { UseRealtimeChannelOptions, RealtimeChannel } from './use_realtime_channel.js';
export { useRealtimeConnection } from './use_realtime_connection.js';
export type { UseRealtimeConnectionOptions, RealtimeConnection } from './use_realtime_connection.js';
export { useRealtimePresence } from './use_realtime_presence.js';
export type { UseRealtimePresenceOptions, RealtimePresence, PresenceUser, PresenceUserInfo } from './use_realtime_presence.js';
export { useRealtimeSync } from './use_realtime_sync.js';
export type { UseRealtimeSyncOptions, RealtimeSync, SyncRecord } from './use_realtime_sync.js';
export { usePostgresChanges } from './use_postgres_changes.js';
export type { UsePostgresChangesOptions, PostgresChangesRows } from './use_postgres_changes.js';
// The store behind usePostgresChanges, for useSyncExternalStore elsewhere (here, not in the plain entry: +0.65 KB).
export { PostgresRows } from '../postgres_rows.js';
export type { PostgresRowsOptions, PostgresRowsSnapshot } from '../postgres_rows.js';
export { useChatRoom } from './use_chat_room.js';
export type { ChatRoomState } from './use_chat_room.js';
export { useChatRooms } from './use_chat_rooms.js';
export type { ChatRooms } from './use_chat_rooms.js';

// Components
export { tidewireStyles, TidewireStyles } from './styles.js';
export { STATE_LABELS } from './labels.js';
export { ConnectionStatus } from './connection_status.js';
export type { ConnectionStatusProps } from './connection_status.js';
export { RealtimeIndicator } from './realtime_indicator.js';
export type { RealtimeIndicatorProps } from './realtime_indicator.js';
export { RealtimeStatus, STATUS_BADGE_LABELS } from './realtime_status.js';
export type { RealtimeStatusProps } from './realtime_status.js';
export { ConnectionToast } from './connection_toast.js';
export type { ConnectionToastProps, ConnectionToastKind, ConnectionToastItem } from './connection_toast.js';
export { PresenceAvatars, initials, colorIndex } from './presence_avatars.js';
export type { PresenceAvatarsProps, AvatarUser } from './presence_avatars.js';
export { ChatRoomList, roomTitle } from './chat_room_list.js';
export type { ChatRoomListProps } from './chat_room_list.js';
export { ChatRoomView, countText, typingText } from './chat_room_view.js';
export type { ChatRoomViewProps } from './chat_room_view.js';
export { Chat } from './chat.js';
export type { ChatProps } from './chat.js';
export type { ConnectionSnapshot } from '../connection.js';
