import type { WasmClientConfig } from './tidewire_module.mjs';
import { checkTransportOptions } from './transport_fallback.js';
import type { TransportName } from './wire.js';

/**
 * A token, or a provider: a function that returns one (awaited before every connect and reconnect, and before
 * the token expires). A provider that throws or rejects (network error, HTTP 5xx) is a transient failure: it
 * is reported through onError (`token_provider_failed`) and retried with the reconnect backoff, counting as a
 * failed attempt. A provider that resolves to `null` says nobody is signed in: the client stops (state
 * `error`, code `auth_failed`) until reconnect(), or the page coming back online or becoming visible.
 */
export type TokenSource = string | (() => string | null | Promise<string | null>);

/**
 * Where to connect: a URL; a list of URLs, tried in turn when an attempt fails (the socket could not open, or
 * closed before the server authenticated it), the one that worked being kept for reconnects; or a function
 * returning a URL or a Promise of one, called before every connection attempt (a throw, a rejection or a value
 * that is not a ws:// URL is a failed attempt, reported through onError as `url_provider_failed` and retried
 * with the reconnect backoff). Every attempt, whichever URL it uses, takes one backoff step.
 */
export type UrlSource = string | readonly string[] | (() => string | Promise<string>);

/**
 * The client's options. The engine's defaults live in C++ (src/client/client_config.hpp, read at runtime with
 * `WasmClient.defaultConfig()`); the values below are documentation. To add an engine option: a ClientConfig
 * field and its `.field` line in bindings/tidewire_module.cpp, its declaration in tidewire_module.d.mts, and its
 * documented line here (tsc checks that every engine option is declared and validated here).
 */
export interface ClientOptions {
  /** The server's WebSocket URL, e.g. `ws://localhost:8080/ws`, a list of them or a function (UrlSource). Required. */
  url: UrlSource;
  /** JWT or a token provider. */
  token?: TokenSource;
  /** `'subprotocol'` (default): the token travels as `['jwt', token]`; `'message'`: as the first message. */
  authMode?: 'subprotocol' | 'message';
  /** Close the socket this long after the last subscriber leaves. Default 1000 ms. */
  graceMs?: number;
  /** Reconnect backoff: full jitter between 0 and min(cap, base * 2^attempt). Defaults 1000 / 30000 ms. */
  reconnectBaseMs?: number;
  reconnectCapMs?: number;
  /** After this many failed attempts in a row the state becomes `error`. 0 (default) = never give up. */
  maxReconnectAttempts?: number;
  /**
   * Client ping period (default 30 s) and the wall-clock silence after which the socket is probed (default
   * 60 s); an unanswered probe declares it dead after `probeTimeoutMs` (default 5 s). Probes also go out when
   * the page becomes visible, comes back online, is restored from the back/forward cache, or after sleep.
   */
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  probeTimeoutMs?: number;
  /** Close the socket this long after the page is hidden; reopen when visible. -1: never. Default 1000 ms. */
  hiddenCloseMs?: number;
  /** A send without the server's ack this long rejects with code `timeout`. 0: never. Default 10000 ms. */
  ackTimeoutMs?: number;
  /**
   * Time from opening the socket to `auth_success`; with a token provider, also the longest wait for its
   * answer (a provider that hangs counts as a failed attempt, retried with the backoff). Default 5000 ms.
   */
  authTimeoutMs?: number;
  /** Bounds of the queue of sends made while not connected. Defaults 1000 messages / 1 MiB. */
  outboxMaxMessages?: number;
  outboxMaxBytes?: number;
  /**
   * Keep sends that are queued or awaiting their ack in IndexedDB, so that they survive a reload or a crash of
   * the page: the next client with the same `url` (and `key`) resends them with their original ids (the server
   * drops duplicates), and reports their results through `onOutboxResult()`. Same bounds and TTL as the
   * in-memory outbox; storage failures (quota) are reported through onError as `outbox_storage_failed`.
   * `{ key }` names whose sends they are (e.g. the signed-in user's id): a client resends only those stored
   * under its own key, so that a page signed in as someone else never sends them. Default false.
   */
  persistOutbox?: boolean | { key: string };
  /** Log lifecycle events to the console with a `[tidewire]` prefix. Default false. */
  debug?: boolean;
  /**
   * Transports to try, in order (default `['websocket', 'sse', 'polling']`): one that fails to open
   * `fallbackAfterFailures` times in a row (default 2), or is unavailable, gives way to the next; on a fallback,
   * WebSocket is retried in the background every `upgradeProbeMs` (default 30000) and the client upgrades with
   * recovery. SSE and long polling need the server's HTTP transports (docs/PROTOCOL.md).
   */
  transports?: readonly TransportName[];
  fallbackAfterFailures?: number;
  upgradeProbeMs?: number;
  /**
   * In a browser page with SharedWorker (or Web Locks + BroadcastChannel), the tabs of one origin signed in as
   * the same user share one connection (issue #18): a SharedWorker (or the elected leader tab) holds it, and
   * this client's channels, presence, sync and chat run over it. false: this tab gets its own connection.
   * Default true. Who the tab is signed in as: `shareKey`; else, with a token provider, the `sub` of the JWT it
   * returns (the provider is called once before attaching, and that token is the first one used; the payload
   * is read, not verified: the server verifies the token); else the fixed token string. Not shared (whatever
   * this says): in Node and workers, with a `url` function, and when the provider's first token is not a JWT
   * with a string `sub` (or it returns null or fails): `client.sharedAcrossTabs` says so once `ready` resolved,
   * and `debug` logs why. A later token whose `sub` differs (the user signed in as someone else) never reaches
   * the connection of the first user: the tab moves, with its channels, to the new user's shared connection
   * (to one of its own if that token names no user). With `persistOutbox`, each tab keeps its own sends in
   * IndexedDB and the shared connection sends them under their ids.
   */
  shareAcrossTabs?: boolean;
  /**
   * Who the tab is signed in as (e.g. the user id): tabs share a connection only with tabs of the same `url` and
   * user. Overrides the user read from the tokens (no `sub` is read or checked then: the app keeps the key and
   * the tokens in step). Optional: a token provider's JWT `sub`, or a fixed token string, is the key otherwise.
   */
  shareKey?: string;
}

/** The options as given, validated (defaults are the engine's). */
export type ResolvedOptions = Readonly<ClientOptions>;

/** The numeric engine options, validated here and passed to the engine as they are. */
export type NumericOption = Exclude<keyof WasmClientConfig, 'url' | 'urlProvider' | 'authMode' | 'tokenProvider'>;
// Compile-time check: every numeric engine option is a documented ClientOptions field (and nothing else is).
const NUMERIC: { readonly [K in NumericOption]: K extends keyof ClientOptions ? true : never } = {
  graceMs: true,
  reconnectBaseMs: true,
  reconnectCapMs: true,
  maxReconnectAttempts: true,
  heartbeatIntervalMs: true,
  heartbeatTimeoutMs: true,
  probeTimeoutMs: true,
  hiddenCloseMs: true,
  ackTimeoutMs: true,
  authTimeoutMs: true,
  outboxMaxMessages: true,
  outboxMaxBytes: true,
};
export const NUMERIC_OPTIONS = Object.keys(NUMERIC) as NumericOption[];

/** Validates options (defaults are filled by the engine). Throws a TypeError that says what to fix. */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('tidewire: createClient(options) needs an options object such as { url: "ws://host/ws" }');
  }
  const { url } = options;
  if (typeof url !== 'function') {
    const list: readonly unknown[] = Array.isArray(url) ? url : [url];
    if (list.length === 0) throw new TypeError('tidewire: options.url is an empty list; give at least one ws:// or wss:// URL');
    list.forEach((u, i) => {
      const problem = urlProblem(u);
      if (problem !== undefined) {
        const where = list === url ? `options.url[${i}]` : 'options.url';
        throw new TypeError(`tidewire: ${where} ${problem} (options.url takes a URL, a list of URLs or a function returning one)`);
      }
    });
  }
  const token = options.token;
  if (token !== undefined && typeof token !== 'string' && typeof token !== 'function') {
    throw new TypeError('tidewire: options.token must be a string or a function returning a token');
  }
  if (options.authMode !== undefined && options.authMode !== 'subprotocol' && options.authMode !== 'message') {
    throw new TypeError(`tidewire: options.authMode must be 'subprotocol' or 'message'`);
  }
  checkTransportOptions(options);
  if (options.shareAcrossTabs !== undefined && typeof options.shareAcrossTabs !== 'boolean') {
    throw new TypeError('tidewire: options.shareAcrossTabs must be true or false');
  }
  if (options.shareKey !== undefined && typeof options.shareKey !== 'string') {
    throw new TypeError('tidewire: options.shareKey must be a string (who the tab is signed in as)');
  }
  const persist = options.persistOutbox;
  if (persist !== undefined && typeof persist !== 'boolean' && typeof persist?.key !== 'string') {
    throw new TypeError('tidewire: options.persistOutbox must be true, false or { key: string }');
  }
  for (const key of NUMERIC_OPTIONS) {
    const v = options[key];
    if (v === undefined) continue;
    const ok = typeof v === 'number' && Number.isFinite(v) && (v >= 0 || (key === 'hiddenCloseMs' && v === -1));
    if (!ok) {
      const what = key === 'hiddenCloseMs' ? 'a number >= 0, or -1 to never close' : 'a finite number >= 0';
      throw new TypeError(`tidewire: options.${key} must be ${what}, got ${String(v)}`);
    }
  }
  return { ...options };
}

/** Why `url` cannot be connected to (a sentence's end), or undefined when it is a valid ws:// or wss:// URL. */
export function urlProblem(url: unknown): string | undefined {
  if (typeof url !== 'string' || !/^wss?:\/\/[^\s]+$/.test(url)) return `must be a ws:// or wss:// URL, got ${JSON.stringify(url)}`;
  try {
    new URL(url);
  } catch {
    return `is not a valid URL: ${url}`;
  }
  return undefined;
}

/** A key that names the same UrlSource the same way (a list by its URLs, a function by itself). */
export function urlKey(url: UrlSource): string | (() => string | Promise<string>) {
  return typeof url === 'string' ? url : typeof url === 'function' ? url : url.join(' ');
}

/** The engine's configuration: its defaults (C++) with the options the user set. */
export function engineConfig(options: ResolvedOptions, defaults: WasmClientConfig, authMode: WasmClientConfig['authMode']): WasmClientConfig {
  const url = options.url;
  const config = {
    ...defaults,
    // A list or a function: the engine asks for the URL before every attempt (TidewireClient answers).
    url: typeof url === 'string' ? url : '',
    urlProvider: typeof url !== 'string',
    authMode,
    tokenProvider: typeof options.token === 'function',
  };
  for (const key of NUMERIC_OPTIONS) {
    const v = options[key];
    if (v !== undefined) config[key] = v;
  }
  return config;
}
