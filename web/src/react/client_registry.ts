// A module-level registry of clients by URL for hooks that connect directly (useWebSocket({url}),
// useRealtimeConnection({url})): components asking for the same URL share one client and so one socket, and a
// released client is closed only after a grace period, so StrictMode's unmount/remount and hot reload reuse it.
import { createClient, type TidewireClient } from '../client.js';
import { urlKey, type ClientOptions } from '../options.js';

/** How long a client with no user left is kept before it is closed. */
export const REGISTRY_GRACE_MS = 1000;

interface Entry {
  client: TidewireClient;
  refs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A URL, the URLs of a list, or a URL function: clients are shared by it (see urlKey). */
type Key = ReturnType<typeof urlKey>;
const entries = new Map<Key, Entry>();

function scheduleClose(url: Key, entry: Entry): void {
  clearTimeout(entry.timer);
  entry.timer = setTimeout(() => {
    entry.timer = undefined;
    if (entry.refs > 0) return;
    if (entries.get(url) === entry) entries.delete(url);
    entry.client.close();
  }, REGISTRY_GRACE_MS);
}

function entryFor(options: ClientOptions): Entry {
  const key = urlKey(options.url);
  let entry = entries.get(key);
  if (entry === undefined || entry.client.closed) {
    entry = { client: createClient(options), refs: 0, timer: undefined };
    entries.set(key, entry);
    // Created during a render that may never commit: closed after the grace period unless acquired.
    scheduleClose(key, entry);
  }
  return entry;
}

/**
 * The shared client for `options.url`, without holding it (for rendering). The first caller's options create
 * it; later callers with the same URL get that client whatever their other options.
 */
export function peekClient(options: ClientOptions): TidewireClient {
  return entryFor(options).client;
}

/** Holds the shared client for `options.url` until release(). */
export function acquireClient(options: ClientOptions): TidewireClient {
  const entry = entryFor(options);
  entry.refs += 1;
  clearTimeout(entry.timer);
  entry.timer = undefined;
  return entry.client;
}

/** Releases a hold taken by acquireClient(); the last release closes the client after REGISTRY_GRACE_MS. */
export function releaseClient(url: ClientOptions['url'], client: TidewireClient): void {
  const key = urlKey(url);
  const entry = entries.get(key);
  if (entry === undefined || entry.client !== client) return;
  entry.refs = Math.max(0, entry.refs - 1);
  if (entry.refs === 0) scheduleClose(key, entry);
}

/** Closes and forgets every registered client (tests, logout). */
export function resetClientRegistry(): void {
  for (const entry of entries.values()) {
    clearTimeout(entry.timer);
    entry.client.close();
  }
  entries.clear();
}

/** Number of clients in the registry and their holds, for tests and leak checks. */
export function clientRegistryStats(): { clients: number; refs: number } {
  let refs = 0;
  for (const e of entries.values()) refs += e.refs;
  return { clients: entries.size, refs };
}
