// What a tab (shared_client.ts) and the SharedWorker holding the connection (shared_worker.ts) say to each other
// over the worker's MessagePort. Types only: both sides import them, neither bundles anything from here.
import type { ChannelMessage, Gap, SendResult } from './types.js';
import type { ConnectionState } from './wire.js';

/** The client options a tab can post (functions cannot cross: the token provider stays in the tab). */
export interface SharedOptions {
  url: string | string[];
  /** A fixed token; with `tokenProvider` the worker asks a tab for one before every connect. */
  token?: string;
  tokenProvider: boolean;
  authMode?: 'subprotocol' | 'message';
  numeric: Record<string, number>;
  debug?: boolean;
}

export type TabMessage =
  /** First message of a tab: its id (the name of the Web Lock it holds while alive) and its options. */
  | { t: 'hello'; tab: string; options: SharedOptions; visible: boolean; online: boolean }
  /** The answer to `token?`: a token, null (nobody signed in) or the provider's failure. */
  | { t: 'token'; req: number; token?: string | null; error?: string }
  /** `since`: where the tab's previous connection was (after a new leader took over), to recover from there. */
  | { t: 'sub'; key: number; channel: string; since?: { offset: number; epoch: string } }
  | { t: 'unsub'; key: number }
  | { t: 'send'; key: number; channel: string; event: string; payload: unknown; ttlMs: number }
  /** client.request() (an RPC of docs/PROTOCOL.md sections 10-12), answered by `reply`. */
  | { t: 'req'; key: number; type: string; body: Record<string, unknown>; ttlMs: number }
  | { t: 'page'; visible: boolean; online: boolean }
  | { t: 'bye' };

export type WorkerMessage =
  | { t: 'state'; from: ConnectionState; to: ConnectionState; reason: string; userId: string }
  /** The worker asks this tab's token provider (only tabs of the worker's identity ever attach to it). */
  | { t: 'token?'; req: number }
  | { t: 'subscribed'; key: number }
  /** `epoch`: the channel's stream, with m.offset the tab's recovery position. */
  | { t: 'msg'; key: number; m: ChannelMessage<unknown>; epoch: string }
  | { t: 'gap'; key: number; gap: Gap }
  | { t: 'ack'; key: number; result?: SendResult; code?: string; message?: string }
  | { t: 'reply'; key: number; ok: boolean; data?: unknown; code?: string; message?: string; details?: Record<string, unknown> }
  | { t: 'error'; code: string; message: string; details?: Record<string, unknown> };
