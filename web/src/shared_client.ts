// `tidewire/shared`: createSharedClient(), the explicit form of what createClient() does by default in a browser
// (issue #18): a client whose connection is shared by every tab of the origin signed in as the same user. The
// client is a TidewireClient like any (channels, presence, sync, chat, the React hooks work as with its own
// connection); its engine is remote (remote_engine.ts): a SharedWorker (shared_worker.ts) holds the connection,
// or, where SharedWorker is missing, the tab elected leader (tab_leader.ts).
//
// Unlike createClient, which quietly gives a per-tab client when it cannot share, createSharedClient refuses
// options that cannot be shared (a url function) with a TypeError that says what to do; where the browser
// cannot share, or a token provider's token names no user (a JWT `sub`), it still gives a per-tab client.
import type { Channel } from './channel.js';
import { createClient, type TidewireClient } from './client.js';
import { resolveOptions, type ClientOptions } from './options.js';

/** createClient's options; `shareKey` and `shareAcrossTabs` are ClientOptions' own. */
export type SharedClientOptions = ClientOptions;

/** What createSharedClient gives: a TidewireClient (named so for code written against the first slice). */
export type TabClient = TidewireClient;

/** A channel of a TabClient: a Channel (named so for code written against the first slice). */
export type TabChannel = Channel;

/**
 * A client whose connection is shared with the other tabs of this origin signed in as the same user; a per-tab
 * client where the browser has neither SharedWorker nor Web Locks + BroadcastChannel, with
 * `shareAcrossTabs: false`, or when a token provider's first token names no user (see ClientOptions.shareKey).
 */
export function createSharedClient(options: SharedClientOptions): TidewireClient {
  const resolved = resolveOptions(options);
  if (resolved.shareAcrossTabs !== false && typeof resolved.url === 'function') {
    throw new TypeError('tidewire: createSharedClient: options.url must be a URL or a list of URLs (a function cannot reach the shared connection)');
  }
  return createClient(resolved);
}
