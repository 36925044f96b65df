// First-message latency: from creating a client to its first message handler call (connect, auth, subscribe,
// one message pushed by the server right after the subscribe), on loopback. Warm: in a process that has
// already loaded tidewire. Cold: a fresh Node process each time, the clock started before `import`, so wasm
// compilation and instantiation are included. For reference, the same cold measurement for a raw `ws` client
// (import ws, connect, send a subscribe, first message): what Node's WebSocket stack alone costs.
//   node bench/node/first_message.mjs [--rounds 15]
import { execFileSync, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '15' }, child: { type: 'string' }, raw: { type: 'boolean', default: false } },
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (values.child && values.raw) {
  const t0 = performance.now();
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(`${values.child}?v=1`, ['jwt', 'bench']);
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    if (msg.type === 'auth_success') ws.send(JSON.stringify({ type: 'subscribe', channel: 'bench', ref: 's1' }));
    if (msg.type === 'channel_message') {
      process.stdout.write(`${performance.now() - t0}\n`);
      process.exit(0);
    }
  });
} else if (values.child) {
  const t0 = performance.now();
  const { createClient } = await import('../../web/dist/index.js');
  const c = createClient({ url: values.child, token: 'bench' });
  c.subscribe('bench', () => {
    process.stdout.write(`${performance.now() - t0}\n`);
    process.exit(0);
  });
} else {
  const push = spawn(process.execPath, [resolve(here, 'push_server.mjs'), '--messages', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((r) => push.stdout.on('data', (d) => r(Number(/:(\d+)/.exec(String(d))[1]))));
  const url = `ws://127.0.0.1:${port}/ws`;
  const { createClient } = await import('../../web/dist/index.js');
  const warm = [];
  const cold = [];
  const coldRaw = [];
  const child = (...extra) =>
    Number(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', url, ...extra], { encoding: 'utf8' }).trim());
  try {
    for (let i = 0; i < Number(values.rounds); i += 1) {
      const t0 = performance.now();
      await new Promise((done) => {
        const c = createClient({ url, token: 'bench' });
        c.subscribe('bench', () => {
          warm.push(performance.now() - t0);
          c.close();
          done();
        });
      });
      cold.push(child());
      coldRaw.push(child('--raw'));
    }
  } finally {
    push.kill();
  }
  const r = (xs) => xs.map((x) => Math.round(x * 100) / 100);
  console.log(`warm ${median(warm).toFixed(2)} ms, cold ${median(cold).toFixed(2)} ms (raw ws client, cold: ${median(coldRaw).toFixed(2)} ms)`);
  console.log(
    JSON.stringify({
      warmMsMedian: median(warm),
      coldMsMedian: median(cold),
      coldRawWsMsMedian: median(coldRaw),
      warm: r(warm),
      cold: r(cold),
      coldRawWs: r(coldRaw),
    }),
  );
}
