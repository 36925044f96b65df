// One subscriber on each transport (WebSocket, SSE, long polling) against the real tidewire-server: messages/s at
// the subscriber and the server's CPU per delivered message (user + system from /proc, so Linux only). Each
// transport gets a fresh server; one raw `ws` publisher floods the channel (no acks but the last), the subscriber
// reads raw (no client library): frames split on '\n' and JSON.parse for WebSocket, the SSE parser of
// tests/support/http-session-client.mjs (acking every 500 messages by POST, as web/src/http_socket.ts does), and
// a poll loop. Prints one line per round and a JSON summary with the medians.
//   node bench/node/http_transports.mjs [--rounds 3] [--messages 20000] [--transports websocket,sse,polling]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { startServer } from '../../tests/node/helpers/server.mjs';
import { connectAuthed, RawClient } from '../../tests/support/raw-client.mjs';
import { HttpSessionClient } from '../../tests/support/http-session-client.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    messages: { type: 'string', default: '20000' },
    transports: { type: 'string', default: 'websocket,sse,polling' },
  },
});
const rounds = Number(values.rounds);
const total = Number(values.messages);
const transports = values.transports.split(',');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const TICKS = 100; // USER_HZ

function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS; // utime + stime
}

const payload = { text: 'x'.repeat(80), n: 0 };

async function subscribe(server, transport, channel) {
  const counter = { count: 0, done: null };
  const finished = new Promise((resolve) => (counter.done = resolve));
  const onMessages = (n) => {
    counter.count += n;
    if (counter.count >= total) counter.done();
  };
  if (transport === 'websocket') {
    const c = await connectAuthed(server, 'sub');
    await c.subscribe(channel);
    c.ws.removeAllListeners('message'); // count raw: split and parse, nothing kept
    c.ws.on('message', (data) => {
      let n = 0;
      for (const line of data.toString().split('\n')) if (line && JSON.parse(line).type === 'channel_message') n += 1;
      onMessages(n);
    });
    return { counter, finished, stop: () => c.close() };
  }
  const h = new HttpSessionClient(server.httpUrl, server.token('sub'));
  let acked = 0;
  const countNew = () => {
    const n = h.received.length;
    let k = 0;
    for (const m of h.received) if (m.type === 'channel_message') k += 1;
    h.received.length = 0;
    h.inbox.length = 0;
    return { n, k };
  };
  if (transport === 'sse') {
    const s = h.openStream();
    await s.opened;
    await h.send({ type: 'subscribe', channel, ref: 's' });
    await h.next((m) => m.type === 'subscribed');
    countNew();
    const timer = setInterval(() => {
      const { k } = countNew();
      if (k) onMessages(k);
      if (h.ack - acked >= 500) {
        acked = h.ack;
        void h.send('');
      }
    }, 1);
    return { counter, finished, stop: () => { clearInterval(timer); s.drop(); } };
  }
  await h.poll();
  await h.send({ type: 'subscribe', channel, ref: 's' });
  await h.poll();
  countNew();
  let stopped = false;
  (async () => {
    while (!stopped) {
      await h.poll();
      const { k } = countNew();
      if (k) onMessages(k);
    }
  })();
  return { counter, finished, stop: () => { stopped = true; } };
}

async function round(transport) {
  const server = await startServer({ args: ['--rate-limit', '0', '--max-queued-messages', '1000000', '--max-queued-bytes', '1000000000', '--poll-timeout-ms', '1000'] });
  try {
    const channel = 'bench:http';
    const sub = await subscribe(server, transport, channel);
    const pub = await connectAuthed(server, 'pub');
    const cpu0 = cpuMs(server.process.pid);
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      payload.n = i;
      pub.send({ type: 'channel_message', channel, event: 'e', payload });
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    await sub.finished;
    const ms = performance.now() - t0;
    const cpu = cpuMs(server.process.pid) - cpu0;
    sub.stop();
    await pub.close();
    return { transport, msgPerSec: Math.round((total / ms) * 1000), serverCpuUsPerMsg: Number(((cpu * 1000) / total).toFixed(2)) };
  } finally {
    await server.stop();
  }
}

const results = {};
for (let r = 0; r < rounds; r++) {
  const order = transports.slice(r % transports.length).concat(transports.slice(0, r % transports.length));
  for (const t of order) {
    const res = await round(t);
    (results[t] ??= []).push(res);
    console.log(`round ${r + 1} ${t}: ${res.msgPerSec} msg/s, server ${res.serverCpuUsPerMsg} µs CPU/msg (load ${loadavg()[0].toFixed(2)})`);
  }
}
const summary = Object.fromEntries(Object.entries(results).map(([t, rs]) => [t, {
  msgPerSec: median(rs.map((x) => x.msgPerSec)),
  serverCpuUsPerMsg: median(rs.map((x) => x.serverCpuUsPerMsg)),
}]));
console.log(JSON.stringify({ messages: total, rounds, summary }));
