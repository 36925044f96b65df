// temporary, not committed: perf over one latency round, one node vs 3 nodes
import { spawn } from 'node:child_process';
import { startServer } from '../../tests/node/helpers/server.mjs';
import { startRedis, startNodes } from '../../tests/node/helpers/cluster.mjs';
import { latencyShape, runRound, describeRound } from './latency_round.mjs';
const SHAPE = latencyShape({ rate: 2000, seconds: 5, warmup: 1, subscribers: 100, clients: 3, procs: 3, drainMs: 15000 });
const ARGS = ['--rate-limit', '0', '--write-delay-us', '0', '--log-level', 'warn'];
const mode = process.argv[2];
const perfArgs = process.argv.slice(3);
let server, pids, stop;
if (mode === 'one') {
  const s = await startServer({ args: ARGS });
  pids = [s.process.pid];
  server = { pid: s.process.pid, url: s.wsUrl, token: (u) => s.token(u) };
  stop = () => s.stop();
} else {
  const r = await startRedis();
  const ns = await startNodes(r, 3, { args: ARGS });
  pids = ns.map((n) => n.process.pid);
  server = { pid: pids[0], pids, cpuPids: { redis: r.pid }, url: ns[0].wsUrl, urlFor: (i) => ns[i % 3].wsUrl, token: (u) => ns[0].token(u) };
  stop = async () => { await Promise.all(ns.map((n) => n.stop())); await r.stop(); r.cleanup(); };
}
const rr = runRound('tidewire', server, SHAPE, 'tidewire');
await new Promise((r) => setTimeout(r, 2500));
const perf = spawn('perf', [...perfArgs, '-p', pids.join(','), '--', 'sleep', '3'], { stdio: 'inherit' });
await new Promise((r) => perf.once('exit', r));
const res = await rr;
for (const l of describeRound(res, SHAPE)) console.log(l);
await stop();
process.exit(0);
