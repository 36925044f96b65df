// Starts the native tidewire-server for a test: port 0, a known secret, and a token maker.
//
//   const server = await startServer({ args: ['--dev-tokens'] });
//   const c = await connectAuthed(server, 'alice');   // tests/support/raw-client.mjs
//   ...
//   await server.stop();
//
// The binary is build/native/src/server/tidewire-server (build it first); TIDEWIRE_SERVER_BIN overrides it.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { metric } from '../../support/metrics.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const serverBin =
  process.env.TIDEWIRE_SERVER_BIN ?? resolve(repoRoot, 'build/native/src/server/tidewire-server');

const base64url = (input) => Buffer.from(input).toString('base64url');

/** An HS256 JWT over `claims` (an object), signed with `secret`. No defaults are added. */
export function makeToken(secret, claims) {
  const head = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify(claims));
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

/**
 * Spawns the server and resolves once it prints its "listening on" line.
 * opts.secret (default 'test-secret'), opts.args (extra flags; `--data-dir :memory:` unless they name one),
 * opts.env (extra environment),
 * opts.timeoutMs (default 10000).
 */
export async function startServer(opts = {}) {
  if (!existsSync(serverBin)) {
    throw new Error(`tidewire-server not found at ${serverBin}: build it (cmake --build build/native ` +
      '--target tidewire-server) or set TIDEWIRE_SERVER_BIN');
  }
  const secret = opts.secret ?? 'test-secret';
  const extra = opts.args ?? [];
  // Databases stay in memory unless a test asks for a data directory (the server's default is ./data).
  const dataDir = extra.includes('--data-dir') ? [] : ['--data-dir', ':memory:'];
  const args = ['--port', '0', '--secret', secret, ...dataDir, ...extra];
  const child = spawn(serverBin, args, {
    env: { ...process.env, ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (process.env.TIDEWIRE_SERVER_LOG) process.stderr.write(chunk);
  });
  child.stdout.setEncoding('utf8');

  const exited = new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));

  const port = await new Promise((resolvePort, reject) => {
    const timeoutMs = opts.timeoutMs ?? 10000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tidewire-server did not report listening within ${timeoutMs} ms.\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`tidewire-server exited (code ${code}, signal ${signal}) before listening.\nstderr:\n${stderr}`));
    });
  });

  let stopping = null;
  return {
    port,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    secret,
    process: child,
    /** A value of the server's /metrics (0 when absent). */
    metric(name) {
      return metric(`http://127.0.0.1:${port}`, name);
    },
    /** The server's stderr so far (logs). */
    get stderr() {
      return stderr;
    },
    /** An HS256 token for `userId`, valid for `expiresInSec` (default 1 h), with any extra claims. */
    token(userId, extraClaims = {}, { expiresInSec = 3600 } = {}) {
      const now = Math.floor(Date.now() / 1000);
      return makeToken(secret, { sub: userId, iat: now, exp: now + expiresInSec, ...extraClaims });
    },
    /** SIGTERM, then waits for the exit (SIGKILL after 5 s); resolves to { code, signal }. */
    stop() {
      if (!stopping) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        stopping = exited.finally(() => clearTimeout(killer));
      }
      return stopping;
    },
  };
}
