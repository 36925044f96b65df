// The WebSocket client the wasm core uses in Node 20, which has no global WebSocket (Node 22 has one, and it is
// used instead). Written here rather than taken from the `ws` package because of start-up time: loading `ws`
// pulls in Node's http, https, tls and zlib modules, 16–25 ms, more than half of a cold first message; this
// file needs `net` (≈ 3 ms) and loads `tls` only for wss:// URLs.
//
// It implements RFC 6455 for a client (opening handshake with Sec-WebSocket-Accept and subprotocol checks,
// masked frames out, fragmented messages in, ping → pong, the closing handshake, strict UTF-8 and close codes)
// and the part of the browser WebSocket API that Emscripten's websocket.h glue uses: the constructor,
// on{open,message,error,close}, send, close, readyState, bufferedAmount, protocol, extensions, url, binaryType.
// Deliberate differences from a browser, all invisible to that glue:
// - binary messages arrive as a Uint8Array view of the received bytes instead of an ArrayBuffer copy (the glue
//   copies them into wasm memory at once, so one copy is saved per frame);
// - a failed handshake says why in the close event's reason (for example "HTTP 503"), which browsers hide, and
//   an upgrade refused with HTTP 401 closes with 4001 and no error event (see AUTH_REFUSED);
// - no permessage-deflate (tidewire's frames are small and batched; compression would cost CPU per message).
// It is loaded by module.ts through the package's "#node-websocket" import, so browser bundles never contain it.

interface NodeSocket {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  once(event: 'connect' | 'secureConnect', listener: () => void): unknown;
  write(data: Uint8Array | string): boolean;
  end(): void;
  destroy(): void;
  setNoDelay(noDelay: boolean): unknown;
  readonly writableLength: number;
}
interface ConnectOptions {
  host: string;
  port: number;
  servername?: string;
  ALPNProtocols?: string[];
}
interface NetModule {
  connect(options: ConnectOptions): NodeSocket;
}
interface CryptoModule {
  randomFillSync<T extends Uint8Array>(buffer: T): T;
}
interface FsModule {
  openSync(path: string, flags: string): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: null): number;
  closeSync(fd: number): void;
}
interface NodeProcessLike {
  getBuiltinModule(name: string): unknown;
}

type SocketEvent = { type: string; target: NodeWebSocket };
type MessageEventLike = SocketEvent & { data: string | Uint8Array };
type CloseEventLike = SocketEvent & { code: number; reason: string; wasClean: boolean };

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_HEADER_BYTES = 16 * 1024;
/** Larger messages fail the connection with 1009 (the server's own limits are far lower). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** After close(), how long to wait for the server to close the TCP connection before dropping it. */
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Why the connection failed: the close code this side sends, a message for the close event, and the close event's
 * code (1006, as browsers report every failure, except for a refused token: see AUTH_REFUSED).
 */
class ProtocolError {
  constructor(
    readonly code: number,
    readonly message: string,
    readonly eventCode = 1006,
  ) {}
}

/**
 * An upgrade refused with HTTP 401 is reported as a close with 4001 (the protocol's auth_failed, PROTOCOL.md
 * section 1) and no error event, so the client handles a bad token in the subprotocol as it does a bad first-message
 * token (fresh token, one retry, then auth_failed) instead of retrying forever. Browsers cannot tell a 401 apart.
 */
const AUTH_REFUSED = 4001;

const enum Op {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xa,
}

const builtin = (name: string): unknown => {
  const proc = (globalThis as { process?: NodeProcessLike }).process;
  if (!proc?.getBuiltinModule) throw new Error('tidewire: this WebSocket needs Node 20.16 or later (process.getBuiltinModule)');
  return proc.getBuiltinModule(name);
};

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const latin1Decoder = new TextDecoder('latin1'); // HTTP header bytes, one character each
// `net` (≈ 3 ms to load) is loaded with this file, which module.ts imports while the wasm compiles off the main
// thread. `crypto` (≈ 10 ms, as much as the rest of a cold start) is not loaded at all where /dev/urandom exists:
// random bytes come from there and the handshake's SHA-1 is computed below.
const net = builtin('net') as NetModule;
const fs = builtin('fs') as FsModule; // loaded by Node's own start-up
let randomPool: Uint8Array = new Uint8Array(0); // read from the CSPRNG 4 KB at a time, used once
let randomAt = 0;

/** Fills `buf` from the kernel's CSPRNG (/dev/urandom), or from `crypto` where there is none (Windows). */
function randomFill(buf: Uint8Array): Uint8Array {
  try {
    const fd = fs.openSync('/dev/urandom', 'r');
    try {
      for (let at = 0; at < buf.length; ) {
        const n = fs.readSync(fd, buf, at, buf.length - at, null);
        if (n <= 0) throw new Error('short read from /dev/urandom');
        at += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    return buf;
  } catch {
    return (builtin('crypto') as CryptoModule).randomFillSync(buf);
  }
}

/**
 * SHA-1 (FIPS 180-4) of UTF-8 text, in base64. Only for checking the handshake's Sec-WebSocket-Accept, which proves
 * the server speaks WebSocket and is no security measure (RFC 6455 section 1.3); here so that connecting does not
 * load `crypto`. Checked against crypto.createHash in tests/node/node-websocket.test.mjs.
 */
export function sha1Base64(text: string): string {
  const msg = encoder.encode(text);
  const n = msg.length;
  const words = (((n + 8) >> 6) + 1) * 16; // whole 64-byte blocks holding the text, 0x80 and the bit length
  const m = new Uint32Array(words);
  for (let i = 0; i < n; i += 1) m[i >> 2] |= msg[i] << (24 - (i & 3) * 8);
  m[n >> 2] |= 0x80 << (24 - (n & 3) * 8);
  m[words - 1] = n * 8;
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const w = new Uint32Array(80);
  for (let block = 0; block < words; block += 16) {
    for (let t = 0; t < 16; t += 1) w[t] = m[block + t];
    for (let t = 16; t < 80; t += 1) {
      const v = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (v << 1) | (v >>> 31);
    }
    let [a, b, c, d, e] = h;
    for (let t = 0; t < 80; t += 1) {
      const f = t < 20 ? (b & c) | (~b & d) : t < 40 || t >= 60 ? b ^ c ^ d : (b & c) | (b & d) | (c & d);
      const k = t < 20 ? 0x5a827999 : t < 40 ? 0x6ed9eba1 : t < 60 ? 0x8f1bbcdc : 0xca62c1d6;
      const next = (((a << 5) | (a >>> 27)) + f + e + k + w[t]) >>> 0;
      e = d;
      d = c;
      c = ((b << 30) | (b >>> 2)) >>> 0;
      b = a;
      a = next;
    }
    h[0] = (h[0] + a) >>> 0;
    h[1] = (h[1] + b) >>> 0;
    h[2] = (h[2] + c) >>> 0;
    h[3] = (h[3] + d) >>> 0;
    h[4] = (h[4] + e) >>> 0;
  }
  const digest = new Uint8Array(20);
  h.forEach((v, i) => {
    digest[i * 4] = v >>> 24;
    digest[i * 4 + 1] = (v >>> 16) & 0xff;
    digest[i * 4 + 2] = (v >>> 8) & 0xff;
    digest[i * 4 + 3] = v & 0xff;
  });
  return base64(digest);
}

/** `n` (≤ 4096) unpredictable bytes from the pool: no syscall per frame or per connection. */
function randomBytes(n: number): Uint8Array {
  if (randomAt + n > randomPool.length) {
    randomPool = randomFill(new Uint8Array(4096));
    randomAt = 0;
  }
  randomAt += n;
  return randomPool.subarray(randomAt - n, randomAt);
}

/** Four unpredictable bytes per frame (RFC 6455 section 5.3). */
function nextMask(): number {
  const m = randomBytes(4);
  return ((m[0] << 24) | (m[1] << 16) | (m[2] << 8) | m[3]) >>> 0;
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** The parts as one array (the part itself when there is one). Parts are kept as views: Node hands each read
 * its own buffer and nothing here writes into one, so only joining copies. */
function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The whole length (header and payload) of the server frame starting at `at`, or -1 while its header is
 * incomplete. Refuses what no server may send: masked frames, reserved bits, oversized payloads.
 */
function frameLength(bytes: Uint8Array, at: number): number {
  const left = bytes.length - at;
  if (left < 2) return -1;
  const b1 = bytes[at + 1];
  if ((b1 & 0x80) !== 0) throw new ProtocolError(1002, 'the server sent a masked frame');
  if ((bytes[at] & 0x70) !== 0) throw new ProtocolError(1002, 'the server set reserved frame bits (no extension was negotiated)');
  let length = b1 & 0x7f;
  let head = 2;
  if (length === 126) {
    if (left < 4) return -1;
    length = (bytes[at + 2] << 8) | bytes[at + 3];
    head = 4;
  } else if (length === 127) {
    if (left < 10) return -1;
    const high = ((bytes[at + 2] << 24) | (bytes[at + 3] << 16) | (bytes[at + 4] << 8) | bytes[at + 5]) >>> 0;
    length = ((bytes[at + 6] << 24) | (bytes[at + 7] << 16) | (bytes[at + 8] << 8) | bytes[at + 9]) >>> 0;
    if (high !== 0 || length > MAX_MESSAGE_BYTES) {
      throw new ProtocolError(1009, `the server sent a message larger than ${MAX_MESSAGE_BYTES} bytes`);
    }
    head = 10;
  }
  return head + length;
}

/** Index of the blank line ending HTTP headers ("\r\n\r\n"), searching from `from`; -1 when not there yet. */
function headerEnd(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 3 < bytes.length; i += 1) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

/** A close code an endpoint may send (RFC 6455 section 7.4; 1004–1006 and 1015 are never on the wire). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** One client frame: FIN set, masked. */
export function encodeFrame(opcode: number, payload: Uint8Array, mask: number = nextMask()): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 0x10000 ? 4 : 10;
  const frame = new Uint8Array(head + 4 + n);
  frame[0] = 0x80 | opcode;
  if (n < 126) {
    frame[1] = 0x80 | n;
  } else if (n < 0x10000) {
    frame[1] = 0x80 | 126;
    frame[2] = n >>> 8;
    frame[3] = n & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    // bytes 2–5: the high 32 bits, zero for anything this process can hold
    frame[6] = n >>> 24;
    frame[7] = (n >>> 16) & 0xff;
    frame[8] = (n >>> 8) & 0xff;
    frame[9] = n & 0xff;
  }
  const k0 = mask >>> 24;
  const k1 = (mask >>> 16) & 0xff;
  const k2 = (mask >>> 8) & 0xff;
  const k3 = mask & 0xff;
  frame[head] = k0;
  frame[head + 1] = k1;
  frame[head + 2] = k2;
  frame[head + 3] = k3;
  const at = head + 4;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    frame[at + i] = payload[i] ^ k0;
    frame[at + i + 1] = payload[i + 1] ^ k1;
    frame[at + i + 2] = payload[i + 2] ^ k2;
    frame[at + i + 3] = payload[i + 3] ^ k3;
  }
  for (; i < n; i += 1) frame[at + i] = payload[i] ^ ((mask >>> ((3 - (i & 3)) * 8)) & 0xff);
  return frame;
}

function closePayload(code: number, reason: string): Uint8Array {
  const text = encoder.encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

/** Calls an event handler; what it throws is reported (as an uncaught exception, like Node's EventTarget does)
 * without stopping this socket, as browsers do. */
function dispatch<E>(handler: ((event: E) => void) | null, event: E): void {
  if (!handler) return;
  try {
    handler(event);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

export class NodeWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;

  readonly url: string;
  readyState = 0;
  protocol = '';
  readonly extensions = '';
  binaryType: 'arraybuffer' | 'blob' = 'blob';

  onopen: ((event: SocketEvent) => void) | null = null;
  onmessage: ((event: MessageEventLike) => void) | null = null;
  onerror: ((event: SocketEvent) => void) | null = null;
  onclose: ((event: CloseEventLike) => void) | null = null;

  #socket: NodeSocket | undefined;
  #key: string;
  #protocols: string[];
  #handshake: Uint8Array | undefined = new Uint8Array(0); // response bytes until the handshake completes
  #partial: Uint8Array[] = []; // the received start of a frame whose end has not arrived yet
  #partialBytes = 0;
  #partialFrame = -1; // that frame's whole length once its header is in, else -1
  #fragments: Uint8Array[] = [];
  #fragmentBytes = 0;
  #fragmentOp = -1; // the opcode of the message being reassembled, -1 when none
  #closeSent = false;
  #closeReceived: { code: number; reason: string } | undefined;
  #failure: ProtocolError | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #finished = false;

  constructor(url: string | URL, protocols?: string | string[]) {
    const u = new URL(url);
    if (u.protocol === 'http:') u.protocol = 'ws:';
    if (u.protocol === 'https:') u.protocol = 'wss:';
    if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
      throw new SyntaxError(`WebSocket URL must start with ws:// or wss:// (got "${String(url)}")`);
    }
    if (u.hash) u.hash = '';
    this.url = u.href;
    this.#protocols = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
    for (const p of this.#protocols) {
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(p)) throw new SyntaxError(`Invalid WebSocket subprotocol "${p}"`);
    }
    if (new Set(this.#protocols).size !== this.#protocols.length) throw new SyntaxError('Duplicate WebSocket subprotocols');
    this.#key = base64(randomBytes(16));

    const secure = u.protocol === 'wss:';
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    const port = u.port ? Number(u.port) : secure ? 443 : 80;
    const request =
      `GET ${u.pathname}${u.search} HTTP/1.1\r\n` +
      `Host: ${u.host}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${this.#key}\r\nSec-WebSocket-Version: 13\r\n` +
      (this.#protocols.length > 0 ? `Sec-WebSocket-Protocol: ${this.#protocols.join(', ')}\r\n` : '') +
      '\r\n';
    const socket = secure
      ? (builtin('tls') as NetModule).connect({ host, port, servername: /^[\d.]+$|:/.test(host) ? undefined : host, ALPNProtocols: ['http/1.1'] })
      : net.connect({ host, port });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('error', (error) => this.#fail(new ProtocolError(1006, error.message)));
    socket.on('end', () => socket.end());
    socket.on('close', () => this.#finish());
  }

  get bufferedAmount(): number {
    return this.#socket?.writableLength ?? 0;
  }

  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.readyState === NodeWebSocket.CONNECTING) {
      throw new DOMException('WebSocket is still connecting: wait for the open event before sending', 'InvalidStateError');
    }
    if (this.readyState !== NodeWebSocket.OPEN || this.#closeSent) return; // as browsers do: dropped once closing
    if (typeof data === 'string') {
      this.#write(encodeFrame(Op.Text, encoder.encode(data)));
    } else if (data instanceof ArrayBuffer) {
      this.#write(encodeFrame(Op.Binary, new Uint8Array(data)));
    } else {
      this.#write(encodeFrame(Op.Binary, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    }
  }

  close(code?: number, reason?: string): void {
    if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999)) {
      throw new DOMException(`WebSocket close code must be 1000 or 3000–4999 (got ${code})`, 'InvalidAccessError');
    }
    const text = reason ?? '';
    if (encoder.encode(text).length > 123) throw new DOMException('WebSocket close reason must be at most 123 bytes of UTF-8', 'SyntaxError');
    if (this.readyState >= NodeWebSocket.CLOSING) return;
    if (this.readyState === NodeWebSocket.CONNECTING) {
      this.#fail(new ProtocolError(1006, 'closed before the connection was established'));
      return;
    }
    this.readyState = NodeWebSocket.CLOSING;
    this.#sendClose(code ?? 1005, text);
  }

  // ---- receiving

  #onData(chunk: Uint8Array): void {
    if (this.#finished || this.#failure) return;
    try {
      let bytes = chunk;
      if (this.#handshake !== undefined) {
        const rest = this.#onHandshakeData(chunk);
        if (rest === undefined) return;
        bytes = rest;
      }
      if (this.#partialBytes > 0) {
        const rest = this.#completePartial(bytes);
        if (rest === undefined) return;
        bytes = rest;
      }
      const used = this.#parseFrames(bytes);
      if (used < bytes.length && !this.#finished && !this.#failure) {
        const rest = bytes.subarray(used);
        this.#partial = [rest];
        this.#partialBytes = rest.length;
        this.#partialFrame = frameLength(rest, 0);
      }
    } catch (e) {
      this.#fail(e instanceof ProtocolError ? e : new ProtocolError(1011, String(e)));
    }
  }

  /** Adds bytes to a frame split across reads; once it is whole, handles it and returns the bytes after it. */
  #completePartial(bytes: Uint8Array): Uint8Array | undefined {
    if (this.#partialFrame === -1) {
      // Fewer than 10 bytes are buffered (a whole header would have given the length): join them with the next.
      const head = concat([...this.#partial, bytes.subarray(0, 10)]);
      this.#partialFrame = frameLength(head, 0);
    }
    const missing = this.#partialFrame === -1 ? Infinity : this.#partialFrame - this.#partialBytes;
    if (bytes.length < missing) {
      this.#partial.push(bytes);
      this.#partialBytes += bytes.length;
      return undefined;
    }
    this.#partial.push(bytes.subarray(0, missing));
    const frame = concat(this.#partial);
    this.#partial = [];
    this.#partialBytes = 0;
    this.#partialFrame = -1;
    this.#parseFrames(frame);
    return bytes.subarray(missing);
  }

  /** Returns the bytes after the response headers once they are complete, else undefined. */
  #onHandshakeData(chunk: Uint8Array): Uint8Array | undefined {
    const before = this.#handshake ?? new Uint8Array(0);
    const bytes = before.length === 0 ? chunk : concat([before, chunk]);
    const end = headerEnd(bytes, Math.max(0, before.length - 3));
    if (end === -1) {
      if (bytes.length > MAX_HEADER_BYTES) throw new ProtocolError(1006, 'the server sent an oversized handshake response');
      this.#handshake = bytes;
      return undefined;
    }
    this.#handshake = undefined;
    this.#checkHandshake(latin1Decoder.decode(bytes.subarray(0, end)));
    this.readyState = NodeWebSocket.OPEN;
    dispatch(this.onopen, { type: 'open', target: this });
    return bytes.subarray(end + 4);
  }

  #checkHandshake(head: string): void {
    const [status = '', ...lines] = head.split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3})/.exec(status);
    if (!m) throw new ProtocolError(1006, `the server did not answer with HTTP/1.1 (got "${status.slice(0, 80)}")`);
    if (m[1] !== '101') {
      const message = `the server refused the WebSocket upgrade: HTTP ${m[1]}`;
      throw new ProtocolError(1006, message, m[1] === '401' ? AUTH_REFUSED : 1006);
    }
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    if (headers.get('upgrade')?.toLowerCase() !== 'websocket') throw new ProtocolError(1006, 'the server response lacks "Upgrade: websocket"');
    if (!/(^|,)\s*upgrade\s*(,|$)/i.test(headers.get('connection') ?? '')) throw new ProtocolError(1006, 'the server response lacks "Connection: Upgrade"');
    const accept = sha1Base64(this.#key + GUID);
    if (headers.get('sec-websocket-accept') !== accept) throw new ProtocolError(1006, 'the server sent a wrong Sec-WebSocket-Accept');
    if (headers.has('sec-websocket-extensions')) throw new ProtocolError(1006, 'the server chose an extension this client did not offer');
    const chosen = headers.get('sec-websocket-protocol');
    if (chosen !== undefined && !this.#protocols.includes(chosen)) throw new ProtocolError(1006, `the server chose subprotocol "${chosen}", which was not offered`);
    if (chosen === undefined && this.#protocols.length > 0) throw new ProtocolError(1006, 'the server chose none of the offered subprotocols');
    this.protocol = chosen ?? '';
  }

  /** Handles every complete frame in bytes; returns how many bytes they took. */
  #parseFrames(bytes: Uint8Array): number {
    let at = 0;
    while (!this.#finished && !this.#failure) {
      const total = frameLength(bytes, at);
      if (total === -1 || bytes.length - at < total) break;
      const b0 = bytes[at];
      const length = bytes[at + 1] & 0x7f;
      const head = length < 126 ? 2 : length === 126 ? 4 : 10;
      if (this.#fragmentBytes + total - head > MAX_MESSAGE_BYTES) {
        throw new ProtocolError(1009, `the server sent a message larger than ${MAX_MESSAGE_BYTES} bytes`);
      }
      this.#onFrame((b0 & 0x80) !== 0, b0 & 0x0f, bytes.subarray(at + head, at + total));
      at += total;
    }
    return at;
  }

  #onFrame(fin: boolean, opcode: number, payload: Uint8Array): void {
    switch (opcode) {
      case Op.Text:
      case Op.Binary:
        if (this.#fragmentOp !== -1) throw new ProtocolError(1002, 'the server started a message inside a fragmented one');
        if (fin) return this.#deliver(opcode, payload);
        this.#fragmentOp = opcode;
        this.#fragments.push(payload);
        this.#fragmentBytes = payload.length;
        return;
      case Op.Continuation: {
        if (this.#fragmentOp === -1) throw new ProtocolError(1002, 'the server sent a continuation frame outside a message');
        this.#fragments.push(payload);
        this.#fragmentBytes += payload.length;
        if (!fin) return;
        const whole = concat(this.#fragments);
        const op = this.#fragmentOp;
        this.#fragments = [];
        this.#fragmentBytes = 0;
        this.#fragmentOp = -1;
        return this.#deliver(op, whole);
      }
      case Op.Close:
      case Op.Ping:
      case Op.Pong:
        if (!fin || payload.length > 125) throw new ProtocolError(1002, 'the server sent a fragmented or oversized control frame');
        if (opcode === Op.Ping) {
          if (!this.#closeSent) this.#write(encodeFrame(Op.Pong, payload));
        } else if (opcode === Op.Close) {
          this.#onCloseFrame(payload);
        }
        return;
      default:
        throw new ProtocolError(1002, `the server sent unknown opcode ${opcode}`);
    }
  }

  #deliver(opcode: number, payload: Uint8Array): void {
    if (this.readyState !== NodeWebSocket.OPEN) return; // closing: messages after our close frame are dropped
    let data: string | Uint8Array;
    if (opcode === Op.Text) {
      try {
        data = strictDecoder.decode(payload);
      } catch {
        throw new ProtocolError(1007, 'the server sent a text message that is not valid UTF-8');
      }
    } else {
      data = payload;
    }
    dispatch(this.onmessage, { type: 'message', target: this, data });
  }

  #onCloseFrame(payload: Uint8Array): void {
    let code = 1005;
    let reason = '';
    if (payload.length === 1) throw new ProtocolError(1002, 'the server sent a 1-byte close frame');
    if (payload.length >= 2) {
      code = (payload[0] << 8) | payload[1];
      if (!isValidCloseCode(code)) throw new ProtocolError(1002, `the server sent invalid close code ${code}`);
      try {
        reason = strictDecoder.decode(payload.subarray(2));
      } catch {
        throw new ProtocolError(1007, 'the server sent a close reason that is not valid UTF-8');
      }
    }
    this.#closeReceived = { code, reason };
    this.readyState = NodeWebSocket.CLOSING;
    if (!this.#closeSent) this.#sendClose(code, '');
    // The server closes TCP first (RFC 6455 section 7.1.1); ending our side lets it.
    this.#socket?.end();
  }

  // ---- sending and closing

  #write(frame: Uint8Array): void {
    this.#socket?.write(frame);
  }

  /** Sends a close frame (no status code for 1005) and waits a bounded time for the server to close TCP. */
  #sendClose(code: number, reason: string): void {
    this.#closeSent = true;
    this.#write(encodeFrame(Op.Close, code === 1005 ? new Uint8Array(0) : closePayload(code, reason)));
    this.#closeTimer ??= setTimeout(() => this.#socket?.destroy(), CLOSE_TIMEOUT_MS);
    (this.#closeTimer as { unref?: () => void }).unref?.();
  }

  #fail(error: ProtocolError): void {
    if (this.#finished || this.#failure) return;
    this.#failure = error;
    const socket = this.#socket;
    if (this.readyState === NodeWebSocket.OPEN && !this.#closeSent && error.code !== 1006) {
      this.#sendClose(error.code, '');
      socket?.end();
    } else {
      socket?.destroy();
    }
    this.readyState = NodeWebSocket.CLOSING;
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    this.readyState = NodeWebSocket.CLOSED;
    this.#partial = [];
    this.#fragments = [];
    const failure = this.#failure;
    const received = this.#closeReceived;
    const authRefused = failure?.eventCode === AUTH_REFUSED;
    if ((failure || !received) && !authRefused) dispatch(this.onerror, { type: 'error', target: this });
    const clean = !failure && received !== undefined;
    dispatch(this.onclose, {
      type: 'close',
      target: this,
      code: clean ? received.code : (failure?.eventCode ?? 1006),
      reason: clean ? received.reason : (failure?.message ?? 'the connection closed without a close frame'),
      wasClean: clean,
    });
  }
}
