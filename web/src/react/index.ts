// tidewire/react: hooks and components. React is a peer dependency of this entry only.
export { RealtimeProvider, useRealtimeClient } from './context.js';
export type { RealtimeProviderProps } from './context.js';
export { useRealtimeChannel } from './use_realtime_channel.js';
export type { UseRealtimeChannelOptions } from './use_realtime_channel.js';
