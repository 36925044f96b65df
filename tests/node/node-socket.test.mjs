// Node's WebSocket for the client (web/src/node_socket.ts): the global one on Node 22+, the `ws` package on Node 20,
// against the real server: which class is used, what happens when `ws` is missing, a refused upgrade that is not a
// bad token, wss:// through a TLS proxy with a trusted and an untrusted certificate, and binary frames both ways.
// (A bad token in the subprotocol ending in auth_failed is tests/node/client.test.mjs's.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';

import { createClient, loadModule } from '../../web/dist/index.js';
import { serverFixture } from './helpers/server-fixture.mjs';
import { waitFor } from '../support/wait.mjs';

const distUrl = new URL('../../web/dist/', import.meta.url);
const hasGlobalWebSocket = typeof globalThis.WebSocket === 'function';
const node20 = hasGlobalWebSocket && "this Node has a global WebSocket: `ws` is not used";
// A self-signed certificate for localhost and 127.0.0.1, valid until 2126 (tests/node/fixtures; made with
// openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 -subj /CN=localhost
// -addext subjectAltName=DNS:localhost,IP:127.0.0.1).
const certUrl = new URL('./fixtures/localhost-cert.pem', import.meta.url);
const keyUrl = new URL('./fixtures/localhost-key.pem', import.meta.url);

/** Runs an ES module script in a fresh Node; resolves with its stdout and stderr. */
function runNode(script, env = {}) {
  return promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
    timeout: 20_000,
  });
}

/** A TLS-terminating proxy in front of the server (as nginx would be): wss:// outside, the server's ws:// inside. */
async function tlsProxy(serverPort) {
  const seen = { proxied: 0, tlsErrors: [] };
  const proxy = createTlsServer({ key: readFileSync(keyUrl), cert: readFileSync(certUrl) }, (tls) => {
    seen.proxied += 1;
    const upstream = connect(serverPort, '127.0.0.1');
    tls.pipe(upstream).pipe(tls);
    const drop = () => {
      tls.destroy();
      upstream.destroy();
    };
    tls.on('error', drop);
    upstream.on('error', drop);
  });
  proxy.on('tlsClientError', (e) => seen.tlsErrors.push(e.message));
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  return { url: `wss://127.0.0.1:${proxy.address().port}/ws`, seen, close: () => new Promise((r) => proxy.close(r)) };
}

describe("Node's WebSocket against the real server", () => {
  const env = serverFixture(createClient);
  const { client } = env;

  test('Node 20: the sockets are `ws` ones, and globalThis.WebSocket is left alone', { skip: node20 }, async () => {
    const { WebSocket: WsSocket } = await import('ws');
    const module = await loadModule();
    // The module's socket class is the transport fallback (transport_fallback.ts) over a class extending ws.WebSocket.
    assert.equal(Object.getPrototypeOf(module.WebSocket.base()), WsSocket, 'the sockets extend ws.WebSocket');
    assert.equal(globalThis.WebSocket, undefined);
  });

  test('Node 20 without the `ws` package: loading fails with an error that says to install it', { skip: node20 }, async () => {
    // A copy of the package where no node_modules/ws can be found above it.
    const dir = mkdtempSync(join(tmpdir(), 'tidewire-no-ws-'));
    try {
      cpSync(fileURLToPath(distUrl), join(dir, 'dist'), { recursive: true });
      const script =
        `const { loadModule } = await import(${JSON.stringify(new URL('dist/index.js', `file://${dir}/`).href)});` +
        'try { await loadModule(); console.log("loaded"); } catch (e) { console.log(e.message); }';
      const { stdout } = await runNode(script);
      assert.match(stdout, /has no global WebSocket and the 'ws' package could not be loaded/);
      assert.match(stdout, /npm install ws/);
      assert.match(stdout, /Node 22/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an upgrade refused with another status than 401 (a wrong path: 404) is retried, not auth_failed', async () => {
    const c = client({
      url: `ws://127.0.0.1:${env.server.port}/not-the-ws-path`,
      token: env.server.token('path'),
      reconnectBaseMs: 5,
      reconnectCapMs: 10,
      maxReconnectAttempts: 2,
    });
    const errors = [];
    c.onError((e) => errors.push(e.code));
    c.subscribe('room:path', () => {});
    await waitFor(() => c.state === 'error', 5000, 'the client to give up');
    assert.deepEqual(errors, ['reconnect_failed']);
    assert.equal(c.getMetrics().connectionAttempts, 3, 'the first attempt and two retries');
  });

  test('binary frames both ways: a binary payload and the server binary batches arrive intact', async () => {
    const alice = client({ token: env.server.token('alice') });
    const bob = client({ token: env.server.token('bob') });
    const got = [];
    const chBob = bob.channel('room:bin').subscribe();
    chBob.on('blob', (m) => got.push(m.payload));
    chBob.on('text', (m) => got.push(m.payload));
    await chBob.whenSubscribed();
    const bytes = new Uint8Array(3000).map((_, i) => (i * 31) & 0xff); // every byte value, several KB
    await alice.send('room:bin', 'blob', bytes);
    await alice.send('room:bin', 'text', { text: 'é ☃ 🎉' });
    await waitFor(() => got.length === 2, 5000, 'both messages');
    assert.ok(got[0] instanceof Uint8Array, `a binary payload arrives as bytes, got ${Object.prototype.toString.call(got[0])}`);
    assert.deepEqual([...got[0]], [...bytes]);
    assert.deepEqual(got[1], { text: 'é ☃ 🎉' });
  });

  test('wss:// with an untrusted certificate: the TLS handshake is refused and nothing reaches the server', async () => {
    const proxy = await tlsProxy(env.server.port);
    try {
      const c = client({ url: proxy.url, token: env.server.token('tls'), reconnectBaseMs: 5, reconnectCapMs: 10, maxReconnectAttempts: 1 });
      const states = [];
      c.onStateChange((s) => states.push(s.to));
      c.subscribe('room:tls', () => {});
      await waitFor(() => c.state === 'error', 5000, 'the client to give up');
      assert.ok(!states.includes('connected'), states.join(' '));
      // The client drops the handshake when it sees the certificate (Node sends no alert: "socket hang up"); the
      // next test shows the same proxy is reachable once the certificate is trusted.
      await waitFor(() => proxy.seen.tlsErrors.length >= 1, 5000, 'the proxy to see the dropped handshake');
      assert.equal(proxy.seen.proxied, 0, 'no connection got through to the server');
    } finally {
      await proxy.close();
    }
  });

  test('wss:// with a trusted certificate (NODE_EXTRA_CA_CERTS): connects, and text and binary round-trip', async () => {
    const proxy = await tlsProxy(env.server.port);
    try {
      // NODE_EXTRA_CA_CERTS is read when Node starts, hence a child process.
      const script = `
        const { createClient } = await import(${JSON.stringify(new URL('index.js', distUrl).href)});
        const c = createClient({ url: ${JSON.stringify(proxy.url)}, token: ${JSON.stringify(env.server.token('tls'))} });
        const got = [];
        const ch = c.channel('room:wss').subscribe();
        ch.on('e', (m) => got.push(m.payload instanceof Uint8Array ? [...m.payload] : m.payload));
        await ch.whenSubscribed();
        await c.send('room:wss', 'e', { text: 'over tls' });
        await c.send('room:wss', 'e', new Uint8Array([0, 1, 254, 255]));
        while (got.length < 2) await new Promise((r) => setTimeout(r, 10));
        console.log(JSON.stringify({ state: c.state, got }));
        c.close();
        process.exit(0);`;
      const { stdout } = await runNode(script, { NODE_EXTRA_CA_CERTS: fileURLToPath(certUrl) });
      assert.deepEqual(JSON.parse(stdout.trim()), { state: 'connected', got: [{ text: 'over tls' }, [0, 1, 254, 255]] });
      assert.ok(proxy.seen.proxied >= 1);
    } finally {
      await proxy.close();
    }
  });
});
