// A protocol-level client on the `ws` package (docs/PROTOCOL.md), independent of the wasm client: the one raw
// client of the node, browser, react and bundler tests, to speak the protocol directly or to publish into, or
// watch, a channel. Text frames and 0x00 binary JSON batches are split on '\n' and parsed; 0x01 binary broadcasts
// arrive as { binary: Buffer }; 0x02 compact batches are read by compact-batch.mjs.
//
//   const c = await connectAuthed(server, 'alice');            // or connectRaw(server.wsUrl, token)
//   await c.subscribe('room:x');
//   const { offset } = await c.publish('room:x', 'chat', { text: 'hi' });
//   const msg = await c.nextChannelMessage((m) => m.event === 'chat');
//   c.send({ type: 'ping', ref: 'p' });
//   await c.nextOfType('pong', { ref: 'p' });
//   await c.close();
import WebSocket from 'ws';
import { readCompactBatch } from './compact-batch.mjs';

export class RawClient {
  /** Messages no next() has taken yet, oldest first (tests may read or empty it). */
  inbox = [];
  /** Every message received, in order (next() takes nothing from it). */
  received = [];
  /** WebSocket frames received. */
  frames = 0;
  #waiters = new Set();
  #closedWith = null;
  #nextRef = 0;

  /** `new WebSocket(url, protocols, options)` of the `ws` package; next() waits `waitMs` at most by default. */
  constructor(url, protocols, options, { waitMs = 5000 } = {}) {
    this.waitMs = waitMs;
    this.ws = new WebSocket(url, protocols, options);
    /** Resolves with { code, reason } when the socket closes. */
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.#closedWith = { code, reason: reason.toString() };
        resolve(this.#closedWith);
        this.#settle();
      });
    });
    this.ws.on('error', () => {}); // surfaced through `opened` and `closed`
    this.ws.on('message', (data, isBinary) => {
      this.frames += 1;
      let text = data;
      if (isBinary && data[0] === 0x01) {
        this.#deliver({ binary: Buffer.from(data) });
      } else if (isBinary && data[0] === 0x02) {
        for (const m of readCompactBatch(data)) this.#deliver(m); // protocol v2 (?compact=1)
      } else {
        if (isBinary) text = data.subarray(1); // 0x00: a JSON batch
        for (const line of text.toString().split('\n')) if (line) this.#deliver(JSON.parse(line));
      }
      this.#settle();
    });
    /** Resolves on open; rejects with the socket's error, or, for a refused upgrade, an Error with `status` and `body`. */
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => {
          const status = response.statusCode;
          reject(Object.assign(new Error(`upgrade refused: HTTP ${status}`), { status, body }));
          this.ws.terminate(); // `ws` leaves a refused upgrade to its listener: end it, so `closed` resolves
        });
      });
    });
  }

  #deliver(msg) {
    this.received.push(msg);
    this.inbox.push(msg);
  }

  /** Hands inbox messages to the waiters they match; fails the rest once the socket is closed. */
  #settle() {
    for (const w of [...this.#waiters]) {
      const i = this.inbox.findIndex(w.pred);
      if (i < 0 && !this.#closedWith) continue;
      this.#waiters.delete(w);
      clearTimeout(w.timer);
      if (i >= 0) w.resolve(this.inbox.splice(i, 1)[0]);
      else w.reject(new Error(`socket closed (${this.#closedWith.code} ${this.#closedWith.reason}) while waiting for ${w.what}`));
    }
  }

  /** The first message matching `pred`, taken out of the inbox: one already received, or the next to arrive. */
  next(pred = () => true, what = 'a message', waitMs = this.waitMs) {
    return new Promise((resolve, reject) => {
      const w = { pred, what, resolve, reject };
      w.timer = setTimeout(() => {
        this.#waiters.delete(w);
        const last = JSON.stringify(this.inbox.slice(-5)).slice(0, 500);
        reject(new Error(`timed out after ${waitMs} ms waiting for ${what}; ${this.inbox.length} unclaimed, last: ${last}`));
      }, waitMs);
      this.#waiters.add(w);
      this.#settle();
    });
  }

  /** The next message of `type` whose fields equal those of `extra`. */
  nextOfType(type, extra = {}) {
    return this.next((m) => m.type === type && Object.entries(extra).every(([k, v]) => m[k] === v), type);
  }

  /** The next channel_message matching `pred`. */
  nextChannelMessage(pred = () => true, waitMs = this.waitMs) {
    return this.next((m) => m.type === 'channel_message' && pred(m), 'a channel_message', waitMs);
  }

  /** Sends an object as JSON; a string, Buffer or Uint8Array as it is. */
  send(msg) {
    this.ws.send(typeof msg === 'string' || msg instanceof Uint8Array ? msg : JSON.stringify(msg));
  }

  /** Sends `msg` with a fresh ref and resolves with the reply; rejects when the reply is not of type `okType`. */
  async request(msg, okType) {
    const ref = `r${++this.#nextRef}`;
    this.send({ ...msg, ref });
    const reply = await this.next((m) => m.ref === ref, `the reply to ${msg.type} ${ref}`);
    if (okType !== undefined && reply.type !== okType) throw new Error(`${msg.type} failed: ${JSON.stringify(reply)}`);
    return reply;
  }

  subscribe(channel) {
    return this.request({ type: 'subscribe', channel }, 'subscribed');
  }

  unsubscribe(channel) {
    return this.request({ type: 'unsubscribe', channel }, 'unsubscribed');
  }

  /** Publishes and resolves with the server's ack ({ offset, ... }). */
  publish(channel, event, payload) {
    return this.request({ type: 'channel_message', channel, event, payload }, 'ack');
  }

  /** Closes (if not closed yet) and resolves with { code, reason } once closed. */
  close() {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.close();
    return this.closed;
  }
}

/** Opens a RawClient authenticated by the subprotocol; resolves once auth_success came (kept as `.welcome`). */
export async function connectRaw(wsUrl, token, { timeoutMs = 5000 } = {}) {
  const c = new RawClient(wsUrl, ['jwt', token], undefined, { waitMs: timeoutMs });
  await c.opened;
  c.welcome = await c.next((m) => m.type === 'auth_success' || m.type === 'error', 'auth_success');
  if (c.welcome.type !== 'auth_success') {
    c.close();
    throw new Error(`auth failed: ${JSON.stringify(c.welcome)}`);
  }
  return c;
}

/** connectRaw for `user` on a server of tests/node/helpers/server.mjs, with extra token claims and a URL query. */
export function connectAuthed(server, user, { claims = {}, query = '' } = {}) {
  return connectRaw(server.wsUrl + query, server.token(user, claims));
}

/** Opens a WebSocket the server is expected to refuse; resolves with the HTTP status and the body (parsed if JSON). */
export async function refusedUpgrade(url, protocols, options) {
  const c = new RawClient(url, protocols, options);
  const refusal = await c.opened.then(() => null, (e) => e);
  if (refusal === null) {
    await c.close();
    throw new Error('the upgrade was accepted');
  }
  if (refusal.status === undefined) throw refusal;
  let body = refusal.body;
  try {
    body = JSON.parse(body);
  } catch {
    // not JSON: kept as text
  }
  return { status: refusal.status, body };
}
