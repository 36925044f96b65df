// A subscriber on each transport (WebSocket, SSE, long polling) against the real tidewire-server: messages/s at
// the subscriber, the subscriber's CPU per message (the tidewire client from web/dist with `transports: [t]`, in
// this process) and the server's CPU per message (user + system from /proc, so Linux only). Each transport gets a
// fresh server; a publisher in a child process (raw `ws`, no acks) floods the channel. The server's figure
// includes reading the publisher's messages (one WebSocket message each), the same for every transport.
// Prints one line per round and a JSON summary with the medians.
//   node bench/node/http_transports.mjs [--rounds 3] [--messages 50000] [--transports websocket,sse,polling]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { createClient } from '../../web/dist/index.js';
import { startServer } from '../../tests/node/helpers/server.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    messages: { type: 'string', default: '50000' },
    transports: { type: 'string', default: 'websocket,sse,polling' },
  },
});
const rounds = Number(values.rounds);
const total = Number(values.messages);
const transports = values.transports.split(',');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const TICKS = 100; // USER_HZ

function serverCpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS; // utime + stime
}

// The publisher: raw `ws`, one channel_message per WebSocket message, yielding every 500.
const PUBLISHER = `
import { WebSocket } from 'ws';
const [url, token, channel, total] = process.argv.slice(1);
const ws = new WebSocket(url, ['jwt', token]);
ws.on('open', async () => {
  const payload = { text: 'x'.repeat(80), n: 0 };
  for (let i = 0; i < Number(total); i++) {
    payload.n = i;
    ws.send(JSON.stringify({ type: 'channel_message', channel, event: 'e', payload }));
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  ws.send(JSON.stringify({ type: 'ping', ref: 'end' }));
  ws.on('message', (d) => { if (String(d).includes('"end"')) ws.close(); });
});
`;

async function round(transport) {
  const server = await startServer({ args: ['--rate-limit', '0', '--max-queued-messages', '1000000', '--max-queued-bytes', '1000000000'] });
  const sub = createClient({ url: server.wsUrl, token: server.token('sub'), transports: [transport] });
  try {
    const channel = 'bench:http';
    let count = 0;
    let done;
    const finished = new Promise((resolve) => (done = resolve));
    const ch = sub.channel(channel).subscribe();
    ch.on('e', () => {
      if (++count === total) done();
    });
    await ch.whenSubscribed();
    const cpu0 = process.cpuUsage();
    const server0 = serverCpuMs(server.process.pid);
    const t0 = performance.now();
    const pub = spawn(process.execPath, ['--input-type=module', '-e', PUBLISHER, server.wsUrl, server.token('pub'), channel, String(total)], { stdio: 'inherit' });
    const exited = new Promise((resolve) => pub.once('exit', resolve));
    await finished;
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const serverCpu = serverCpuMs(server.process.pid) - server0;
    await exited;
    return {
      transport,
      msgPerSec: Math.round((total / ms) * 1000),
      clientCpuUsPerMsg: Number(((cpu.user + cpu.system) / total).toFixed(2)),
      serverCpuUsPerMsg: Number(((serverCpu * 1000) / total).toFixed(2)),
    };
  } finally {
    sub.close();
    await server.stop();
  }
}

const results = {};
for (let r = 0; r < rounds; r++) {
  const order = transports.slice(r % transports.length).concat(transports.slice(0, r % transports.length));
  for (const t of order) {
    const res = await round(t);
    (results[t] ??= []).push(res);
    console.log(`round ${r + 1} ${t}: ${res.msgPerSec} msg/s, subscriber ${res.clientCpuUsPerMsg} µs CPU/msg, ` +
      `server ${res.serverCpuUsPerMsg} µs CPU/msg (load ${loadavg()[0].toFixed(2)})`);
  }
}
const summary = Object.fromEntries(Object.entries(results).map(([t, rs]) => [t, {
  msgPerSec: median(rs.map((x) => x.msgPerSec)),
  clientCpuUsPerMsg: median(rs.map((x) => x.clientCpuUsPerMsg)),
  serverCpuUsPerMsg: median(rs.map((x) => x.serverCpuUsPerMsg)),
}]));
console.log(JSON.stringify({ messages: total, rounds, summary }));
process.exitCode = 0;
