// The wasm client against the real server when things go wrong: a server killed mid-stream, expiring tokens,
// connection limits and rate limits.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { createClient } from '../../web/dist/index.js';
import { startServer } from './helpers/server.mjs';
import { waitFor } from '../support/wait.mjs';

describe('server killed and restarted mid-stream', () => {
  test('no message is lost, duplicated or reordered', { timeout: 60_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tidewire-restart-'));
    const args = ['--data-dir', dataDir, '--history-store', 'sqlite'];
    let server = await startServer({ args });
    const port = server.port;
    const fast = { reconnectBaseMs: 50, reconnectCapMs: 300 };
    const publisher = createClient({ url: server.wsUrl, token: server.token('pub'), ...fast });
    const receiver = createClient({ url: server.wsUrl, token: server.token('sub'), ...fast });
    try {
      const got = [];
      const ch = receiver.channel('room:stream').subscribe();
      ch.on('n', (m) => got.push(m.payload));
      await ch.whenSubscribed();
      await publisher.channel('room:stream').whenSubscribed();

      const total = 300;
      const acks = [];
      for (let i = 0; i < total; i += 1) {
        acks.push(publisher.send('room:stream', 'n', i));
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
        if (i === 120) {
          server.process.kill('SIGKILL'); // no goodbye: in-flight messages and acks are lost on the wire
          await server.stop();
          server = await startServer({ args: [...args, '--port', String(port)] });
        }
      }
      await Promise.all(acks);
      await waitFor(() => got.length >= total, 20_000, `all ${total} messages (got ${got.length})`);
      await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive
      assert.equal(got.length, total, 'no duplicates');
      assert.deepEqual(got, [...Array(total).keys()], 'every message once, in order');
      assert.ok(receiver.getMetrics().connectionSuccesses >= 2, 'the receiver reconnected');
    } finally {
      publisher.close();
      receiver.close();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('tokens', () => {
  test('a token provider refreshes the token in band before it expires: the connection stays', { timeout: 30_000 }, async () => {
    const server = await startServer();
    let issued = 0;
    const c = createClient({
      url: server.wsUrl,
      token: () => {
        issued += 1;
        return server.token('ttl-user', {}, { expiresInSec: 7 });
      },
    });
    try {
      await c.channel('room:ttl').whenSubscribed();
      await new Promise((r) => setTimeout(r, 9000)); // past the first token's expiry
      assert.equal(c.state, 'connected');
      assert.ok(issued >= 2, `the provider was asked again (${issued})`);
      assert.equal(c.getMetrics().connectionAttempts, 1, 'same connection');
      await c.send('room:ttl', 'e', 1);
    } finally {
      c.close();
      await server.stop();
    }
  });

  test('a static token that expires ends with a clear auth error', { timeout: 30_000 }, async () => {
    const server = await startServer();
    const c = createClient({ url: server.wsUrl, token: server.token('short', {}, { expiresInSec: 2 }) });
    try {
      const errors = [];
      c.onError((e) => errors.push(e.code));
      await c.channel('room:ttl2').whenSubscribed();
      await waitFor(() => c.state === 'error', 10_000);
      assert.ok(errors.includes('auth_failed'), JSON.stringify(errors));
    } finally {
      c.close();
      await server.stop();
    }
  });
});

describe('token provider failures (issue 12)', () => {
  test('a provider whose fetch fails while the server is down is retried with the backoff: it reconnects by itself', { timeout: 30_000 }, async () => {
    let server = await startServer({ args: ['--dev-tokens'] });
    const port = server.port;
    let fetches = 0;
    const c = createClient({
      url: server.wsUrl,
      reconnectBaseMs: 50,
      reconnectCapMs: 300,
      // What a browser app does: fetch a token from its server. While the server is down, fetch() rejects.
      token: async () => {
        fetches += 1;
        const res = await fetch(`${server.httpUrl}/dev/token?user=pat`);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return (await res.json()).token;
      },
    });
    const errors = [];
    const states = [];
    c.onError((e) => errors.push(e.code));
    c.onStateChange(({ to }) => states.push(to));
    try {
      const got = [];
      const ch = c.channel('room:tp').subscribe();
      ch.on('e', (m) => got.push(m.payload));
      await ch.whenSubscribed();
      assert.equal(c.userId, 'pat', 'client.userId comes from auth_success');
      server.process.kill('SIGKILL');
      await server.stop();
      await waitFor(() => errors.includes('token_provider_failed'), 10_000, 'a token failure reported');
      const queued = c.send('room:tp', 'e', 'sent while down');
      await waitFor(() => errors.filter((e) => e === 'token_provider_failed').length >= 3, 10_000, 'retried');
      assert.ok(!states.includes('error') && !states.includes('disconnected'), `never gave up: ${states}`);
      assert.ok(c.getMetrics().reconnectAttempts >= 3, 'each failure counts as an attempt');

      server = await startServer({ args: ['--dev-tokens', '--port', String(port)] });
      await waitFor(() => c.state === 'connected', 10_000, 'reconnected by itself');
      await queued;
      await waitFor(() => got.length === 1, 5000, 'the queued message');
      assert.deepEqual(got, ['sent while down']);
      assert.equal(c.getMetrics().reconnectAttempts, 0);
      assert.ok(fetches >= 4);
    } finally {
      c.close();
      await server.stop();
    }
  });

  test('a provider failing past maxReconnectAttempts ends in error; a provider resolving to null stops at once; reconnect() starts again', { timeout: 30_000 }, async () => {
    const server = await startServer();
    let answer = () => Promise.reject(new Error('503 from the token endpoint'));
    let calls = 0;
    const c = createClient({
      url: server.wsUrl,
      reconnectBaseMs: 20,
      reconnectCapMs: 50,
      maxReconnectAttempts: 2,
      token: () => {
        calls += 1;
        return answer();
      },
    });
    const errors = [];
    c.onError((e) => errors.push(e.code));
    try {
      c.subscribe('room:tp2', () => {});
      await waitFor(() => c.state === 'error', 5000, 'gave up');
      assert.equal(calls, 3, 'the first try and two retries');
      assert.deepEqual(errors, ['token_provider_failed', 'token_provider_failed', 'token_provider_failed', 'reconnect_failed']);

      errors.length = 0;
      answer = async () => null; // nobody is signed in: terminal, no retry loop
      c.reconnect();
      await waitFor(() => errors.length > 0, 5000);
      assert.deepEqual(errors, ['auth_failed']);
      assert.equal(c.state, 'error');
      const before = calls;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(calls, before, 'not asked again by itself');

      answer = async () => server.token('quinn');
      c.reconnect();
      await waitFor(() => c.state === 'connected', 5000, 'connected after reconnect()');
      assert.equal(c.userId, 'quinn');
    } finally {
      c.close();
      await server.stop();
    }
  });
});

describe('limits', () => {
  test('the sixth connection of a user is refused with a clear error', async () => {
    const server = await startServer();
    const clients = [];
    try {
      for (let i = 0; i < 5; i += 1) {
        const c = createClient({ url: server.wsUrl, token: server.token('busy-user') });
        clients.push(c);
        await c.channel(`room:l${i}`).whenSubscribed();
      }
      const sixth = createClient({ url: server.wsUrl, token: server.token('busy-user') });
      clients.push(sixth);
      const errors = [];
      sixth.onError((e) => errors.push(e.code));
      sixth.subscribe('room:l6', () => {});
      await waitFor(() => sixth.state === 'error');
      assert.deepEqual(errors, ['too_many_connections']);
      for (const c of clients.slice(0, 5)) assert.equal(c.state, 'connected');
    } finally {
      for (const c of clients) c.close();
      await server.stop();
    }
  });

  test('rate limiting is reported per send with a retry hint', async () => {
    const server = await startServer({ args: ['--rate-limit', '5', '--rate-burst', '5'] });
    const c = createClient({ url: server.wsUrl, token: server.token('chatty') });
    try {
      await c.channel('room:rl').whenSubscribed();
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => c.send('room:rl', 'e', i)));
      const limited = results.filter((r) => r.status === 'rejected' && r.reason.code === 'rate_limited');
      assert.ok(limited.length > 0, 'some sends were rate limited');
      assert.ok(results.some((r) => r.status === 'fulfilled'), 'the burst went through');
      assert.ok(Number(limited[0].reason.details?.retryAfterMs) > 0, 'with retryAfterMs');
      assert.equal(c.state, 'connected');
    } finally {
      c.close();
      await server.stop();
    }
  });
});
