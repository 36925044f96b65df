// Several nodes on Redis (issue #15): a node that missed publications (its PUB/SUB connection lost while it could
// not run) and finds them trimmed from the stream when it reads back tells its live subscribers with a
// window_exceeded gap (PROTOCOL section 9), instead of skipping the hole silently. Real redis-server and nodes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { createClient } from '../../web/dist/index.js';
import { connectAuthed } from '../support/raw-client.mjs';
import { waitFor } from '../support/wait.mjs';
import { missingBinaries, startNodes, startRedis } from './helpers/cluster.mjs';

const missing = missingBinaries();
const skip = missing.length ? `not installed: ${missing.join(', ')} (run scripts/setup.sh)` : false;

describe('scale-out: a hole the stream no longer holds', { skip }, () => {
  let redis;
  let nodes;
  before(async () => {
    redis = await startRedis();
    // Streams keep 5 entries, so 20 missed publications cannot all be read back.
    nodes = await startNodes(redis, 2, { args: ['--data-dir', ':memory:', '--history-size', '5'] });
  });
  after(async () => {
    for (const n of nodes ?? []) n.process.kill('SIGCONT');
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await redis?.stop();
    redis?.cleanup();
  });

  /** Stops node `n`, makes Redis drop every PUB/SUB connection, runs `meanwhile`, resumes the node. */
  async function whileFrozen(n, meanwhile) {
    n.process.kill('SIGSTOP');
    try {
      await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await meanwhile();
    } finally {
      n.process.kill('SIGCONT');
    }
  }

  test('a raw subscriber gets a subscribed push without ref (window_exceeded), then what the stream still holds', async () => {
    const [a, b] = nodes;
    const sub = await connectAuthed(b, 'ann');
    const s = await sub.subscribe('room:trim');
    const pub = await connectAuthed(a, 'bo');
    await pub.publish('room:trim', 'n', 0);
    assert.equal((await sub.nextChannelMessage()).offset, 1);
    await whileFrozen(b, async () => {
      for (let i = 1; i <= 20; i++) await pub.publish('room:trim', 'n', i);
    });
    const push = await sub.next((m) => m.type === 'subscribed');
    assert.equal(push.ref, undefined, 'a push, not an answer');
    assert.equal(push.recovered, false);
    assert.equal(push.reason, 'window_exceeded');
    assert.equal(push.epoch, s.epoch);
    assert.equal(push.offset, 16, 'delivery resumes after 16: the stream holds 17-21');
    const offsets = [];
    for (let i = 0; i < 5; i++) offsets.push((await sub.nextChannelMessage()).offset);
    assert.deepEqual(offsets, [17, 18, 19, 20, 21]);
    const metrics = await (await fetch(`${b.httpUrl}/metrics`)).text();
    assert.match(metrics, /tidewire_broker_gaps_total 1\b/);
    await Promise.all([sub.close(), pub.close()]);
  });

  test('the tidewire client reports it as a gap on the channel and keeps delivering', async () => {
    const [a, b] = nodes;
    const client = createClient({ url: b.wsUrl, token: b.token('cy') });
    try {
      const gaps = [];
      const got = [];
      const channel = client.channel('room:trim2');
      channel.onGap((g) => gaps.push(g.reason));
      channel.on('n', (m) => got.push(m.payload));
      channel.subscribe();
      await channel.whenSubscribed();
      const pub = await connectAuthed(a, 'di');
      await pub.publish('room:trim2', 'n', 0);
      await waitFor(() => got.length === 1, 5000, 'the first message');
      await whileFrozen(b, async () => {
        for (let i = 1; i <= 20; i++) await pub.publish('room:trim2', 'n', i);
      });
      await waitFor(() => got.length === 6, 10000, 'what the stream still held');
      assert.deepEqual(gaps, ['window_exceeded']);
      assert.deepEqual(got, [0, 16, 17, 18, 19, 20]);
      await pub.publish('room:trim2', 'n', 21);
      await waitFor(() => got.length === 7, 5000, 'live again');
      assert.equal(client.getMetrics().gaps, 1);
      await pub.close();
    } finally {
      client.close();
    }
  });
});
