// One subscriber process of the latency benchmark, forked by bench/node/latency.mjs and driven over IPC.
// It opens one client per token on the channel `bench` (tidewire: createClient + channel().on(); baseline: a raw
// `ws` socket, split on '\n', JSON.parse, Map lookup), and for every message records
// deliver time − send time, both on the clock performance.timeOrigin + performance.now() (the publisher puts its
// send time in payload.t). Warm-up messages (seq < warm) are checked for loss but not timed. With `sink: true`
// the clients are sinks instead (openSink below): checked for loss, not timed.
//
// IPC: ← {type:'config', mode, sink, url, tokens, total, warm, rate, bucketMs, rangeMs, urls?}
// (urls: one per token, for subscribers spread over several nodes; else every token uses url)
//      → {type:'ready', clockOffsetMs}          every client subscribed
//      → {type:'done', ...}                     when every client has every message, or on ← {type:'finish'}
import { clock, wallClockOffsetMs } from './latency_clock.mjs';

let cfg;
let hist; // Uint32Array of bucketMs-wide buckets over [0, rangeMs); beyond: `over`, 1 ms buckets
const over = new Map(); // floor(ms) -> count
let negatives = 0;
let maxMs = 0;
let samples = 0;
let perSec; // per second of the measured window (by seq): { sum, count, max }
const clients = [];
let reported = false;

// t === undefined: a sink (counted, not timed).
function record(state, seq, t) {
  const lat = t === undefined ? 0 : clock() - t;
  if (seq < 0 || seq >= cfg.total || !Number.isInteger(seq)) {
    state.bad += 1;
    return;
  }
  if (state.seen[seq]) {
    state.dups += 1;
    return;
  }
  state.seen[seq] = 1;
  state.received += 1;
  if (seq < state.last) state.reordered += 1;
  state.last = seq;
  if (seq >= cfg.warm && t !== undefined) {
    samples += 1;
    if (lat > maxMs) maxMs = lat;
    if (lat < 0) negatives += 1;
    const b = Math.floor(Math.max(0, lat) / cfg.bucketMs);
    if (b < hist.length) hist[b] += 1;
    else over.set(Math.floor(lat), (over.get(Math.floor(lat)) ?? 0) + 1);
    const s = perSec[Math.min(perSec.length - 1, Math.floor((seq - cfg.warm) / cfg.rate))];
    s.sum += lat;
    s.count += 1;
    if (lat > s.max) s.max = lat;
  }
  if (state.received === cfg.total) maybeDone();
}

function maybeDone() {
  if (!reported && clients.every((c) => c.received === cfg.total)) report();
}

function report() {
  if (reported) return;
  reported = true;
  const sparse = [];
  for (let i = 0; i < hist.length; i += 1) if (hist[i] !== 0) sparse.push(i, hist[i]);
  process.send({
    type: 'done',
    hist: sparse,
    over: [...over].flat(),
    negatives,
    samples,
    maxMs,
    perSec,
    clients: clients.map((c) => ({ received: c.received, dups: c.dups, reordered: c.reordered, bad: c.bad, closed: c.closed })),
  });
  for (const c of clients) c.close();
  setTimeout(() => process.exit(0), 200).unref();
}

async function openTidewire(token, url) {
  const { createClient } = await import('../../web/dist/index.js');
  const state = newState();
  const client = createClient({ url, token });
  client.onStateChange((ch) => {
    if (ch.to !== 'connected' && state.ready) state.closed += 1;
  });
  const ch = client.channel('bench');
  ch.on('tick', (m) => record(state, m.payload.seq, m.payload.t));
  state.close = () => client.close();
  clients.push(state);
  await ch.whenSubscribed();
  state.ready = true;
}

async function openBaseline(token, url) {
  const { default: WebSocket } = await import('ws');
  const state = newState();
  const ws = new WebSocket(url, ['jwt', token], { perMessageDeflate: false });
  let subscribed;
  const handlers = new Map([['bench', (m) => record(state, m.payload.seq, m.payload.t)]]);
  const whenSubscribed = new Promise((r) => (subscribed = r));
  ws.on('message', (data) => {
    for (const line of String(data).split('\n')) {
      if (line === '') continue;
      const msg = JSON.parse(line);
      if (msg.type === 'channel_message') handlers.get(msg.channel)?.(msg);
      else if (msg.type === 'subscribed') subscribed();
    }
  });
  ws.on('close', () => {
    if (state.ready) state.closed += 1;
  });
  ws.on('error', () => {});
  ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', channel: 'bench', ref: 's1' })));
  state.close = () => ws.terminate();
  clients.push(state);
  await whenSubscribed;
  state.ready = true;
}

// A sink: the cheapest receiver that still reads and checks everything, so that the server fans out to every
// subscriber while the CPU goes to the timed clients. A hand-written WebSocket client on a TCP socket: it parses
// frame headers, answers pings, and finds each message's payload.seq with indexOf (the same framing as the timed
// clients get: binary 0x00 JSON batches from tidewire-server, text from the baseline). Not timed.
async function openSink(token, url) {
  const { connect } = await import('node:net');
  const { randomBytes } = await import('node:crypto');
  const state = newState();
  const u = new URL(url);
  if (cfg.mode === 'tidewire') u.searchParams.set('binary', '1');
  const sock = connect({ host: u.hostname, port: Number(u.port) });
  sock.setNoDelay(true);
  const frame = (opcode, payload) => {
    const mask = randomBytes(4);
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 255]);
    const body = Buffer.from(payload);
    for (let i = 0; i < body.length; i += 1) body[i] ^= mask[i & 3];
    return Buffer.concat([head, mask, body]);
  };
  let subscribed;
  const whenSubscribed = new Promise((r) => (subscribed = r));
  const SEQ = Buffer.from('"seq":');
  const scan = (p) => {
    if (!state.ready && p.includes('"subscribed"')) subscribed();
    for (let at = p.indexOf(SEQ); at !== -1; at = p.indexOf(SEQ, at + 6)) {
      let seq = 0;
      for (let i = at + 6; p[i] >= 48 && p[i] <= 57; i += 1) seq = seq * 10 + (p[i] - 48);
      record(state, seq, undefined);
    }
  };
  let buf = Buffer.alloc(0);
  let upgraded = false;
  sock.on('data', (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    if (!upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      if (!buf.subarray(0, 12).toString().includes(' 101')) throw new Error(`sink: upgrade refused: ${buf.subarray(0, end)}`);
      buf = buf.subarray(end + 4);
      upgraded = true;
      sock.write(frame(1, JSON.stringify({ type: 'subscribe', channel: 'bench', ref: 's1' })));
    }
    for (;;) {
      if (buf.length < 2) break;
      const opcode = buf[0] & 0x0f;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) break;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) break;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      if (buf.length < off + len) break;
      const payload = buf.subarray(off, off + len);
      buf = buf.subarray(off + len);
      if (opcode === 9) sock.write(frame(10, payload));
      else if (opcode === 8) sock.end();
      else if (opcode <= 2) scan(payload);
    }
  });
  sock.on('close', () => {
    if (state.ready) state.closed += 1;
  });
  sock.on('error', () => {});
  sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: jwt, ${token}\r\n\r\n`);
  state.close = () => sock.destroy();
  clients.push(state);
  await whenSubscribed;
  state.ready = true;
}

function newState() {
  return { seen: new Uint8Array(cfg.total), received: 0, dups: 0, reordered: 0, bad: 0, last: -1, closed: 0, ready: false, close: () => {} };
}

process.on('message', async (msg) => {
  if (msg.type === 'config') {
    cfg = msg;
    hist = new Uint32Array(Math.ceil(cfg.rangeMs / cfg.bucketMs));
    perSec = Array.from({ length: Math.max(1, Math.ceil((cfg.total - cfg.warm) / cfg.rate)) }, () => ({ sum: 0, count: 0, max: 0 }));
    const open = cfg.sink ? openSink : cfg.mode === 'tidewire' ? openTidewire : openBaseline;
    await Promise.all(cfg.tokens.map((t, i) => open(t, cfg.urls?.[i] ?? cfg.url)));
    process.send({ type: 'ready', clockOffsetMs: wallClockOffsetMs() });
  } else if (msg.type === 'finish') {
    report();
  }
});
