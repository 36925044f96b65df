// The HTTP transports (SSE, long polling) on several nodes behind HAProxy (issues #15 and #17): an HTTP session
// lives on the node that opened it, and HAProxy sends its later requests there (the stick rules of
// tests/node/helpers/cluster.mjs haproxyConfig, README "Running several nodes"). Real redis-server, haproxy and
// three tidewire-server nodes; skipped, with the reason, only when those programs are not installed.
//   node --test tests/node/scale-out-http.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createClient } from '../../web/dist/index.js';
import { waitFor } from '../support/wait.mjs';
import { missingBinaries, startHaproxy, startNodes, startRedis } from './helpers/cluster.mjs';

const missing = missingBinaries();
const skip = missing.length ? `not installed: ${missing.join(', ')} (run scripts/setup.sh)` : false;
const fast = { reconnectBaseMs: 50, reconnectCapMs: 300 };

/** A node's counter from /metrics. */
async function counter(node, name) {
  const text = await (await fetch(`${node.httpUrl}/metrics`)).text();
  return Number(text.match(new RegExp(`^${name} (\\d+)$`, 'm'))?.[1] ?? NaN);
}

/** Subscribes every client to `channel`; returns, per client, the messages it receives. */
async function subscribeAll(clients, channel) {
  const got = clients.map(() => []);
  await Promise.all(clients.map(async (c, k) => {
    const ch = c.channel(channel).subscribe();
    ch.on('n', (m) => got[k].push(m));
    await ch.whenSubscribed();
  }));
  return got;
}

/** Each of `got` holds every publisher's `count` messages once, each publisher's in order, offsets increasing. */
function assertOnceInOrder(got, publishers, count) {
  for (const g of got) {
    assert.equal(g.length, publishers * count, 'no loss, no duplicate');
    for (let k = 1; k < g.length; k++) assert.ok(g[k].offset > g[k - 1].offset, 'offset order');
    for (let p = 0; p < publishers; p++)
      assert.deepEqual(g.filter((m) => m.payload.p === p).map((m) => m.payload.i), [...Array(count).keys()]);
  }
}

describe('HTTP transports on three nodes behind HAProxy', { skip }, () => {
  let redis;
  let nodes;
  before(async () => {
    redis = await startRedis();
    nodes = await startNodes(redis, 3, { args: ['--rate-limit', '10000', '--rate-burst', '10000'] });
  });
  after(async () => {
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await redis?.stop();
    redis?.cleanup();
  });

  test('SSE, long-poll and WebSocket clients spread over the nodes get each other\'s messages once, in order',
    { timeout: 30_000 }, async () => {
      const lb = await startHaproxy(nodes);
      const transports = ['sse', 'polling', 'websocket', 'sse', 'polling', 'websocket', 'sse', 'polling', 'websocket'];
      const clients = transports.map((t, k) =>
        createClient({ url: lb.wsUrl, token: nodes[0].token(`u${k}`), transports: [t], ...fast }));
      try {
        const before = await Promise.all(nodes.map((n) => counter(n, 'tidewire_publications_total')));
        const got = await subscribeAll(clients, 'room:http');
        const count = 20;
        const acks = [];
        for (let i = 0; i < count; i++) for (const [p, c] of clients.entries()) acks.push(c.send('room:http', 'n', { p, i }));
        await Promise.all(acks);
        const expected = clients.length * count;
        await waitFor(() => got.every((g) => g.length >= expected), 15_000,
          `every client has ${expected} (${got.map((g) => g.length).join(',')})`);
        await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive
        assertOnceInOrder(got, clients.length, count);
        assert.deepEqual(clients.map((c) => c.getMetrics().transport), transports);
        // Every client kept its first connection: no session was refused by a node that did not hold it.
        assert.deepEqual(clients.map((c) => c.getMetrics().connectionSuccesses), transports.map(() => 1));
        // Round robin spread the sessions: every node published some of the messages.
        const after = await Promise.all(nodes.map((n) => counter(n, 'tidewire_publications_total')));
        assert.ok(after.every((a, k) => a > before[k]), `publications per node ${before} -> ${after}`);
      } finally {
        for (const c of clients) c.close();
        await lb.stop();
      }
    });

  test('without the stick rules, an HTTP session\'s requests reach nodes that do not hold it (why they are needed)',
    { timeout: 15_000 }, async () => {
      const lb = await startHaproxy(nodes, { sticky: false });
      const auth = { authorization: `Bearer ${nodes[0].token('nostick')}` };
      try {
        const res = await fetch(`${lb.httpUrl}/ws/poll`, { headers: auth });
        const { session, ack } = JSON.parse((await res.text()).split('\n')[0]);
        const statuses = [];
        for (let i = 0; i < 3; i++) {
          const r = await fetch(`${lb.httpUrl}/ws/send?session=${session}&ack=${ack}`, { method: 'POST', body: '', headers: auth });
          statuses.push(r.status);
        }
        assert.deepEqual(statuses.sort(), [204, 404, 404], 'round robin: one node of three holds the session');
      } finally {
        await lb.stop();
      }
    });

  test('kill -9 of a node: its SSE and long-poll sessions reconnect on the others, every acked message once, in order',
    { timeout: 60_000 }, async () => {
      const lb = await startHaproxy(nodes);
      const client = (user, t) => createClient({ url: lb.wsUrl, token: nodes[0].token(user), transports: [t], ...fast });
      // Round robin: 6 subscribers and 2 publishers land on all three nodes.
      const subscribers = Array.from({ length: 6 }, (_, k) => client(`ks${k}`, k % 2 ? 'polling' : 'sse'));
      const publishers = [client('kp0', 'sse'), client('kp1', 'polling')];
      try {
        const got = await subscribeAll(subscribers, 'room:http-death');
        await Promise.all(publishers.map((p) => p.channel('room:http-death').whenSubscribed()));
        const total = 100;
        const acks = [];
        for (let i = 0; i < total; i += 1) {
          for (const [p, c] of publishers.entries()) acks.push(c.send('room:http-death', 'n', { p, i }));
          if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
          if (i === 40) nodes[2].process.kill('SIGKILL');
        }
        await Promise.all(acks);
        const expected = publishers.length * total;
        await waitFor(() => got.every((g) => g.length >= expected), 30_000,
          `every subscriber has ${expected} (${got.map((g) => g.length).join(',')})`);
        await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive
        assertOnceInOrder(got, publishers.length, total);
        const reconnected = subscribers.filter((c) => c.getMetrics().connectionSuccesses >= 2);
        assert.ok(reconnected.length > 0, 'some subscribers were on the killed node and reconnected');
        assert.ok(subscribers.every((c) => c.state === 'connected'));
      } finally {
        for (const c of [...subscribers, ...publishers]) c.close();
        await lb.stop();
        await nodes[2].stop();
      }
    });
});
