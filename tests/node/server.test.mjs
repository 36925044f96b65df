// Integration tests of the native tidewire-server against docs/PROTOCOL.md, with the `ws` client.
// Run: node --test tests/node/server.test.mjs (after building build/native/src/server/tidewire-server).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { makeToken, startServer } from './helpers/server.mjs';
import { connectAuthed, RawClient } from '../support/raw-client.mjs';

function httpGet(server, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('tidewire-server', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  describe('authentication', () => {
    test('a token in the subprotocol authenticates; the server echoes only "jwt"', async () => {
      const c = await connectAuthed(server, 'alice');
      assert.equal(c.ws.protocol, 'jwt');
      const w = c.welcome;
      assert.equal(w.version, 1);
      assert.equal(w.userId, 'alice');
      assert.match(w.connectionId, /^c-[0-9a-f]{16}$/);
      assert.ok(Math.abs(w.serverTime - Date.now()) < 60000);
      assert.equal(w.heartbeatIntervalMs, 30000);
      assert.deepEqual(w.limits, {
        maxMessageBytes: 65536,
        maxChannels: 100,
        rateLimit: { messagesPerSecond: 100, burst: 200 },
        maxConnectionsPerUser: 5,
      });
      assert.ok(Math.abs(w.expiresAt - (Date.now() + 3600_000)) < 60000);
      const other = await connectAuthed(server, 'alice');
      assert.notEqual(other.welcome.connectionId, w.connectionId);
      await Promise.all([c.close(), other.close()]);
    });

    for (const [name, token] of [
      ['a bad signature', () => makeToken('wrong-secret', { sub: 'a', exp: Date.now() / 1000 + 60 })],
      ['an expired token', () => server.token('a', {}, { expiresInSec: -120 })],
      ['garbage', () => 'not.a.token'],
      ['no sub', () => makeToken(server.secret, { exp: Math.floor(Date.now() / 1000) + 60 })],
    ]) {
      test(`${name} in the subprotocol is refused with HTTP 401 before the upgrade`, async () => {
        const c = new RawClient(server.wsUrl, ['jwt', token()]);
        const err = await c.opened.then(() => null, (e) => e);
        assert.equal(err?.status, 401);
      });
    }

    test('first-message auth', async () => {
      const c = new RawClient(server.wsUrl);
      await c.opened;
      assert.equal(c.ws.protocol, '');
      c.send({ type: 'auth', token: server.token('bob') });
      const w = await c.nextOfType('auth_success');
      assert.equal(w.userId, 'bob');
      c.send({ type: 'ping', ts: 1 });
      await c.nextOfType('pong');
      await c.close();
    });

    test('a first message that is not auth closes with 4001', async () => {
      const c = new RawClient(server.wsUrl);
      await c.opened;
      c.send({ type: 'subscribe', channel: 'x' });
      assert.equal((await c.closed).code, 4001);
    });

    test('a bad first-message token closes with 4001, an expired one with 4003', async () => {
      const bad = new RawClient(server.wsUrl);
      await bad.opened;
      bad.send({ type: 'auth', token: makeToken('nope', { sub: 'a', exp: 9999999999 }) });
      const closed = await bad.closed;
      assert.equal(closed.code, 4001);
      assert.match(closed.reason, /signature/);

      const expired = new RawClient(server.wsUrl);
      await expired.opened;
      expired.send({ type: 'auth', token: server.token('a', {}, { expiresInSec: -3600 }) });
      assert.equal((await expired.closed).code, 4003);
    });

    test('no auth in time closes with 4002', async () => {
      const quick = await startServer({ args: ['--auth-timeout-ms', '200'] });
      try {
        const c = new RawClient(quick.wsUrl);
        await c.opened;
        const started = Date.now();
        const closed = await c.closed;
        assert.equal(closed.code, 4002);
        assert.ok(Date.now() - started < 2000);
      } finally {
        await quick.stop();
      }
    });
  });

  describe('upgrade checks', () => {
    test('a WebSocket on another path gets 404', async () => {
      const c = new RawClient(`ws://127.0.0.1:${server.port}/nope`, ['jwt', server.token('a')]);
      const err = await c.opened.then(() => null, (e) => e);
      assert.equal(err?.status, 404);
    });

    test('an unsupported ?v= gets 400 naming the supported versions; v=1 works', async () => {
      const c = new RawClient(`${server.wsUrl}?v=2`, ['jwt', server.token('a')]);
      const err = await c.opened.then(() => null, (e) => e);
      assert.equal(err?.status, 400);
      assert.deepEqual(JSON.parse(err.body).supportedVersions, [1]);
      const ok = new RawClient(`${server.wsUrl}?v=1`, ['jwt', server.token('a')]);
      await ok.opened;
      await ok.close();
    });

    test('--allowed-origins refuses other Origins with 403', async () => {
      const strict = await startServer({ args: ['--allowed-origins', 'http://good.example,http://also.example'] });
      try {
        const bad = new RawClient(strict.wsUrl, ['jwt', strict.token('a')], { origin: 'http://evil.example' });
        assert.equal((await bad.opened.then(() => null, (e) => e))?.status, 403);
        const good = new RawClient(strict.wsUrl, ['jwt', strict.token('a')], { origin: 'http://also.example' });
        await good.opened;
        await good.close();
      } finally {
        await strict.stop();
      }
    });
  });

  describe('channels', () => {
    test('a channel message fans out to every subscriber with offsets 1, 2, 3 and acks the sender', async () => {
      const alice = await connectAuthed(server, 'alice');
      const bob = await connectAuthed(server, 'bob');
      alice.send({ type: 'subscribe', channel: 'room:fanout', ref: 's1' });
      bob.send({ type: 'subscribe', channel: 'room:fanout', ref: 's2' });
      const sub = await alice.nextOfType('subscribed');
      assert.match(sub.epoch, /^e-[0-9a-f]{16}$/);
      assert.deepEqual(sub, { type: 'subscribed', channel: 'room:fanout', ref: 's1', offset: 0, epoch: sub.epoch });
      await bob.nextOfType('subscribed', { ref: 's2' });

      for (let i = 1; i <= 3; i++) {
        alice.send({ type: 'channel_message', channel: 'room:fanout', event: 'chat', payload: { n: i, t: 'hé' }, ref: `p${i}` });
      }
      for (let i = 1; i <= 3; i++) {
        const ack = await alice.nextOfType('ack', { ref: `p${i}` });
        assert.deepEqual(ack, { type: 'ack', ref: `p${i}`, channel: 'room:fanout', offset: i });
        for (const c of [alice, bob]) {
          const m = await c.nextOfType('channel_message');
          assert.equal(m.offset, i);
          assert.equal(m.channel, 'room:fanout');
          assert.equal(m.event, 'chat');
          assert.equal(m.from, 'alice');
          assert.deepEqual(m.payload, { n: i, t: 'hé' });
          assert.ok(Math.abs(m.ts - Date.now()) < 60000);
        }
      }
      await Promise.all([alice.close(), bob.close()]);
    });

    test('unsubscribe stops delivery; subscribing twice is not an error', async () => {
      const c = await connectAuthed(server, 'carol');
      c.send({ type: 'subscribe', channel: 'room:u' });
      c.send({ type: 'subscribe', channel: 'room:u', ref: 'again' });
      await c.nextOfType('subscribed', { ref: 'again' });
      c.send({ type: 'unsubscribe', channel: 'room:u', ref: 'u1' });
      assert.deepEqual(await c.nextOfType('unsubscribed'), { type: 'unsubscribed', channel: 'room:u', ref: 'u1' });
      c.send({ type: 'unsubscribe', channel: 'room:u', ref: 'u2' });
      assert.equal((await c.nextOfType('error', { ref: 'u2' })).code, 'not_subscribed');
      await c.close();
    });

    test('several messages in one client frame are all handled', async () => {
      const c = await connectAuthed(server, 'dave');
      c.send('{"type":"ping","ref":"a"}\n{"type":"ping","ref":"b"}\n\n{"type":"ping","ref":"c"}');
      for (const ref of ['a', 'b', 'c']) await c.nextOfType('pong', { ref });
      await c.close();
    });

    test('--max-channels is enforced with too_many_channels', async () => {
      const small = await startServer({ args: ['--max-channels', '2'] });
      try {
        const c = await connectAuthed(small, 'eve');
        assert.equal(c.welcome.limits.maxChannels, 2);
        for (const ch of ['a', 'b', 'c']) c.send({ type: 'subscribe', channel: ch, ref: ch });
        await c.nextOfType('subscribed', { ref: 'b' });
        assert.equal((await c.nextOfType('error', { ref: 'c' })).code, 'too_many_channels');
        await c.close();
      } finally {
        await small.stop();
      }
    });
  });

  describe('delivery', () => {
    test('messages published together reach a subscriber batched in one frame', async () => {
      const alice = await connectAuthed(server, 'alice');
      const bob = await connectAuthed(server, 'bob');
      for (const c of [alice, bob]) {
        c.send({ type: 'subscribe', channel: 'room:batch', ref: 's' });
        await c.nextOfType('subscribed');
      }
      const framesBefore = bob.frames;
      const batch = [];
      for (let i = 0; i < 10; i++) batch.push(JSON.stringify({ type: 'channel_message', channel: 'room:batch', event: 'e', payload: i }));
      alice.send(batch.join('\n'));
      for (let i = 0; i < 10; i++) assert.equal((await bob.nextOfType('channel_message')).payload, i);
      assert.ok(bob.frames - framesBefore < 10, `10 messages came in ${bob.frames - framesBefore} frames`);
      await Promise.all([alice.close(), bob.close()]);
    });

    test('with several threads each subscriber sees a channel in offset order', async () => {
      const s = await startServer({ args: ['--threads', '2', '--write-delay-us', '500'] });
      try {
        const clients = await Promise.all(['a', 'b', 'c'].map((u) => connectAuthed(s, u)));
        for (const c of clients) {
          c.send({ type: 'subscribe', channel: 'room:mt' });
          await c.nextOfType('subscribed');
        }
        for (let i = 0; i < 50; i++) {
          for (const c of clients) c.send({ type: 'channel_message', channel: 'room:mt', event: 'e', payload: i });
        }
        for (const c of clients) {
          for (let offset = 1; offset <= 150; offset++) {
            assert.equal((await c.nextOfType('channel_message')).offset, offset);
          }
        }
        await Promise.all(clients.map((c) => c.close()));
      } finally {
        await s.stop();
      }
    });

    test('a subscriber that stops reading is closed with 1013 (slow consumer)', async () => {
      const s = await startServer({ args: ['--max-queued-bytes', String(2 << 20), '--rate-limit', '0'] });
      try {
        const slow = await connectAuthed(s, 'slow');
        const fast = await connectAuthed(s, 'fast');
        for (const c of [slow, fast]) {
          c.send({ type: 'subscribe', channel: 'room:slow' });
          await c.nextOfType('subscribed');
        }
        slow.ws._socket.pause(); // stop reading: the kernel buffers fill, then the server's queue
        // 24 MB in chunks of 50 messages: the publisher itself keeps reading, so only `slow` falls behind.
        const payload = 'x'.repeat(8000);
        let sent = 0;
        for (let chunk = 0; chunk < 60; chunk++) {
          for (let i = 0; i < 50; i++, sent++) fast.send({ type: 'channel_message', channel: 'room:slow', event: 'e', payload, ref: `${sent}` });
          await fast.nextOfType('ack', { ref: `${sent - 1}` });
          fast.inbox.length = 0;
        }
        slow.ws._socket.resume();
        const closed = await slow.closed;
        assert.equal(closed.code, 1013);
        assert.equal(closed.reason, 'slow consumer');
        fast.send({ type: 'ping', ref: 'fine' });
        await fast.nextOfType('pong', { ref: 'fine' });
        await fast.close();
      } finally {
        await s.stop();
      }
    });

    test('the server pings an idle connection every --heartbeat-ms', async () => {
      const s = await startServer({ args: ['--heartbeat-ms', '200'] });
      try {
        const c = await connectAuthed(s, 'idle');
        assert.equal(c.welcome.heartbeatIntervalMs, 200);
        const started = Date.now();
        await new Promise((resolve) => c.ws.once('ping', resolve));
        assert.ok(Date.now() - started < 1500);
        await c.close();
      } finally {
        await s.stop();
      }
    });
  });

  test('ping is answered with pong echoing ts', async () => {
    const c = await connectAuthed(server, 'pinger');
    c.send({ type: 'ping', ts: 123.5, ref: 'r' });
    const pong = await c.nextOfType('pong');
    assert.equal(pong.ts, 123.5);
    assert.equal(pong.ref, 'r');
    assert.ok(Math.abs(pong.serverTime - Date.now()) < 60000);
    c.send({ type: 'ping' });
    assert.equal('ts' in (await c.nextOfType('pong')), false);
    await c.close();
  });

  describe('malformed input gets an error and the connection stays open', () => {
    const cases = [
      ['invalid JSON', '{"type":', 'bad_json', undefined],
      ['not an object', '[1,2]', 'bad_request', undefined],
      ['missing type', { ref: 'm0' }, 'bad_request', 'm0'],
      ['unknown type', { type: 'dance', ref: 'm1' }, 'unknown_type', 'm1'],
      ['missing channel', { type: 'subscribe', ref: 'm2' }, 'bad_request', 'm2'],
      ['invalid channel name', { type: 'subscribe', channel: 'bad channel!', ref: 'm3' }, 'bad_request', 'm3'],
      ['non-string event', { type: 'channel_message', channel: 'room:m', event: 1, payload: 1, ref: 'm4' }, 'bad_request', 'm4'],
      ['missing payload', { type: 'channel_message', channel: 'room:m', event: 'e', ref: 'm5' }, 'bad_request', 'm5'],
      ['publish to a chat: channel', { type: 'channel_message', channel: 'chat:1', event: 'e', payload: {}, ref: 'm6' }, 'forbidden', 'm6'],
      ["publish to another user's channel", { type: 'channel_message', channel: 'user:bob', event: 'e', payload: {}, ref: 'm6b' }, 'forbidden', 'm6b'],
      ['non-number ping ts', { type: 'ping', ts: 'x', ref: 'm7' }, 'bad_request', 'm7'],
      ['a ref that is too long', { type: 'ping', ref: 'r'.repeat(65) }, 'bad_request', undefined],
      ['auth again with a bad token (refresh refused)', { type: 'auth', token: 'x', ref: 'm8' }, 'auth_failed', 'm8'],
      ['deep nesting', `{"type":"ping","x":${'['.repeat(5000)}${']'.repeat(5000)}}`, 'bad_request', undefined],
    ];
    let c;
    before(async () => {
      c = await connectAuthed(server, 'mallory');
    });
    after(async () => {
      await c.close();
    });
    for (const [name, input, code, ref] of cases) {
      test(name, async () => {
        c.send(input);
        const err = await c.nextOfType('error');
        assert.equal(err.code, code, JSON.stringify(err));
        assert.equal(err.ref, ref);
        assert.equal(typeof err.message, 'string');
        c.send({ type: 'ping', ref: 'still-open' });
        await c.nextOfType('pong', { ref: 'still-open' });
      });
    }

    test('a binary frame', async () => {
      c.ws.send(Buffer.from([1, 2, 3]));
      const err = await c.nextOfType('error');
      assert.equal(err.code, 'bad_request');
      assert.match(err.message, /binary/);
    });

    test('a frame over maxMessageBytes closes with 1009', async () => {
      const big = await connectAuthed(server, 'big');
      big.send({ type: 'ping', pad: 'x'.repeat(70000) });
      assert.equal((await big.closed).code, 1009);
      c.send({ type: 'ping', ref: 'others-unaffected' });
      await c.nextOfType('pong', { ref: 'others-unaffected' });
    });
  });

  describe('HTTP', () => {
    test('/healthz', async () => {
      const res = await httpGet(server, '/healthz');
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.body), { status: 'ok' });
    });

    test('unknown paths get 404; plain GET on the WebSocket path gets 426', async () => {
      assert.equal((await httpGet(server, '/nothing')).status, 404);
      assert.equal((await httpGet(server, '/ws')).status, 426);
    });

    test('/dev/token is off by default', async () => {
      assert.equal((await httpGet(server, '/dev/token?user=alice')).status, 404);
    });

    test('--dev-tokens issues working tokens and validates the user name', async () => {
      const dev = await startServer({ args: ['--dev-tokens'] });
      try {
        const res = await httpGet(dev, '/dev/token?user=zoe.test-1');
        assert.equal(res.status, 200);
        const body = JSON.parse(res.body);
        assert.equal(body.userId, 'zoe.test-1');
        assert.ok(body.expiresAt > Date.now() + 3500_000 && body.expiresAt <= Date.now() + 3600_000 + 1000);
        const c = new RawClient(dev.wsUrl, ['jwt', body.token]);
        await c.opened;
        assert.equal((await c.nextOfType('auth_success')).userId, 'zoe.test-1');
        await c.close();
        for (const bad of ['', 'a%20b', 'x'.repeat(65), '%C3%A9']) {
          const r = await httpGet(dev, `/dev/token?user=${bad}`);
          assert.equal(r.status, 400, bad);
          assert.ok(JSON.parse(r.body).message);
        }
        assert.equal((await httpGet(dev, '/dev/token')).status, 400);
      } finally {
        await dev.stop();
      }
    });

    describe('static files', () => {
      let dir;
      let files;
      before(async () => {
        dir = mkdtempSync(join(tmpdir(), 'tidewire-static-'));
        const root = join(dir, 'public');
        mkdirSync(join(root, 'sub'), { recursive: true });
        writeFileSync(join(root, 'index.html'), '<h1>home</h1>');
        writeFileSync(join(root, 'app.mjs'), 'export {};');
        writeFileSync(join(root, 'mod.wasm'), Buffer.from([0, 97, 115, 109]));
        writeFileSync(join(root, 'sub', 'index.html'), 'sub');
        writeFileSync(join(root, '.env'), 'SECRET=1');
        writeFileSync(join(dir, 'outside.txt'), 'outside');
        symlinkSync(join(dir, 'outside.txt'), join(root, 'link.txt'));
        files = await startServer({ args: ['--static-dir', root] });
      });
      after(async () => {
        await files?.stop();
        rmSync(dir, { recursive: true, force: true });
      });

      test('serves files with their content types and index.html for directories', async () => {
        const home = await httpGet(files, '/');
        assert.equal(home.status, 200);
        assert.equal(home.body, '<h1>home</h1>');
        assert.match(home.headers['content-type'], /^text\/html/);
        assert.match((await httpGet(files, '/app.mjs')).headers['content-type'], /^text\/javascript/);
        assert.equal((await httpGet(files, '/mod.wasm')).headers['content-type'], 'application/wasm');
        assert.equal((await httpGet(files, '/sub/')).body, 'sub');
        assert.equal((await httpGet(files, '/sub')).body, 'sub');
        assert.equal((await httpGet(files, '/healthz')).status, 200);
      });

      test('never serves anything outside the directory, nor dotfiles', async () => {
        for (const path of ['/../outside.txt', '/%2e%2e/outside.txt', '/sub/../../outside.txt', '/%2E%2E%2Foutside.txt',
          '/link.txt', '/.env', '/sub/%2e%2e/.env', '/..%5coutside.txt', '/%00', '/missing.js']) {
          const res = await httpGet(files, path);
          assert.equal(res.status, 404, path);
          assert.doesNotMatch(res.body, /outside|SECRET/, path);
        }
      });
    });
  });

  test('SIGTERM closes clients with 1001 and exits 0', async () => {
    const s = await startServer();
    const c = await connectAuthed(s, 'last');
    const [closed, exit] = await Promise.all([c.closed, s.stop()]);
    assert.equal(closed.code, 1001);
    assert.match(closed.reason, /retry_after_ms=\d+/);
    assert.equal(exit.code, 0);
  });
});
