// Node client throughput, measured fairly: the push server prepares every frame before the timed part and hands the
// whole stream to the socket at once (bench/node/prebuilt_push_server.mjs), so the server is never the bottleneck.
// In the same run, alternating (the order rotates each round), each client in a fresh process and with a fresh
// server, it measures messages/s and the client process's CPU (user + system) per message for:
//   tidewire  the tidewire client as a user gets it: the protocol's binary batched frames (--batch messages each)
//   minimal   (a) raw `ws` + JSON.parse + Map, one message per frame, minimal {channel, event, payload} envelope
//   envelope  (b) raw `ws` + JSON.parse + Map, one message per frame, tidewire's own envelope
//   batched   (c) raw `ws` on tidewire's own binary batched frames: split on '\n', JSON.parse each, Map
//   ceiling   (optional) raw `ws`, one minimal message per frame, the handler does nothing
// Same payload for all. Prints each round, then one JSON summary line: medians per client and, for each baseline,
// tidewire's per-round ratios (throughput and CPU per message) and their medians.
//   node bench/node/throughput.mjs [--rounds 3] [--messages 200000] [--batch 16] [--modes tidewire,minimal,envelope,batched]
//                                  [--text] [--dist web/dist]
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { startPrebuiltPush } from './push_process.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    messages: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '16' },
    modes: { type: 'string', default: 'tidewire,minimal,envelope,batched' },
    text: { type: 'boolean', default: false }, // tidewire with text frames (binary=0) instead of its default
    dist: { type: 'string' }, // the web package to measure (default web/dist)
  },
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const modes = values.modes.split(',');
if (!modes.includes('tidewire')) throw new Error('--modes must include tidewire');

// Per mode: the push server's frames and the URL query the client connects with.
const setups = {
  tidewire: { envelope: 'tidewire', batch: Number(values.batch), query: values.text ? '?binary=0' : '' }, // the client adds binary=1
  minimal: { envelope: 'minimal', batch: 1, query: '' },
  envelope: { envelope: 'tidewire', batch: 1, query: '' },
  // the same client against a protocol v1 server (0x00 JSON batches instead of v2 compact batches)
  'tidewire-v1': { envelope: 'tidewire', batch: Number(values.batch), query: values.text ? '?binary=0' : '', v1: true },
  batched: { envelope: 'tidewire', batch: Number(values.batch), query: '?binary=1' },
  ceiling: { envelope: 'minimal', batch: 1, query: '' },
};

function run(mode, url) {
  const args = [resolve(here, 'client_runner.mjs'), '--mode', mode === 'tidewire-v1' ? 'tidewire' : mode, '--url', url, '--messages', values.messages];
  if (values.dist) args.push('--dist', values.dist);
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 180_000 });
  return JSON.parse(out.trim().split('\n').pop());
}

const load = [loadavg()[0]];
const rounds = Object.fromEntries(modes.map((m) => [m, []]));
const frames = {};
for (let r = 0; r < Number(values.rounds); r += 1) {
  const order = modes.map((_, i) => modes[(i + r) % modes.length]);
  for (const mode of order) {
    const setup = setups[mode];
    if (!setup) throw new Error(`unknown mode ${mode}`);
    const push = await startPrebuiltPush({ messages: values.messages, ...setup });
    try {
      const res = run(mode, `ws://127.0.0.1:${push.port}/ws${setup.query}`);
      if (res.messages !== Number(values.messages) || res.inOrder === false) throw new Error(`${mode}: lost or reordered messages`);
      rounds[mode].push(res);
      frames[mode] = await push.stats();
      console.log(
        `round ${r + 1} ${mode}: ${Math.round(res.msgPerSec).toLocaleString('en-US')} msg/s, ${res.cpuUsPerMsg.toFixed(2)} µs CPU/msg` +
          ` (${frames[mode]?.messageBytes ?? '?'} B/message, ${frames[mode]?.frames ?? '?'} ${frames[mode]?.binary ? 'binary' : 'text'} frames)`,
      );
    } finally {
      push.stop();
    }
  }
  load.push(loadavg()[0]);
}

const summary = { messages: Number(values.messages), batch: Number(values.batch), rounds: Number(values.rounds), text: values.text, loadAvg1m: load };
for (const mode of modes) {
  summary[mode] = {
    msgPerSec: median(rounds[mode].map((x) => x.msgPerSec)),
    cpuUsPerMsg: median(rounds[mode].map((x) => x.cpuUsPerMsg)),
    messageBytes: frames[mode]?.messageBytes,
    messagesPerFrame: frames[mode] ? summary.messages / frames[mode].frames : undefined,
  };
}
// tidewire / baseline, per round (same round = same machine state) and the median of those.
summary.ratios = {};
for (const mode of modes.filter((m) => m !== 'tidewire')) {
  const throughput = rounds.tidewire.map((t, i) => t.msgPerSec / rounds[mode][i].msgPerSec);
  const cpu = rounds.tidewire.map((t, i) => t.cpuUsPerMsg / rounds[mode][i].cpuUsPerMsg);
  summary.ratios[mode] = { throughput, cpu, throughputMedian: median(throughput), cpuMedian: median(cpu) };
}
console.log(JSON.stringify(summary));
