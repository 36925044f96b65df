// What a tab's engine (remote_engine.ts) and the hub holding the shared connection (connection_hub.ts, in the
// SharedWorker or the leader tab) say to each other. The tab's TidewireClient runs as everywhere; only its
// engine is remote, so these are the engine's calls (tab to hub) and callbacks (hub to tab). Types only: both
// sides import them, neither bundles anything from here.
import type { ChannelMessage, ClientMetrics } from './types.js';
import type { ConnectionState } from './wire.js';

/** The client options a tab can post (functions cannot cross: the token provider stays in the tab). */
export interface SharedOptions {
  url: string | string[];
  /** A fixed token; with `tokenProvider` the hub asks a tab for one before every connect. */
  token?: string;
  tokenProvider: boolean;
  authMode?: 'subprotocol' | 'message';
  numeric: Record<string, number>;
  debug?: boolean;
  transports?: string[];
  fallbackAfterFailures?: number;
  upgradeProbeMs?: number;
}

/** A channel of the tab's engine: `key` is its engine channel id in the tab. */
export type TabMessage =
  /** First message of a tab: its id (the name of the Web Lock it holds while alive) and its options. */
  | { t: 'hello'; tab: string; options: SharedOptions; visible: boolean; online: boolean }
  /** The answer to `token?`: a token, null (nobody signed in) or the provider's failure. */
  | { t: 'token'; req: number; token?: string | null; error?: string }
  /**
   * `event`/`filter`: the channel's postgres_changes union ('' for none). `since`: where the tab's previous
   * connection was (after a new leader took over), to recover from there.
   */
  | { t: 'sub'; key: number; channel: string; event: string; filter: string; since?: { offset: number; epoch: string } }
  | { t: 'changes'; key: number; event: string; filter: string }
  | { t: 'unsub'; key: number }
  /** Subscribe again a channel whose subscription the server ended. */
  | { t: 'resub'; key: number }
  /** A JSON payload as its text, or a binary one as bytes; `id`: a persisted send's id ('' for none). */
  | { t: 'send'; key: number; channel: string; event: string; json?: string; bytes?: Uint8Array; ttlMs: number; id: string }
  /** client.request() (an RPC of docs/PROTOCOL.md sections 10-12), answered by `reply`. */
  | { t: 'req'; key: number; type: string; body: string; ttlMs: number }
  | { t: 'notify'; type: string; body: string }
  | { t: 'page'; visible: boolean; online: boolean }
  /** connect(), disconnect(), reconnect() and setReconnectPolicy() act on the shared connection. */
  | { t: 'call'; name: 'connect' | 'disconnect' | 'reconnect' }
  | { t: 'policy'; base: number; cap: number; max: number }
  /** Asks for the shared connection's metrics (answered by `state`). */
  | { t: 'metrics?' }
  | { t: 'bye' };

export type WorkerMessage =
  /** The connection's state (also the answer to `hello` and `metrics?`); `graceMs`: the hub engine's. */
  | {
      t: 'state';
      from: ConnectionState;
      to: ConnectionState;
      reason: string;
      userId: string;
      connectionId: string;
      metrics: ClientMetrics;
      graceMs: number;
    }
  /** The hub asks this tab's token provider (only tabs of the hub's identity ever attach to it). */
  | { t: 'token?'; req: number }
  | { t: 'subscribed'; key: number }
  /** `epoch`: the channel's stream, with m.offset the tab's recovery position. */
  | { t: 'msg'; key: number; m: ChannelMessage<unknown>; epoch: string }
  | { t: 'gap'; key: number; reason: string }
  /** presence_state or presence_diff, as the server's text. */
  | { t: 'presence'; key: number; json: string }
  /** The server ended the channel's subscription. */
  | { t: 'revoked'; key: number; code: string; message: string }
  | { t: 'ack'; key: number; ok: boolean; offset: number; code: string; message: string; details: string }
  /** `data`: the reply's data as JSON (the error's details when !ok). */
  | { t: 'reply'; key: number; ok: boolean; data: string; code: string; message: string }
  | { t: 'error'; code: string; message: string };
