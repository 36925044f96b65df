// A publisher that sends as fast as the server acks: forked by bench/node/scale_out.mjs (publications per second
// through one Redis) and driven over IPC. A raw `ws` socket (no client library, so the publisher's CPU stays small)
// subscribes to `channel` (the protocol wants publishers subscribed, and a node on Redis then listens to the
// channel: its own copies come back through Redis PUB/SUB, as in a deployment), then keeps `window` publishes
// in flight: each ack or error sends the next one. Counts acks and errors (by code) in the measured window.
//
// IPC: ← {type:'config', url, token, channel, window}
//      → {type:'ready'}
//      ← {type:'go'}                     start sending
//      ← {type:'mark'}                   start of the measured window → {type:'marked'}
//      ← {type:'stop'}                   end of it: stop sending → {type:'done', acked, errors, received}
//      ← {type:'finish'}                 close and exit
import WebSocket from 'ws';

const payload = JSON.stringify({ text: 'the quick brown fox jumps over the lazy dog 0123456789', seq: 0 }); // ≈ 100 bytes
let cfg;
let ws;
let seq = 0;
let sending = false;
let acked = 0; // in the measured window
let received = 0; // own copies of the broadcast, in the measured window
const errors = {};
let measuring = false;

const sendOne = () => {
  seq += 1;
  ws.send(`{"type":"channel_message","channel":"${cfg.channel}","event":"tick","ref":"${seq}","payload":${payload}}`);
};

process.on('message', (msg) => {
  if (msg.type === 'config') {
    cfg = msg;
    ws = new WebSocket(cfg.url, ['jwt', cfg.token], { perMessageDeflate: false });
    ws.on('error', (e) => process.send({ type: 'failed', error: String(e) }));
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', channel: cfg.channel, ref: 's' })));
    ws.on('message', (data) => {
      // Frames carry '\n'-separated JSON messages; only `type` and `code` are looked at (no JSON.parse).
      const s = String(data);
      let start = 0;
      while (start < s.length) {
        let end = s.indexOf('\n', start);
        if (end === -1) end = s.length;
        const line = s.slice(start, end);
        start = end + 1;
        if (line.startsWith('{"type":"ack"')) {
          if (measuring) acked += 1;
          if (sending) sendOne();
        } else if (line.startsWith('{"type":"channel_message"')) {
          if (measuring) received += 1;
        } else if (line.startsWith('{"type":"error"')) {
          const code = /"code":"([^"]*)"/.exec(line)?.[1] ?? 'unknown';
          if (measuring) errors[code] = (errors[code] ?? 0) + 1;
          if (sending) sendOne();
        } else if (line.startsWith('{"type":"subscribed"')) {
          process.send({ type: 'ready' });
        }
      }
    });
  } else if (msg.type === 'go') {
    sending = true;
    for (let i = 0; i < cfg.window; i += 1) sendOne();
  } else if (msg.type === 'mark') {
    measuring = true;
    process.send({ type: 'marked' });
  } else if (msg.type === 'stop') {
    measuring = false;
    sending = false;
    process.send({ type: 'done', acked, errors, received });
  } else if (msg.type === 'finish') {
    ws?.terminate();
    setTimeout(() => process.exit(0), 100).unref();
  }
});
