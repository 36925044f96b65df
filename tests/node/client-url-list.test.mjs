// options.url as a list or a function against real servers (issue #15): two tidewire-server nodes on one Redis
// (tests/node/helpers/cluster.mjs), no load balancer: the client picks the node. A list whose first URL is a
// dead port moves on to the next; a function that names the other node once one is killed recovers every
// message (the nodes share their channels' streams in Redis). Skipped, with the reason, only when redis-server
// is not installed (scripts/setup.sh installs it).
//   node --test tests/node/client-url-list.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createClient } from '../../web/dist/index.js';
import { waitFor } from '../support/wait.mjs';
import { freePort, missingBinaries, startNodes, startRedis } from './helpers/cluster.mjs';

const missing = missingBinaries().filter((b) => b !== 'haproxy');
const skip = missing.length ? `not installed: ${missing.join(', ')} (run scripts/setup.sh)` : false;
const FAST = { reconnectBaseMs: 50, reconnectCapMs: 300 };

describe('options.url: a list or a function, two nodes on Redis', { skip }, () => {
  let redis;
  let nodes;
  const clients = [];
  const client = (options) => {
    const c = createClient({ ...FAST, ...options });
    clients.push(c);
    return c;
  };
  before(async () => {
    redis = await startRedis();
    nodes = await startNodes(redis, 2);
  });
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await redis?.stop();
    redis?.cleanup();
  });

  test('a list whose first URL is a dead port connects through the next and keeps it for reconnects', { timeout: 20_000 }, async () => {
    const [a] = nodes;
    const dead = `ws://127.0.0.1:${await freePort()}/ws`;
    const c = client({ url: [dead, a.wsUrl], token: a.token('ann') });
    const got = [];
    const ch = c.channel('room:list');
    ch.on('n', (m) => got.push(m.payload));
    await ch.whenSubscribed();
    const m = c.getMetrics();
    assert.equal(m.connectionFailures, 1, 'one failed attempt: the dead port');
    assert.equal(m.connectionSuccesses, 1);
    await c.send('room:list', 'n', 1);
    await waitFor(() => got.length === 1, 5000, 'its own message');
    c.reconnect(); // a reconnect goes straight to the URL that worked
    await waitFor(() => c.getMetrics().connectionSuccesses === 2 && c.state === 'connected', 5000, 'the reconnect');
    assert.equal(c.getMetrics().connectionFailures, 1, 'the dead port was not tried again');
  });

  test('a function switching nodes after one is killed: every message arrives once, in order', { timeout: 60_000 }, async () => {
    const [a, b] = nodes;
    let aDead = false;
    const urlCalls = [];
    const errors = [];
    let failFirst = true;
    const receiver = client({
      token: a.token('sub'),
      url: async () => {
        if (failFirst) {
          failFirst = false; // the discovery service is down once: a failed attempt, retried with the backoff
          throw new Error('discovery unavailable');
        }
        const node = aDead ? b : a;
        urlCalls.push(node === a ? 'a' : 'b');
        return node.wsUrl;
      },
    });
    receiver.onError((e) => errors.push(e));
    const publisher = client({ url: b.wsUrl, token: b.token('pub') });
    const got = [];
    const ch = receiver.channel('room:switch');
    ch.on('n', (m) => got.push(m.payload));
    await ch.whenSubscribed();
    assert.equal(errors[0]?.code, 'url_provider_failed');
    assert.match(errors[0].message, /discovery unavailable.*retried with the reconnect backoff/);
    assert.deepEqual(urlCalls, ['a']);

    const total = 200;
    const acks = [];
    for (let i = 0; i < total; i += 1) {
      acks.push(publisher.send('room:switch', 'n', i));
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
      if (i === 80) {
        a.process.kill('SIGKILL'); // the receiver's node dies mid-stream
        aDead = true;
      }
    }
    await Promise.all(acks);
    await waitFor(() => got.length >= total, 20_000, `all ${total} messages (got ${got.length})`);
    await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive
    assert.deepEqual(got, [...Array(total).keys()], 'every message once, in order (recovered from the stream)');
    assert.equal(urlCalls.at(-1), 'b');
    assert.ok(receiver.getMetrics().connectionSuccesses >= 2, 'the receiver reconnected');
    assert.equal(receiver.getMetrics().gaps, 0, 'recovered, no gap');
  });
});
