// Starts bench/node/prebuilt_push_server.mjs in a child process for the throughput benches (Node and Chromium) and
// reads its stdout: the port, the "subscribed" signal (with --wait-go) and the frame statistics it prints.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** { messages, batch, envelope: 'tidewire'|'minimal', waitGo, v1 } → { port, waitLine, go, stats, stop } */
export async function startPrebuiltPush({ messages, batch, envelope, waitGo = false, v1 = false }) {
  const args = [resolve(here, 'prebuilt_push_server.mjs'), '--messages', String(messages), '--batch', String(batch), '--envelope', envelope];
  if (waitGo) args.push('--wait-go');
  if (v1) args.push('--v1');
  const child = spawn(process.execPath, args, { stdio: [waitGo ? 'pipe' : 'ignore', 'pipe', 'inherit'] });
  const lines = [];
  const waiters = [];
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    buffered += d;
    const parts = buffered.split('\n');
    buffered = parts.pop();
    lines.push(...parts);
    for (const w of [...waiters]) w();
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
    for (const w of [...waiters]) w();
  });
  // The first line starting with `prefix` (waits for it; fails when the server exits or after timeoutMs).
  const waitLine = (prefix, timeoutMs = 60_000) =>
    new Promise((resolveLine, reject) => {
      const timer = setTimeout(() => done(new Error(`push server: no "${prefix}" line within ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        const l = lines.find((x) => x.startsWith(prefix));
        if (l !== undefined) done(undefined, l);
        else if (exited) done(new Error(`push server exited before printing "${prefix}"`));
      };
      function done(err, l) {
        clearTimeout(timer);
        const i = waiters.indexOf(check);
        if (i >= 0) waiters.splice(i, 1);
        if (err) reject(err);
        else resolveLine(l);
      }
      waiters.push(check);
      check();
    });
  const port = Number(/:(\d+)$/.exec(await waitLine('listening', 30_000))[1]);
  return {
    port,
    waitLine,
    go: () => child.stdin.write('go\n'),
    stats: async () => JSON.parse(await waitLine('{', 5_000)),
    stop: () => child.kill(),
  };
}
