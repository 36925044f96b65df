// A WebSocket look-alike over the server's HTTP transports (docs/PROTOCOL.md "HTTP transports"): Server-Sent
// Events or long polling to receive, POST to send. The wasm engine opens it exactly as it opens a WebSocket
// (transport_fallback.ts chooses which), so the engine stays transport-agnostic: it sees a socket that opens,
// carries text frames ('\n'-separated messages, as a WebSocket batch) and binary frames (section 13: binary
// channel messages, which the server sends in base64 and this socket hands on as ArrayBuffers, or Blobs with
// binaryType 'blob'), and closes with a code. A binary send is POSTed on its own as application/octet-stream.
//
// Why `fetch` with a streaming body and not `EventSource`: the token must travel in the Authorization header
// (never in the URL, where proxies and servers log it), and EventSource cannot set headers. fetch can, streams
// the body in every current browser and in Node 18+, and lets one parser serve SSE; long polling is plain fetch.
//
// A session outlives the HTTP requests: when a stream drops or a poll fails, this socket resumes the session
// (the same id, `ack` = the last sequence number it received) for up to RESUME_WINDOW_MS, so the engine sees
// nothing; the server resends what was not acknowledged, so nothing is lost or doubled. Only when the session
// is gone (404: it timed out, the server restarted) or the server closes it does the engine see a close, and it
// reconnects and recovers its channels (`since` offsets) as after any WebSocket drop.
import { CloseCode, HttpTransport } from './wire.js';

type Handler = ((event: unknown) => void) | null;

/** The two HTTP transports. */
export type HttpMode = 'sse' | 'polling';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** Thrown-away request results are aborted through this. */
function abortable(): AbortController {
  return new AbortController();
}

/** http(s)://host/path/<endpoint> for a ws(s)://host/path?query URL. */
export function httpEndpoint(wsUrl: string, endpoint: string): string {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.search = '';
  u.hash = '';
  u.pathname = u.pathname.replace(/\/$/, '') + endpoint;
  return u.href;
}

export class HttpSocket {
  readonly url: string;
  readonly mode: HttpMode;
  binaryType = 'arraybuffer';
  protocol = '';
  readyState = CONNECTING;
  onopen: Handler = null;
  onmessage: Handler = null;
  onclose: Handler = null;
  onerror: Handler = null;
  /** Why opening failed, when it did (for the fallback's choice). */
  failure: 'buffered' | 'refused' | 'network' | undefined;

  #token: string | undefined;
  #session: string | undefined;
  #ack = 0;
  #acked = 0;  // the last ack the server has been told
  #outbox: (string | Blob)[] = [];
  #posting = false;
  #closeAfterPost = false;
  #requests = new Set<AbortController>();
  #resumeSince = 0;  // when the current run of failed resumes started (0: none)
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #listeners = new Map<string, Set<(e: unknown) => void>>();

  constructor(url: string, protocols: string[] | undefined, mode: HttpMode) {
    this.url = url;
    this.mode = mode;
    if (protocols && protocols[0] === 'jwt' && protocols.length > 1) {
      this.#token = protocols[1];
      this.protocol = 'jwt';
      queueMicrotask(() => this.#receive());
    } else {
      // First-message auth: "open" at once, and open the session with the token of the first message (auth).
      queueMicrotask(() => {
        if (this.readyState !== CONNECTING) return;
        this.readyState = OPEN;
        this.#emit('open', { type: 'open' });
      });
    }
  }

  addEventListener(type: string, listener: (e: unknown) => void): void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: (e: unknown) => void): void {
    this.#listeners.get(type)?.delete(listener);
  }

  #emit(type: 'open' | 'message' | 'close' | 'error', event: unknown): void {
    const handler = { open: this.onopen, message: this.onmessage, close: this.onclose, error: this.onerror }[type];
    handler?.call(this, event);
    for (const l of this.#listeners.get(type) ?? []) l.call(this, event);
  }

  send(data: string | ArrayBufferView | ArrayBuffer | Blob): void {
    if (this.readyState !== OPEN) throw new Error('tidewire: HttpSocket is not open');
    // A binary frame: copied now into a Blob, as a WebSocket copies it (the engine's view is of its own memory),
    // and POSTed in order with the text around it.
    if (typeof data !== 'string') return void (this.#outbox.push(new Blob([data as BlobPart])), this.#post());
    // An `auth` message carries the token for the Authorization header: the first opens the session (first-message
    // auth), a later one (an in-band refresh, PROTOCOL.md section 8) also goes to the server as it is.
    if (data.includes('"auth"') && data.includes('"token"')) {
      try {
        const m = JSON.parse(data) as { type?: unknown; token?: unknown };
        if (m.type === 'auth' && typeof m.token === 'string') {
          const first = this.#token === undefined;
          this.#token = m.token;
          if (first) return void this.#receive();
        }
      } catch {
        /* not JSON: the server answers bad_json */
      }
    }
    this.#outbox.push(data);
    void this.#post();
  }

  close(code: number = CloseCode.normal, reason = ''): void {
    if (this.readyState >= CLOSING) return;
    const hadSession = this.#session !== undefined;
    this.readyState = CLOSING;
    for (const r of this.#requests) r.abort();
    this.#requests.clear();
    clearTimeout(this.#ackTimer);
    // Tell the server the session is over, so it does not hold one of the user's connection slots until it
    // times out (what is still in the outbox goes with it).
    if (hadSession) {
      this.#closeAfterPost = true;
      void this.#post(true);
    }
    queueMicrotask(() => this.#finish(code, reason, true));
  }

  #headers(): Record<string, string> {
    return this.#token ? { authorization: `Bearer ${this.#token}` } : {};
  }

  #query(extra = ''): string {
    if (this.#session === undefined) return extra ? `?${extra}` : '';
    return `?session=${encodeURIComponent(this.#session)}&ack=${this.#ack}${extra ? `&${extra}` : ''}`;
  }

  async #fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const controller = abortable();
    this.#requests.add(controller);
    try {
      return await fetch(url, { ...init, headers: { ...this.#headers(), ...(init.headers as object) }, signal: controller.signal, cache: 'no-store' });
    } finally {
      this.#requests.delete(controller);
    }
  }

  // ---- receiving: one SSE stream or one poll at a time, resumed while the session lives.
  async #receive(): Promise<void> {
    while (this.readyState === CONNECTING || this.readyState === OPEN) {
      let ok: boolean;
      let unreachable = false;
      try {
        ok = this.mode === 'sse' ? await this.#stream() : await this.#poll();
      } catch {
        ok = false;
        unreachable = true;  // fetch failed: no answer at all (refused, reset, DNS)
      }
      if (this.readyState >= CLOSING) return;
      // The server cannot be reached: a close, so the engine shows it and reconnects with recovery (its
      // unacknowledged sends are resent then). A stream that merely ended (a proxy cut it) is resumed below.
      if (unreachable && this.readyState === OPEN) return this.#fail(CloseCode.abnormal, 'the server cannot be reached');
      if (ok) {
        this.#resumeSince = 0;
        continue;
      }
      if (this.#session === undefined) return this.#fail(CloseCode.abnormal, 'could not open the HTTP transport', this.failure ?? 'network');
      // A dropped stream or a failed poll: resume the same session, for a while.
      const now = Date.now();
      if (this.#resumeSince === 0) this.#resumeSince = now;
      if (now - this.#resumeSince > HttpTransport.resumeWindowMs) return this.#fail(CloseCode.abnormal, 'the HTTP transport stopped answering');
      await new Promise((r) => setTimeout(r, HttpTransport.resumeRetryMs));
    }
  }

  /** A non-200 answer: the session is gone (close the socket) or the request was refused. False: retry. */
  async #refused(res: Response): Promise<false> {
    let code = '';
    try {
      code = ((await res.json()) as { error?: string }).error ?? '';
    } catch {
      /* not JSON: a proxy's page */
    }
    if (res.status === 401) {
      this.failure = 'refused';
      this.#fail(code === 'token_expired' ? CloseCode.tokenExpired : CloseCode.authFailed, `HTTP 401 ${code}`);
    } else if (res.status === 404 && code === 'unknown_session') {
      this.#fail(CloseCode.abnormal, 'the HTTP session ended; reconnecting recovers the channels');
    } else if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 409) {
      this.failure = 'refused';
      this.#fail(CloseCode.abnormal, `HTTP ${res.status} ${code}`);
    }
    return false;
  }

  #opened(session: string): void {
    const first = this.#session === undefined;
    this.#session = session;
    if (first && this.#outbox.length > 0) void this.#post();  // sent behind a first-message auth
    if (this.readyState !== CONNECTING) return;
    this.readyState = OPEN;
    this.#emit('open', { type: 'open' });
  }

  /** `batch`: '\n'-separated messages (a WebSocket text frame's content). */
  #deliver(batch: string, ack: number): void {
    this.#ack = Math.max(this.#ack, ack);
    if (batch.length > 0) this.#message(batch);
    this.#scheduleAck();
  }

  #message(data: unknown): void {
    this.#emit('message', { type: 'message', data });
  }

  /**
   * A binary frame given in base64, as a WebSocket's binary message (ArrayBuffer, or Blob per binaryType).
   * Not base64 (never from a tidewire server): atob throws, and the receive loop closes the socket (1006).
   */
  #binary(base64: string): void {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    this.#message(this.binaryType === 'blob' ? new Blob([bytes]) : bytes.buffer);
  }

  /**
   * A poll's message lines: split around the binary frames' lines (the prefix, then base64), so the JSON
   * messages between two of them go as one text frame, in the server's order.
   */
  #deliverPolled(body: string, ack: number): void {
    // Lines end at '\n' only (a JSON message may hold a raw U+2028, which a RegExp's ^ would take for a line end).
    `\n${body}`.split(new RegExp(`\n${HttpTransport.pollBinaryPrefix}([^\n]*)`)).forEach((part, i) => {
      if (this.readyState !== OPEN) return;
      if (i % 2) this.#binary(part);
      else if (part[1]) this.#message(part.slice(1));
    });
    this.#deliver('', ack);
  }

  /** SSE never acknowledges by itself: tell the server now and then, so what it keeps for a resume stays small. */
  #scheduleAck(): void {
    if (this.mode !== 'sse' || this.#ack === this.#acked || this.#ackTimer !== undefined) return;
    const now = this.#ack - this.#acked >= HttpTransport.ackEveryMessages;
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined;
      if (this.readyState === OPEN && this.#ack !== this.#acked) void this.#post(true);
    }, now ? 0 : HttpTransport.ackDelayMs);
  }

  async #poll(): Promise<boolean> {
    const res = await this.#fetch(httpEndpoint(this.url, HttpTransport.pollPath) + this.#query());
    if (res.status !== 200) return this.#refused(res);
    // NDJSON: the header line, then the messages as a WebSocket batch carries them (handed on as they are).
    const text = await res.text();
    const cut = text.indexOf('\n');
    const head = JSON.parse(cut < 0 ? text : text.slice(0, cut)) as { session: string; ack: number; close?: { code: number; reason: string } };
    this.#acked = this.#ack;  // this poll carried it
    this.#opened(head.session);
    if (this.readyState !== OPEN) return true;
    this.#deliverPolled(cut < 0 ? '' : text.slice(cut + 1), head.ack);
    if (head.close) this.#fail(head.close.code, head.close.reason);
    return true;
  }

  async #stream(): Promise<boolean> {
    const res = await this.#fetch(httpEndpoint(this.url, HttpTransport.ssePath) + this.#query());
    if (res.status !== 200) return this.#refused(res);
    this.#acked = this.#ack;
    if (!res.body) return false;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();  // not a TextDecoderStream: one stream stage less per chunk
    // A proxy that buffers responses never lets the first event through: give up on SSE then (long polling
    // works through such a proxy).
    const firstEvent = this.#session === undefined
      ? setTimeout(() => {
          this.failure = 'buffered';
          void reader.cancel();
        }, HttpTransport.sseOpenTimeoutMs)
      : undefined;
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        let start = 0;
        for (; (cut = buffer.indexOf('\n\n', start)) >= 0; ) {
          const block = buffer.slice(start, cut);
          start = cut + 2;
          // The server's batches: "id: N\ndata: m1\ndata: m2": one pass, no per-line work.
          if (block.startsWith('id: ') && this.readyState === OPEN) {
            const nl = block.indexOf('\n');
            if (nl > 0 && block.startsWith('data: ', nl + 1)) {
              this.#deliver(block.slice(nl + 7).replaceAll('\ndata: ', '\n'), Number(block.slice(4, nl)));
              if (this.readyState >= CLOSING) return true;
              continue;
            }
          }
          let event = 'message';
          let id = '';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line === '' || line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
            if (field === 'event') event = value;
            else if (field === 'id') id = value;
            else if (field === 'data') data.push(value);
          }
          if (data.length === 0) continue;
          if (event === 'open') {
            clearTimeout(firstEvent);
            this.#opened((JSON.parse(data[0]!) as { session: string }).session);
          } else if (event === 'close') {
            const c = JSON.parse(data[0]!) as { code: number; reason: string };
            this.#fail(c.code, c.reason);
            return true;
          } else if (this.readyState === OPEN) {
            if (event === HttpTransport.sseBinaryEvent) this.#binary(data[0]!);
            this.#deliver(event === HttpTransport.sseBinaryEvent ? '' : data.join('\n'), Number(id));
          }
          if (this.readyState >= CLOSING) return true;
        }
        buffer = buffer.slice(start);  // the unfinished event
      }
    } finally {
      clearTimeout(firstEvent);
    }
    return this.failure === 'buffered' ? false : this.readyState === OPEN;
  }

  // ---- sending: one POST at a time, in order: the text messages queued together in one body, a binary frame
  // in a body of its own (application/octet-stream: its bytes as they are, so the server's size limit is the
  // WebSocket frame's, with no base64 growth and nothing to decode).
  async #post(force = false): Promise<void> {
    if (this.#posting || this.#session === undefined) return;
    if (this.#outbox.length === 0 && !force) return;
    this.#posting = true;
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    // The text messages up to the first binary frame, or that frame alone (first: 0).
    const first = this.#outbox.findIndex((m) => typeof m !== 'string');
    const run = this.#outbox.splice(0, first < 0 ? Infinity : first || 1);
    const body = first ? run.join('\n') : (run[0] as Blob);
    const closing = this.#closeAfterPost && this.#outbox.length === 0;
    const ack = this.#ack;
    try {
      const controller = abortable();
      if (!closing) this.#requests.add(controller);
      const res = await fetch(httpEndpoint(this.url, HttpTransport.sendPath) + this.#query(closing ? 'close=1' : ''), {
        method: 'POST',
        body,
        headers: { ...this.#headers(), 'content-type': first ? 'text/plain' : HttpTransport.binaryContentType },
        signal: controller.signal,
        keepalive: closing,
      }).finally(() => this.#requests.delete(controller));
      if (res.status === 204) {
        this.#acked = Math.max(this.#acked, ack);
      } else if (!closing) {
        await this.#refused(res);
        if (res.status === 413) this.#fail(CloseCode.messageTooBig, 'message too big');
      }
    } catch {
      // A network failure: the server may or may not have the messages. The socket closes; the engine
      // resends what awaits an ack after reconnecting (with client ids, deduplicated by the server).
      if (!closing && this.readyState === OPEN) this.#fail(CloseCode.abnormal, 'the server cannot be reached');
    } finally {
      this.#posting = false;
    }
    // What is queued (before close(): then the close).
    if (!closing && (this.readyState === OPEN || this.#closeAfterPost)) void this.#post(this.#closeAfterPost);
  }

  #fail(code: number, reason: string, failure?: HttpSocket['failure']): void {
    if (failure) this.failure = failure;
    if (this.readyState === CLOSED) return;
    const wasOpen = this.readyState === OPEN;
    if (this.readyState !== CLOSING) {
      this.readyState = CLOSING;
      for (const r of this.#requests) r.abort();
      this.#requests.clear();
    }
    if (!wasOpen && code === CloseCode.abnormal) this.#emit('error', { type: 'error' });
    this.#finish(code, reason, false);
  }

  #finish(code: number, reason: string, wasClean: boolean): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    clearTimeout(this.#ackTimer);
    this.#emit('close', { type: 'close', code, reason, wasClean });
  }
}
