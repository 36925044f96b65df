// Which transport the engine's next "WebSocket" really is: the module's socket class (module.ts installs
// `fallbackSocketClass`), so the wasm engine stays transport-agnostic and opens every transport the same way.
//
// Per server URL (the client's `url` without its query), a policy walks `transports` (default websocket, sse,
// polling): a transport that fails to open `fallbackAfterFailures` times in a row (default 2), or cannot even be
// constructed (no WebSocket, or a constructor that throws, as where it is blocked), gives way to the next one;
// after the last, the first is tried again. While on a fallback, a WebSocket is opened in the background every
// `upgradeProbeMs` (default 30 s); once one authenticates, it is closed and the fallback socket reports a close
// (1012) to the engine, which reconnects (now over WebSocket) and resubscribes with its `since` offsets: the
// server's recovery replays what the switch missed, and the offsets drop what was already delivered, so the
// upgrade loses nothing and doubles nothing. Acked sends in flight are resent with their ids (deduplicated).
//
// The HTTP transports' code is a chunk of its own (http_fallback.ts: HttpSocket, and the UpgradeProbe that tells
// when WebSocket works again), imported the first time a client falls back to (or is configured for) SSE or long
// polling: the plain API does not carry it, and a WebSocket never waits on it. Until it has loaded, a
// FallbackSocket on an HTTP transport is CONNECTING, as the HttpSocket would be.
import type { HttpSocket, UpgradeProbe } from './http_fallback.js';
import { CloseCode, TRANSPORT_DEFAULTS, type TransportName } from './wire.js';

export interface TransportOptions {
  transports?: readonly TransportName[];
  fallbackAfterFailures?: number;
  upgradeProbeMs?: number;
}

type SocketClass = new (url: string, protocols?: string[]) => object;
type Handler = ((event: unknown) => void) | null;

interface InnerSocket {
  readyState: number;
  binaryType: string;
  protocol?: string;
  onopen: Handler;
  onmessage: Handler;
  onclose: Handler;
  onerror: Handler;
  send(data: unknown): void;
  close(code?: number, reason?: string): void;
  addEventListener?(type: string, listener: (e: unknown) => void): void;
}

const UPGRADE_CLOSE = 1012;  // "service restart": the engine reconnects, over WebSocket this time

// Each client's policy is keyed by its URL without the query, with the fragment policyUrl() added: the engine
// passes the URL on to every socket it opens (inserting its query before the fragment), so a socket knows its
// client. The fragment never reaches the network (withoutFragment).
function policyKey(url: string): string {
  const hashAt = url.indexOf('#');
  if (hashAt >= 0) return url.slice(hashAt); // a client's own policy, whichever of its URLs (options.url as a list)
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function withoutFragment(url: string): string {
  const hashAt = url.indexOf('#');
  return hashAt < 0 ? url : url.slice(0, hashAt);
}

type HttpChunk = typeof import('./http_fallback.js');
let loadingHttp: Promise<HttpChunk> | undefined;
/** The HTTP transports' chunk once it has loaded. */
let http: HttpChunk | undefined;

/** The HTTP transports' chunk, imported once (again after a failed import: the network may be back). */
function loadHttp(): Promise<HttpChunk> {
  if (loadingHttp === undefined) {
    loadingHttp = import('./http_fallback.js').then((m) => (http = m));
    loadingHttp.catch(() => {
      loadingHttp = undefined;
    });
  }
  return loadingHttp;
}

let clients = 0;

/** The URL a client hands to its engine: `url` with a fragment naming the client's transport policy. */
export function policyUrl(url: string): string {
  return `${withoutFragment(url)}#tidewire-client-${++clients}`;
}

/** `url` (one of options.url's list, or its function's answer) under the policy of `policy` (a policyUrl()). */
export function withPolicy(url: string, policy: string): string {
  const hashAt = policy.indexOf('#');
  return withoutFragment(url) + (hashAt < 0 ? '' : policy.slice(hashAt));
}

class TransportPolicy {
  order: readonly TransportName[] = TRANSPORT_DEFAULTS.transports;
  fallbackAfter: number = TRANSPORT_DEFAULTS.fallbackAfterFailures;
  probeMs: number = TRANSPORT_DEFAULTS.upgradeProbeMs;
  index = 0;
  failures = 0;
  /** The transport of the socket that opened last. */
  current: TransportName | undefined;
  live: FallbackSocket | undefined;
  /** While on an HTTP transport: the background WebSocket that tells when to upgrade. */
  probe: UpgradeProbe | undefined;

  choose(): TransportName {
    return this.order[this.index] ?? 'websocket';
  }

  /** The transport after `kind` (wrapping around). */
  #next(): void {
    this.failures = 0;
    this.index = (this.index + 1) % this.order.length;
    // Falling back: the HTTP transports' chunk loads while the engine waits to reconnect.
    if (this.choose() !== 'websocket') loadHttp().catch(() => {});
  }

  unavailable(kind: TransportName): void {
    if (kind === this.choose()) this.#next();
  }

  failed(kind: TransportName): void {
    if (kind !== this.choose()) return;
    if (++this.failures >= this.fallbackAfter) this.#next();
  }

  opened(kind: TransportName, socket: FallbackSocket, base: () => SocketClass | undefined, protocols?: string[]): void {
    this.failures = 0;
    this.current = kind;
    this.live = socket;
    this.#stopProbe();
    // On an HTTP transport, its chunk (with the probe) has loaded.
    if (kind !== 'websocket' && this.order.includes('websocket') && http) {
      this.probe = new http.UpgradeProbe(socket.url, protocols, base, this.probeMs, () => {
        this.index = Math.max(0, this.order.indexOf('websocket'));
        this.failures = 0;
        if (this.live === socket) socket.upgrade();
      });
    }
  }

  closed(socket: FallbackSocket): void {
    if (this.live !== socket) return;
    this.live = undefined;
    this.#stopProbe();
  }

  #stopProbe(): void {
    this.probe?.stop();
    this.probe = undefined;
  }
}

const policies = new Map<string, TransportPolicy>();

function policyFor(url: string): TransportPolicy {
  const key = policyKey(url);
  let p = policies.get(key);
  if (!p) policies.set(key, (p = new TransportPolicy()));
  return p;
}

/** Sets the transports of the client whose policyUrl() is `url`. */
export function configureTransports(url: string, options: TransportOptions): void {
  const p = policyFor(url);
  const order = options.transports ?? TRANSPORT_DEFAULTS.transports;
  if (order.join() !== p.order.join()) {
    p.order = order;
    p.index = 0;
    p.failures = 0;
  }
  p.fallbackAfter = options.fallbackAfterFailures ?? TRANSPORT_DEFAULTS.fallbackAfterFailures;
  p.probeMs = options.upgradeProbeMs ?? TRANSPORT_DEFAULTS.upgradeProbeMs;
}

/** The transport of the last socket that opened for `url` (undefined before any did). */
export function currentTransport(url: string): TransportName | undefined {
  return policies.get(policyKey(url))?.current;
}

/** Validates ClientOptions.transports and friends. Throws a TypeError that says what to fix. */
export function checkTransportOptions(options: TransportOptions): void {
  const { transports, fallbackAfterFailures, upgradeProbeMs } = options;
  if (transports !== undefined) {
    const known: readonly string[] = TRANSPORT_DEFAULTS.transports;
    if (!Array.isArray(transports) || transports.length === 0 || transports.some((t) => !known.includes(t)) ||
        new Set(transports).size !== transports.length) {
      throw new TypeError(`tidewire: options.transports must list some of 'websocket', 'sse', 'polling' once each, got ${JSON.stringify(transports)}`);
    }
  }
  for (const [key, v] of Object.entries({ fallbackAfterFailures, upgradeProbeMs })) {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 1)) {
      throw new TypeError(`tidewire: options.${key} must be a number >= 1, got ${String(v)}`);
    }
  }
}

const CONNECTING = 0;
const CLOSING = 2;
const CLOSED = 3;

/** What the engine constructs: a WebSocket, or an HttpSocket (SSE, long polling), as the policy says. */
export class FallbackSocket {
  readonly url: string;
  readonly transport: TransportName;
  /** Undefined while the HTTP transports' chunk loads. */
  #inner: InnerSocket | undefined;
  #policy: TransportPolicy;
  #opened = false;
  #onopen: Handler = null;
  #onclose: Handler = null;
  #onerror: Handler = null;
  // What the engine set before the inner socket existed, handed on to it once it does.
  #onmessage: Handler = null;
  #binaryType = 'arraybuffer';
  #listeners: [string, (e: unknown) => void][] = [];
  #closeBeforeLoad: [number | undefined, string | undefined] | undefined;
  #failedLoad = false;

  constructor(keyedUrl: string, protocols: string[] | undefined, base: () => SocketClass | undefined) {
    const url = withoutFragment(keyedUrl);
    this.url = url;
    const policy = (this.#policy = policyFor(keyedUrl));
    let kind = policy.choose();
    let inner: InnerSocket | undefined;
    for (let tries = 0; kind === 'websocket' && !inner && tries < 2; tries++) {
      const Base = base();
      try {
        if (Base) inner = (protocols === undefined ? new Base(url) : new Base(url, protocols)) as InnerSocket;
      } catch {
        /* blocked */
      }
      if (!inner) {
        policy.unavailable('websocket');
        kind = policy.choose();
      }
    }
    this.transport = kind;
    if (inner) {
      this.#attach(inner, kind, base, protocols);
      return;
    }
    const mode = kind === 'polling' ? 'polling' : 'sse';
    loadHttp().then(
      (m) => this.#loaded(new m.HttpSocket(url, protocols, mode), kind, base, protocols),
      () => {
        // The chunk could not be fetched: a socket that failed to open (the engine retries, and so does the import),
        // or, closed meanwhile, one that closed.
        const closed = this.#closeBeforeLoad;
        this.#failedLoad = true;
        if (!closed) {
          policy.failed(kind);
          this.#onerror?.({ type: 'error' });
        }
        policy.closed(this);
        this.#onclose?.(closed
          ? { type: 'close', code: closed[0] ?? CloseCode.normal, reason: closed[1] ?? '', wasClean: true }
          : { type: 'close', code: CloseCode.abnormal, reason: 'could not load the HTTP transport', wasClean: false });
      },
    );
  }

  #loaded(inner: HttpSocket, kind: TransportName, base: () => SocketClass | undefined, protocols?: string[]): void {
    inner.binaryType = this.#binaryType;
    inner.onmessage = this.#onmessage;
    for (const [type, listener] of this.#listeners) inner.addEventListener(type, listener);
    this.#listeners = [];
    this.#attach(inner, kind, base, protocols);
    const close = this.#closeBeforeLoad;
    if (close === undefined) return;
    if (close[0] === undefined) inner.close();
    else inner.close(close[0], close[1]);
  }

  #attach(inner: InnerSocket, kind: TransportName, base: () => SocketClass | undefined, protocols?: string[]): void {
    const policy = this.#policy;
    this.#inner = inner;
    inner.onopen = (e) => {
      this.#opened = true;
      policy.opened(kind, this, base, protocols);
      this.#onopen?.(e);
    };
    inner.onclose = (e) => {
      if (!this.#opened) policy.failed(kind);
      policy.closed(this);
      this.#onclose?.(e);
    };
    inner.onerror = (e) => this.#onerror?.(e);
  }

  get readyState(): number {
    return this.#inner?.readyState ?? (this.#failedLoad ? CLOSED : this.#closeBeforeLoad ? CLOSING : CONNECTING);
  }
  get protocol(): string {
    return this.#inner?.protocol ?? '';
  }
  get binaryType(): string {
    return this.#inner?.binaryType ?? this.#binaryType;
  }
  set binaryType(v: string) {
    if (this.#inner) this.#inner.binaryType = v;
    else this.#binaryType = v;
  }
  // Messages go straight from the inner socket to the engine's handler: nothing added per frame.
  get onmessage(): Handler {
    return this.#inner ? this.#inner.onmessage : this.#onmessage;
  }
  set onmessage(h: Handler) {
    if (this.#inner) this.#inner.onmessage = h;
    else this.#onmessage = h;
  }
  get onopen(): Handler {
    return this.#onopen;
  }
  set onopen(h: Handler) {
    this.#onopen = h;
  }
  get onclose(): Handler {
    return this.#onclose;
  }
  set onclose(h: Handler) {
    this.#onclose = h;
  }
  get onerror(): Handler {
    return this.#onerror;
  }
  set onerror(h: Handler) {
    this.#onerror = h;
  }

  addEventListener(type: string, listener: (e: unknown) => void): void {
    if (this.#inner) this.#inner.addEventListener?.(type, listener);
    else this.#listeners.push([type, listener]);
  }

  send(data: unknown): void {
    // Not open before the inner socket exists: the HttpSocket's own refusal.
    if (!this.#inner) throw new Error('tidewire: HttpSocket is not open');
    this.#inner.send(data);
  }

  close(code?: number, reason?: string): void {
    this.#policy.closed(this);
    if (!this.#inner) {
      // Closed while the chunk loads: the HttpSocket is closed as soon as it exists (and reports the close then).
      this.#closeBeforeLoad ??= [code, reason];
      return;
    }
    if (code === undefined) this.#inner.close();
    else this.#inner.close(code, reason);
  }

  /** WebSocket works again: close this fallback socket so the engine reconnects (over WebSocket) and recovers. */
  upgrade(): void {
    const inner = this.#inner;
    if (!inner) return;  // only an open socket is upgraded
    const onclose = this.#onclose;
    inner.onopen = inner.onclose = inner.onerror = inner.onmessage = null;
    this.#policy.closed(this);
    inner.close(1000, 'upgrading to WebSocket');
    onclose?.({ type: 'close', code: UPGRADE_CLOSE, reason: 'upgrading to WebSocket', wasClean: true });
  }
}

/** The module's socket class: FallbackSocket over `base()` (resolved at each socket, so a late global counts). */
export function fallbackSocketClass(base: () => SocketClass | undefined): SocketClass {
  return class extends FallbackSocket {
    /** The WebSocket class underneath (tests, diagnostics). */
    static readonly base = base;
    constructor(url: string, protocols?: string[]) {
      super(url, protocols, base);
    }
  };
}

/** Drops a closed client's policy. */
export function releaseTransports(url: string): void {
  const key = policyKey(url);
  const p = policies.get(key);
  if (p?.live) p.live.close(1000, 'client closed');
  policies.delete(key);
}
