// Node client throughput: tidewire against a raw `ws` client (JSON.parse + Map lookup: the baseline) and a raw
// `ws` client whose handler does nothing (the ceiling), alternating, each in a fresh process, with medians and
// per-round ratios.
//   node bench/node/throughput.mjs [--rounds 3] [--messages 200000] [--batch 16] [--text]
import { execFileSync, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    messages: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '16' },
    text: { type: 'boolean', default: false }, // tidewire with text frames (binary=0) instead of its default
  },
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function startPush(batch) {
  const child = spawn(process.execPath, [resolve(here, 'push_server.mjs'), '--messages', values.messages, '--batch', String(batch)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((r) => child.stdout.on('data', (d) => r(Number(/:(\d+)/.exec(String(d))[1]))));
  return { port, stop: () => child.kill() };
}

function run(mode, url) {
  const out = execFileSync(process.execPath, [resolve(here, 'client_runner.mjs'), '--mode', mode, '--url', url, '--messages', values.messages], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return JSON.parse(out.trim().split('\n').pop());
}

const rounds = { tidewire: [], baseline: [], ceiling: [] };
for (let r = 0; r < Number(values.rounds); r += 1) {
  for (const mode of ['tidewire', 'baseline', 'ceiling']) {
    // tidewire gets the protocol's batched frames; the raw clients get one message per frame.
    const push = await startPush(mode === 'tidewire' ? Number(values.batch) : 1);
    try {
      const url = `ws://127.0.0.1:${push.port}/ws${mode === 'tidewire' && values.text ? '?binary=0' : ''}`;
      const res = run(mode, url);
      if (res.messages !== Number(values.messages) || res.inOrder === false) throw new Error(`${mode}: lost or reordered messages`);
      rounds[mode].push(res);
      console.log(`round ${r + 1} ${mode}: ${Math.round(res.msgPerSec).toLocaleString('en-US')} msg/s, ${res.cpuUsPerMsg.toFixed(2)} µs CPU/msg`);
    } finally {
      push.stop();
    }
  }
}
const summary = {};
for (const mode of Object.keys(rounds)) {
  summary[mode] = { msgPerSec: median(rounds[mode].map((x) => x.msgPerSec)), cpuUsPerMsg: median(rounds[mode].map((x) => x.cpuUsPerMsg)) };
}
summary.throughputRatios = rounds.tidewire.map((t, i) => t.msgPerSec / rounds.baseline[i].msgPerSec);
summary.cpuRatios = rounds.tidewire.map((t, i) => t.cpuUsPerMsg / rounds.baseline[i].cpuUsPerMsg);
console.log(JSON.stringify(summary));
