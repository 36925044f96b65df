// Several tidewire-server nodes on one Redis, behind HAProxy, as a deployment of README "Running several nodes"
// would have them: real processes, nothing simulated (issue #15).
//
//   const redis = await startRedis();                 // redis-server on a free port, no persistence
//   const nodes = await startNodes(redis, 3);         // tidewire-server --broker redis://127.0.0.1:<port>
//   const lb = await startHaproxy(nodes);             // haproxy, roundrobin, WebSocket timeouts, HTTP sessions
//                                                     // sticky (haproxyConfig); lb.wsUrl
//   ...
//   await lb.stop(); await Promise.all(nodes.map((n) => n.stop())); await redis.stop();
//
// `missingBinaries()` names the programs that are not installed (scripts/setup.sh installs them).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { waitFor } from '../../support/wait.mjs';
import { startServer } from './server.mjs';

/** The programs these helpers need that are not on PATH ([] when all are). */
export function missingBinaries() {
  return ['redis-server', 'redis-cli', 'haproxy'].filter(
    (bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0,
  );
}

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Spawns `cmd args` and resolves once its output matches `ready`; rejects when it exits first. */
function spawnReady(cmd, args, ready, label, timeoutMs = 10000) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const up = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} not ready in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk) => {
      output += chunk;
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (code ${code}, signal ${signal}):\n${output}`));
    });
  });
  return up.then(() => ({ child, exited, output: () => output }));
}

function stopChild(child, exited, signal = 'SIGTERM') {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  return exited.finally(() => clearTimeout(killer));
}

/** redis-server on a free port with no persistence (`--save '' --appendonly no`) in its own directory. */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tw-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  let proc = await spawnReady('redis-server', args, /Ready to accept connections/, 'redis-server');
  const redis = {
    port,
    get pid() {
      return proc.child.pid;
    },
    url: `redis://127.0.0.1:${port}`,
    /** Runs one command through redis-cli; resolves with its output, trimmed. */
    cli(...command) {
      return new Promise((resolve, reject) =>
        execFile('redis-cli', ['-p', String(port), ...command], (err, stdout) =>
          err ? reject(err) : resolve(stdout.trim())),
      );
    },
    /** Stops Redis (everything it held is lost: no persistence). */
    stop() {
      return stopChild(proc.child, proc.exited);
    },
    /** Stops it and starts a fresh, empty one on the same port. */
    async restart() {
      await redis.stop();
      proc = await spawnReady('redis-server', args, /Ready to accept connections/, 'redis-server');
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return redis;
}

/** `count` tidewire-server nodes on `redis`, named n1, n2, ...; opts.args are extra flags for each. */
export function startNodes(redis, count, opts = {}) {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      startServer({ args: ['--broker', redis.url, '--node-id', `n${i + 1}`, ...(opts.args ?? [])] }),
    ),
  );
}

/**
 * HAProxy in front of `nodes` (roundrobin, WebSocket-friendly timeouts, HTTP sessions kept on their node), as
 * README "Running several nodes"; opts as haproxyConfig's.
 */
export async function startHaproxy(nodes, opts = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tw-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(port, nodes.map((n) => `127.0.0.1:${n.port}`), opts));
  const child = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // HAProxy prints nothing when it starts well: its port answering is the sign.
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${output}`);
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
  }, 10000, 'haproxy listening');
  const proc = { child, exited };
  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    stop: async () => {
      await stopChild(proc.child, proc.exited, 'SIGUSR1');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The HAProxy configuration of README "Running several nodes" for `servers` (host:port). WebSocket connections
 * are balanced round robin. An HTTP session (SSE, long polling: docs/PROTOCOL.md "HTTP transports") lives on the
 * node that opened it, so its later requests, which name it (`?session=ID`), go to that node: the node's answer
 * names it in a Tidewire-Session header, stored in a stick table with the server that gave it. A request whose
 * session is unknown (the opening GET, a WebSocket) or whose node is down is balanced as usual; the session then
 * gets 404 unknown_session from the new node and the client reconnects with recovery. opts.sticky = false leaves
 * the stick rules out (a test showing they are needed).
 */
export function haproxyConfig(port, servers, opts = {}) {
  return [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  retries 3',
    '  retry-on conn-failure empty-response junk-response', // a node killed as it took the request: another one
    '  option redispatch',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout tunnel 1h',
    'frontend tidewire',
    `  bind 127.0.0.1:${port}`,
    '  default_backend nodes',
    'backend nodes',
    '  balance roundrobin',
    '  option httpchk GET /healthz',
    ...(opts.sticky === false ? [] : [
      '  stick-table type string len 64 size 1m expire 1h',
      '  stick match url_param(session)',
      '  stick store-response res.hdr(Tidewire-Session)',
    ]),
    ...servers.map((s, i) => `  server n${i + 1} ${s} check inter 500ms fall 2 rise 1`),
    '',
  ].join('\n');
}
