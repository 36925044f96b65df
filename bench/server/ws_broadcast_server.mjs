// The baseline for the server benchmark: a Node `ws` broadcast server speaking the same JSON messages as
// tidewire (subscribe, channel_message with offsets, ack) and batching the same way: each connection's queued
// messages are joined with '\n' into one frame after a write delay. No auth, no limits: the best case for it.
import { WebSocketServer } from 'ws';

const writeDelayMs = Number(process.env.WRITE_DELAY_MS ?? '1');
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
const channels = new Map(); // name -> { offset, subs: Set<conn> }

function enqueue(conn, line) {
  conn.queue.push(line);
  if (!conn.timer) {
    conn.timer = setTimeout(() => {
      conn.timer = null;
      const frame = conn.queue.join('\n');
      conn.queue = [];
      conn.ws.send(frame);
    }, writeDelayMs);
  }
}

wss.on('connection', (ws) => {
  const conn = { ws, queue: [], timer: null, channels: new Set() };
  ws.on('message', (data) => {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (msg.type === 'subscribe') {
      let ch = channels.get(msg.channel);
      if (!ch) channels.set(msg.channel, (ch = { offset: 0, subs: new Set() }));
      ch.subs.add(conn);
      conn.channels.add(msg.channel);
      enqueue(conn, JSON.stringify({ type: 'subscribed', channel: msg.channel, ref: msg.ref }));
    } else if (msg.type === 'channel_message') {
      const ch = channels.get(msg.channel);
      if (!ch) return;
      ch.offset += 1;
      const line = JSON.stringify({
        type: 'channel_message',
        channel: msg.channel,
        event: msg.event,
        offset: ch.offset,
        ts: Date.now(),
        from: 'publisher',
        payload: msg.payload,
      });
      if (msg.ref) enqueue(conn, JSON.stringify({ type: 'ack', ref: msg.ref, channel: msg.channel, offset: ch.offset }));
      for (const sub of ch.subs) enqueue(sub, line); // encoded once, shared
    }
  });
  ws.on('close', () => {
    for (const name of conn.channels) channels.get(name)?.subs.delete(conn);
    clearTimeout(conn.timer);
  });
});

wss.on('listening', () => {
  process.stdout.write(`listening on http://127.0.0.1:${wss.address().port}\n`);
});
