// One client of the throughput benchmark, in its own process: receives N messages and reports messages/s and
// CPU µs per message (process.cpuUsage) from the first to the last handler call, after checking that every
// message arrived once and in order.
//   node client_runner.mjs --mode tidewire|baseline|ceiling --url ws://... --messages N
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { mode: { type: 'string' }, url: { type: 'string' }, messages: { type: 'string' } } });
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
  process.stdout.write(JSON.stringify({ mode: values.mode, messages: count, inOrder: ok, msgPerSec: (count - 1) / (elapsed / 1000), cpuUsPerMsg: cpuUs / (count - 1) }) + '\n');
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

if (values.mode === 'tidewire') {
  const { createClient } = await import('../../web/dist/index.js');
  const client = createClient({ url: values.url, token: 'bench' });
  client.subscribe('bench', (m) => onPayload(m.payload));
} else {
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(values.url, ['jwt', 'bench'], { perMessageDeflate: false });
  const handlers = new Map([['bench', (m) => onPayload(m.payload)]]);
  if (values.mode === 'baseline') {
    ws.on('message', (data, isBinary) => {
      const msg = JSON.parse(isBinary ? data : String(data));
      if (msg.type !== 'channel_message') return;
      handlers.get(msg.channel)?.(msg);
    });
  } else {
    // The ceiling: the handler does nothing (order cannot be checked, only counted).
    let control = 2; // auth_success and subscribed come first
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
  }
  ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', channel: 'bench', ref: 's1' })));
}
