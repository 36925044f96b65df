// The baseline server of the server benchmarks (bench/server/fanout.mjs, bench/node/latency.mjs): a Node `ws`
// broadcast server speaking the same JSON as tidewire (subscribe → subscribed, channel_message → broadcast
// with offset/ts/from, ack when the publish has a `ref`). Each broadcast is encoded once and queued on every subscriber; a connection's queue is
// joined with '\n' into one text frame and written:
//   --write-delay-us 0 (default): at the end of the current event-loop turn (setImmediate), which batches what
//     arrived in one read, like tidewire-server's default (write delay 0: at the end of each burst of reads);
//   --write-delay-us N > 0: after N µs (setTimeout, so at least 1 ms in Node).
// No auth, no limits, no history: the best case for it. Prints "listening on http://127.0.0.1:PORT".
//   node bench/server/ws_broadcast_server.mjs [--write-delay-us 0]
import { parseArgs } from 'node:util';

import { WebSocketServer } from 'ws';

const { values } = parseArgs({ options: { 'write-delay-us': { type: 'string', default: '0' } } });
const delayUs = Number(values['write-delay-us']);
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, handleProtocols: (p) => (p.has('jwt') ? 'jwt' : false) });
const channels = new Map(); // name -> { offset, subs: Set<conn> }

function flush(conn) {
  conn.scheduled = false;
  if (conn.queue.length === 0) return;
  const frame = conn.queue.join('\n');
  conn.queue = [];
  conn.ws.send(frame);
}

function enqueue(conn, line) {
  conn.queue.push(line);
  if (!conn.scheduled) {
    conn.scheduled = true;
    if (delayUs > 0) setTimeout(flush, delayUs / 1000, conn);
    else setImmediate(flush, conn);
  }
}

wss.on('connection', (ws) => {
  const conn = { ws, queue: [], scheduled: false, channels: new Set() };
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
      enqueue(conn, JSON.stringify({ type: 'subscribed', channel: msg.channel, ref: msg.ref, offset: ch.offset, epoch: 'E' }));
    } else if (msg.type === 'channel_message') {
      const ch = channels.get(msg.channel);
      if (!ch) return;
      ch.offset += 1;
      const line = JSON.stringify({
        type: 'channel_message',
        channel: msg.channel,
        event: msg.event,
        offset: ch.offset,
        epoch: 'E',
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
    conn.queue = [];
  });
});

wss.on('listening', () => process.stdout.write(`listening on http://127.0.0.1:${wss.address().port}\n`));
