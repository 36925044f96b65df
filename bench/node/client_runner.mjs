// One client of the Node throughput benchmark, in its own process: receives N messages and reports messages/s and
// CPU µs per message (process.cpuUsage, user + system) from the first to the last handler call, after checking
// that every message arrived once and in order. Every client ends in the same handler, `(m) => onPayload(m.payload)`.
//   node client_runner.mjs --mode MODE --url ws://... --messages N [--dist web/dist]
// Modes:
//   tidewire  the tidewire client as a user gets it (createClient + subscribe; binary batched frames by default)
//   minimal   (a) raw `ws`: one message per frame, {channel, event, payload}: JSON.parse + Map lookup of the channel
//   envelope  (b) raw `ws`: one message per frame in tidewire's envelope: JSON.parse, type check, Map lookup
//   batched   (c) raw `ws` on tidewire's binary batches (0x00 + '\n'-joined lines): decode, split, JSON.parse each
//   ceiling   raw `ws`, one message per frame, the handler does nothing (counts only)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { mode: { type: 'string' }, url: { type: 'string' }, messages: { type: 'string' }, dist: { type: 'string' } },
});
const N = Number(values.messages);
let count = 0;
let expected = 0;
let t0 = 0;
let cpu0;
let ok = true;

function done() {
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = cpu.user + cpu.system;
  process.stdout.write(
    JSON.stringify({ mode: values.mode, messages: count, inOrder: ok, msgPerSec: (count - 1) / (elapsed / 1000), cpuUsPerMsg: cpuUs / (count - 1) }) + '\n',
  );
  process.exit(0);
}

function onPayload(payload) {
  if (count === 0) {
    t0 = performance.now();
    cpu0 = process.cpuUsage();
  }
  if (payload.seq !== expected) ok = false;
  expected += 1;
  count += 1;
  if (count === N) done();
}

const mode = values.mode;
if (mode === 'tidewire') {
  const dist = resolve(values.dist ?? new URL('../../web/dist', import.meta.url).pathname);
  const { createClient } = await import(pathToFileURL(resolve(dist, 'index.js')).href);
  const client = createClient({ url: values.url, token: 'bench' });
  client.subscribe('bench', (m) => onPayload(m.payload));
} else {
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(values.url, ['jwt', 'bench'], { perMessageDeflate: false });
  const handlers = new Map([['bench', (m) => onPayload(m.payload)]]);
  let control = 2; // auth_success and subscribed come first (text frames)
  if (mode === 'minimal') {
    ws.on('message', (data) => {
      if (control > 0) {
        control -= 1;
        return;
      }
      const msg = JSON.parse(String(data));
      handlers.get(msg.channel)?.(msg);
    });
  } else if (mode === 'envelope') {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if (msg.type !== 'channel_message') return;
      handlers.get(msg.channel)?.(msg);
    });
  } else if (mode === 'batched') {
    ws.on('message', (data, isBinary) => {
      const frame = isBinary && data[0] === 0 ? data.toString('utf8', 1) : String(data);
      for (const line of frame.split('\n')) {
        const msg = JSON.parse(line);
        if (msg.type !== 'channel_message') continue;
        handlers.get(msg.channel)?.(msg);
      }
    });
  } else if (mode === 'ceiling') {
    ws.on('message', () => {
      if (control > 0) {
        control -= 1;
        return;
      }
      if (count === 0) {
        t0 = performance.now();
        cpu0 = process.cpuUsage();
      }
      count += 1;
      if (count === N) done();
    });
  } else {
    throw new Error(`unknown --mode ${mode}`);
  }
  ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', channel: 'bench', ref: 's1' })));
}
