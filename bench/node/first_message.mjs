// First-message latency: from creating a client to its first message handler call (connect, auth, subscribe,
// one message pushed by the server right after the subscribe), on loopback. Warm: in a process that has
// already loaded tidewire. Cold: a fresh Node process each time, the clock started before `import`, so wasm
// compilation and instantiation are included.
//   node bench/node/first_message.mjs [--rounds 15]
import { execFileSync, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, child: { type: 'string' } } });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (values.child) {
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
      cold.push(Number(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', url], { encoding: 'utf8' }).trim()));
    }
  } finally {
    push.kill();
  }
  const r = (xs) => xs.map((x) => Math.round(x * 100) / 100);
  console.log(JSON.stringify({ warmMsMedian: median(warm), coldMsMedian: median(cold), warm: r(warm), cold: r(cold) }));
}
