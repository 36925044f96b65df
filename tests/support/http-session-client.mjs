// A raw client of the HTTP transports (docs/PROTOCOL.md "HTTP transports") for tests and benches: real HTTP
// requests with Node's fetch (polls, sends) and node:http (the SSE stream, read as it arrives), no library code.
//
//   const h = new HttpSessionClient(server.httpUrl, token);
//   await h.poll();                       // opens a session; h.received has auth_success
//   await h.send({ type: 'subscribe', channel: 'room', ref: 's1' });
//   const sse = h.openStream();           // resumes the session as an SSE stream (ack = last seen)
//   await h.next((m) => m.type === 'subscribed');
//
// Binary frames (section 13) arrive as { binary: Buffer } (SSE `event: binary`, a poll line "b:" + base64);
// sendBinary() POSTs one as application/octet-stream.
import http from 'node:http';

export class HttpSessionClient {
  /** Every message received, in order; `inbox` holds those no next() took yet. */
  received = [];
  inbox = [];
  /** The session id (after the first poll or stream), the last sequence number seen (what to ack). */
  session = null;
  ack = 0;
  /** The `close` ({code, reason}) the server sent, if any. */
  closed = null;
  #waiters = new Set();

  constructor(baseUrl, token, { path = '/ws' } = {}) {
    this.base = `${baseUrl}${path}`;
    this.token = token;
  }

  #query(extra = {}) {
    const q = new URLSearchParams();
    if (this.session) q.set('session', this.session);
    if (this.session) q.set('ack', String(this.ack));
    for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
    const s = q.toString();
    return s ? `?${s}` : '';
  }

  #deliver(messages) {
    for (const m of messages) {
      this.received.push(m);
      this.inbox.push(m);
    }
    for (const w of [...this.#waiters]) {
      const i = this.inbox.findIndex(w.pred);
      if (i < 0) continue;
      this.#waiters.delete(w);
      clearTimeout(w.timer);
      w.resolve(this.inbox.splice(i, 1)[0]);
    }
  }

  /** The first message matching `pred` (taken out of the inbox). */
  next(pred = () => true, what = 'a message', waitMs = 5000) {
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      w.timer = setTimeout(() => {
        this.#waiters.delete(w);
        reject(new Error(`timed out after ${waitMs} ms waiting for ${what}; last: ${JSON.stringify(this.inbox.slice(-3)).slice(0, 400)}`));
      }, waitMs);
      this.#waiters.add(w);
      this.#deliver([]);
    });
  }

  /** One long poll; resolves with { status, body }. Messages go to received/inbox unless `keep` is false. */
  async poll({ keep = true, query = {} } = {}) {
    const res = await fetch(`${this.base}/poll${this.#query(query)}`, { headers: { authorization: `Bearer ${this.token}` } });
    if (res.status !== 200) return { status: res.status, body: await res.json() };
    // NDJSON: the header line ({session, ack, close?}), then one message per line.
    const [head, ...lines] = (await res.text()).split('\n');
    const messages = lines.filter(Boolean).map((l) => (l.startsWith('b:') ? { binary: Buffer.from(l.slice(2), 'base64') } : JSON.parse(l)));
    const body = { ...JSON.parse(head), messages };
    this.session = body.session;
    if (keep) {
      this.ack = body.ack;
      if (body.close) this.closed = body.close;
      this.#deliver(body.messages);
    }
    return { status: 200, body };
  }

  /** POSTs messages (objects, joined by '\n') or a raw string; resolves with { status, body }. */
  async send(messages, { query = {}, token = this.token } = {}) {
    const text = typeof messages === 'string' ? messages
      : (Array.isArray(messages) ? messages : [messages]).map((m) => JSON.stringify(m)).join('\n');
    const res = await fetch(`${this.base}/send${this.#query(query)}`, {
      method: 'POST', body: text, headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
    });
    const raw = await res.text();
    return { status: res.status, body: raw ? JSON.parse(raw) : null };
  }

  /** POSTs one binary frame (bytes) as application/octet-stream; resolves with { status, body }. */
  async sendBinary(bytes, { query = {}, contentType = 'application/octet-stream' } = {}) {
    const res = await fetch(`${this.base}/send${this.#query(query)}`, {
      method: 'POST', body: bytes, headers: { authorization: `Bearer ${this.token}`, 'content-type': contentType },
    });
    const raw = await res.text();
    return { status: res.status, body: raw ? JSON.parse(raw) : null };
  }

  /**
   * Opens (or resumes) the session as an SSE stream. Returns { opened, ended, drop() }: `opened` resolves with
   * the `open` event's data (or rejects with { status, body }), `ended` when the response ends.
   */
  openStream() {
    let drop;
    const url = new URL(`${this.base}/sse${this.#query()}`);
    let resolveOpen;
    let rejectOpen;
    const opened = new Promise((res, rej) => { resolveOpen = res; rejectOpen = rej; });
    const ended = new Promise((resolveEnd) => {
      const req = http.get(url, { headers: { authorization: `Bearer ${this.token}` } }, (res) => {
        res.setEncoding('utf8');
        if (res.statusCode !== 200) {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => { rejectOpen({ status: res.statusCode, body: JSON.parse(b) }); resolveEnd(); });
          return;
        }
        let buf = '';
        res.on('data', (chunk) => {
          buf += chunk;
          let cut;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            let event = 'message';
            let id = null;
            const data = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const colon = line.indexOf(':');
              const field = line.slice(0, colon);
              const value = line.slice(colon + 1).replace(/^ /, '');
              if (field === 'event') event = value;
              else if (field === 'id') id = value;
              else if (field === 'data') data.push(value);
            }
            if (data.length === 0) continue;
            if (event === 'open') {
              const open = JSON.parse(data[0]);
              this.session = open.session;
              resolveOpen(open);
            } else if (event === 'close') {
              this.closed = JSON.parse(data[0]);
            } else if (event === 'binary') {
              this.ack = Number(id);
              this.#deliver([{ binary: Buffer.from(data.join(''), 'base64') }]);
            } else {
              this.ack = Number(id);
              this.#deliver(data.map((d) => JSON.parse(d)));
            }
          }
        });
        res.on('end', resolveEnd);
        res.on('error', resolveEnd);
        res.on('close', resolveEnd);
      });
      req.on('error', (e) => { rejectOpen(e); resolveEnd(); });
      drop = () => req.destroy();
    });
    return { opened, ended, drop: () => drop() };
  }
}
