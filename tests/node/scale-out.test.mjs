// Several tidewire-server nodes on one Redis behind HAProxy (issue #15): real redis-server, real haproxy, real
// nodes (tests/node/helpers/cluster.mjs). Skipped, with the reason, only when those programs are not installed
// (scripts/setup.sh installs them).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { createClient } from '../../web/dist/index.js';
import { connectAuthed, connectRaw } from '../support/raw-client.mjs';
import { waitFor } from '../support/wait.mjs';
import { missingBinaries, startHaproxy, startNodes, startRedis } from './helpers/cluster.mjs';

const missing = missingBinaries();
const skip = missing.length ? `not installed: ${missing.join(', ')} (run scripts/setup.sh)` : false;

/** Subscribes with recovery from `since` ({offset, epoch}); resolves with the `subscribed` reply. */
function subscribeSince(client, channel, since) {
  return client.request({ type: 'subscribe', channel, since }, 'subscribed');
}

/** The payloads of the next `n` channel messages of `channel`, checking offsets follow each other from `from`. */
async function takeInOrder(client, channel, n, from) {
  const got = [];
  for (let i = 0; i < n; i++) {
    const m = await client.nextChannelMessage((x) => x.channel === channel);
    assert.equal(m.offset, from + i, `offset ${from + i} expected, got ${m.offset}`);
    got.push(m.payload);
  }
  return got;
}

/**
 * A burst of publishes on node `a` (N WebSocket frames in one TCP write): counts a's write() calls (hiredis writes
 * to Redis with write(); the WebSocket sessions use sendmsg(), which /proc/<pid>/io syscw does not count; logs are
 * quiet below warnings) and checks every ack, and the delivery in order to a subscriber on node `b`. Returns the
 * number of writes.
 */
async function publishBurst(a, b, channel, N) {
  const pub = await connectAuthed(a, 'burst-pub');
  const sub = await connectAuthed(b, 'burst-sub');
  await sub.subscribe(channel);
  await pub.publish(channel, 'n', { i: -1 }); // the channel's stream exists; node b listens
  await sub.nextChannelMessage();
  const writes = () => Number(/^syscw: (\d+)$/m.exec(readFileSync(`/proc/${a.process.pid}/io`, 'utf8'))[1]);
  const before = writes();
  pub.ws._socket.cork(); // one TCP write: the node reads the frames as one burst
  const refs = [];
  for (let i = 0; i < N; i++) {
    refs.push(`burst${i}`);
    pub.send({ type: 'channel_message', channel, event: 'n', payload: { i }, ref: `burst${i}` });
  }
  pub.ws._socket.uncork();
  const acks = await Promise.all(refs.map((ref) => pub.next((m) => m.ref === ref, `the ack of ${ref}`)));
  const redisWrites = writes() - before;
  assert.deepEqual(acks.map((m) => [m.type, m.offset]), refs.map((_, i) => ['ack', i + 2]));
  const got = await takeInOrder(sub, channel, N, 2);
  assert.deepEqual(got.map((p) => p.i), Array.from({ length: N }, (_, i) => i));
  await Promise.all([pub.close(), sub.close()]);
  return redisWrites;
}

describe('scale-out on Redis', { skip }, () => {
  let redis;
  let nodes;
  before(async () => {
    redis = await startRedis();
    nodes = await startNodes(redis, 3);
  });
  after(async () => {
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await redis?.stop();
    redis?.cleanup();
  });

  test('a publication on node 1 reaches a subscriber on node 2, in order, with the offsets of the acks', async () => {
    const [a, b] = nodes;
    const pub = await connectAuthed(a, 'alice');
    const sub = await connectAuthed(b, 'bob');
    const s = await sub.subscribe('room:cross');
    assert.equal(s.offset, 0);
    const acks = [];
    for (let i = 0; i < 50; i++) acks.push((await pub.publish('room:cross', 'n', { i })).offset);
    assert.deepEqual(acks, Array.from({ length: 50 }, (_, i) => i + 1));
    const got = await takeInOrder(sub, 'room:cross', 50, 1);
    assert.deepEqual(got.map((p) => p.i), Array.from({ length: 50 }, (_, i) => i));
    const m = sub.received.find((x) => x.type === 'channel_message');
    assert.equal(m.epoch, s.epoch);
    await Promise.all([pub.close(), sub.close()]);
  });

  test('a burst of publishes on one node goes to Redis in a write or two, not one each; all acked and delivered in order', async () => {
    const writes = await publishBurst(nodes[0], nodes[1], 'room:burst', 30);
    // Written as the node read them, they took a write per publish or two (16 here before the flush tick did it).
    assert.ok(writes >= 1 && writes <= 8, `node 1 wrote to Redis ${writes} times for a burst of 30 publishes (1 to 8 expected; the tick waits 500 µs at most)`);
  });

  test('recovery across nodes: subscribed on 1, gone, published through 2, resubscribed on 3 with since', async () => {
    const [a, b, c] = nodes;
    const first = await connectAuthed(a, 'carol');
    const s = await first.subscribe('room:recover');
    const pub = await connectAuthed(b, 'dave');
    await pub.publish('room:recover', 'n', { i: 0 });
    const seen = await first.nextChannelMessage();
    await first.close();
    for (let i = 1; i <= 20; i++) await pub.publish('room:recover', 'n', { i });
    const again = await connectAuthed(c, 'carol');
    const r = await subscribeSince(again, 'room:recover', { offset: seen.offset, epoch: s.epoch });
    assert.equal(r.recovered, true);
    assert.equal(r.offset, 21);
    const got = await takeInOrder(again, 'room:recover', 20, 2);
    assert.deepEqual(got.map((p) => p.i), Array.from({ length: 20 }, (_, i) => i + 1));
    // Live traffic follows the replay without a gap or a double.
    await pub.publish('room:recover', 'n', { i: 21 });
    assert.deepEqual(await takeInOrder(again, 'room:recover', 1, 22), [{ i: 21 }]);
    await Promise.all([pub.close(), again.close()]);
  });

  test('a publication with an id seen before, on another node, is acked duplicate and not broadcast again', async () => {
    const [a, b] = nodes;
    const sub = await connectAuthed(a, 'erin');
    await sub.subscribe('room:dedupe');
    const p1 = await connectAuthed(a, 'frank');
    const p2 = await connectAuthed(b, 'frank');
    const msg = { type: 'channel_message', channel: 'room:dedupe', event: 'n', payload: 1, id: 'm-1' };
    const first = await p1.request(msg, 'ack');
    const second = await p2.request(msg, 'ack');
    assert.equal(second.offset, first.offset);
    assert.equal(second.duplicate, true);
    await p1.publish('room:dedupe', 'n', 2);
    assert.deepEqual(await takeInOrder(sub, 'room:dedupe', 2, 1), [1, 2]);
    await Promise.all([sub.close(), p1.close(), p2.close()]);
  });

  test('a node listens to a channel on Redis only while it has local subscribers', async () => {
    const b = nodes[1];
    const listening = async () => (await redis.cli('PUBSUB', 'CHANNELS', 'tw:{room:idle}')) === 'tw:{room:idle}';
    const sub = await connectAuthed(b, 'kate');
    await sub.subscribe('room:idle');
    assert.equal(await listening(), true);
    await sub.unsubscribe('room:idle');
    await waitFor(async () => !(await listening()), 5000, 'UNSUBSCRIBE after the last local subscriber left');
    await sub.close();
  });

  test('chat events (server-side publications) go through Redis too: offsets from its stream, recovery', async () => {
    const a = nodes[0];
    const alice = await connectAuthed(a, 'c-alice');
    const bob = await connectAuthed(a, 'c-bob');
    const { room } = (await alice.request({ type: 'chat_create_room', name: 'Lobby', visibility: 'private',
      participants: ['c-bob'] }, 'reply')).data;
    const channel = `chat:${room.id}`;
    const s = await bob.subscribe(channel);
    await alice.request({ type: 'chat_send', roomId: room.id, text: 'one' }, 'reply');
    const live = await bob.nextChannelMessage((m) => m.event === 'message');
    assert.equal(live.epoch, s.epoch);
    assert.equal(await redis.cli('HGET', `tw:{${channel}}:meta`, 'offset'), String(live.offset));
    await bob.close();
    await alice.request({ type: 'chat_send', roomId: room.id, text: 'two' }, 'reply');
    const again = await connectAuthed(a, 'c-bob');
    const r = await subscribeSince(again, channel, { offset: live.offset, epoch: s.epoch });
    assert.equal(r.recovered, true);
    assert.equal((await again.nextChannelMessage((m) => m.event === 'message')).payload.text, 'two');
    await Promise.all([alice.close(), again.close()]);
  });

  test('a lost PUB/SUB connection (CLIENT KILL TYPE pubsub) is backfilled from the stream: nothing lost', async () => {
    const [a, b] = nodes;
    const sub = await connectAuthed(b, 'gina');
    await sub.subscribe('room:killed');
    const pub = await connectAuthed(a, 'hank');
    const metric = async () =>
      Number(/tidewire_broker_backfills_total (\d+)/.exec(await (await fetch(`${b.httpUrl}/metrics`)).text())[1]);
    const before = await metric();
    const sending = (async () => {
      for (let i = 0; i < 200; i++) await pub.publish('room:killed', 'n', i);
    })();
    await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await sending;
    const got = await takeInOrder(sub, 'room:killed', 200, 1);
    assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i));
    assert.ok((await metric()) > before, 'node 2 backfilled');
    await Promise.all([sub.close(), pub.close()]);
  });

  test('through HAProxy: /healthz of every node is ok and publications flow between connections', async () => {
    const lb = await startHaproxy(nodes);
    try {
      const token = (u) => nodes[0].token(u);
      const clients = await Promise.all(['i1', 'i2', 'i3'].map((u) => connectRaw(lb.wsUrl, token(u))));
      for (const c of clients) await c.subscribe('room:lb');
      await clients[0].publish('room:lb', 'n', 'x');
      for (const c of clients) assert.equal((await c.nextChannelMessage()).payload, 'x');
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      await lb.stop();
    }
  });

  test('kill -9 of one of three nodes mid-stream behind HAProxy: every acked message once, in order, everywhere',
    { timeout: 60_000 }, async () => {
      const lb = await startHaproxy(nodes);
      const fast = { reconnectBaseMs: 50, reconnectCapMs: 300 };
      const client = (user) => createClient({ url: lb.wsUrl, token: nodes[0].token(user), ...fast });
      // Round robin: 12 subscribers and 2 publishers land on all three nodes.
      const subscribers = Array.from({ length: 12 }, (_, i) => client(`s${i}`));
      const publishers = [client('p0'), client('p1')];
      try {
        const got = subscribers.map(() => []);
        await Promise.all(subscribers.map(async (c, k) => {
          const ch = c.channel('room:death').subscribe();
          ch.on('n', (m) => got[k].push(m));
          await ch.whenSubscribed();
        }));
        await Promise.all(publishers.map((p) => p.channel('room:death').whenSubscribed()));
        const total = 200;
        const acks = [];
        for (let i = 0; i < total; i += 1) {
          for (const [n, p] of publishers.entries()) acks.push(p.send('room:death', 'n', { n, i }));
          if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
          if (i === 80) nodes[2].process.kill('SIGKILL');
        }
        await Promise.all(acks);
        const expected = 2 * total;
        await waitFor(() => got.every((g) => g.length >= expected), 30_000,
          `every subscriber has ${expected} (${got.map((g) => g.length).join(',')})`);
        await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive
        for (const g of got) {
          assert.equal(g.length, expected, 'no duplicates');
          for (let k = 1; k < g.length; k++) assert.ok(g[k].offset > g[k - 1].offset, 'offset order');
          for (const n of [0, 1])
            assert.deepEqual(g.filter((m) => m.payload.n === n).map((m) => m.payload.i), [...Array(total).keys()]);
        }
        const reconnected = subscribers.filter((c) => c.getMetrics().connectionSuccesses >= 2).length;
        assert.ok(reconnected > 0, 'some subscribers were on the killed node and reconnected');
      } finally {
        for (const c of [...subscribers, ...publishers]) c.close();
        await lb.stop();
        await nodes[2].stop();
      }
    });

  test('a first subscribe waits for Redis without holding the connection: requests on that channel stay in order', async () => {
    const [a, b] = nodes;
    const pub = await connectAuthed(a, 'alice');
    for (let i = 0; i < 3; i++) await pub.publish('room:first', 'n', i);
    const sub = await connectAuthed(b, 'bob');
    // One frame: the first subscribe of room:first on node 2 waits for Redis (SUBSCRIBE + the read); the
    // unsubscribe and the second subscribe of the same channel wait behind it, a ping on no channel does not.
    sub.send([
      { type: 'subscribe', channel: 'room:first', ref: 's1', since: { offset: 1, epoch: 'not-this-one' } },
      { type: 'unsubscribe', channel: 'room:first', ref: 'u1' },
      { type: 'subscribe', channel: 'room:first', ref: 's2' },
      { type: 'ping', ref: 'p1' },
    ].map((m) => JSON.stringify(m)).join('\n'));
    const s1 = await sub.nextOfType('subscribed', { ref: 's1' });
    assert.equal(s1.offset, 3, 'the copy was read from the stream before the subscribe went on');
    assert.equal(s1.recovered, false);
    assert.equal(s1.reason, 'epoch_changed');
    await sub.nextOfType('unsubscribed', { ref: 'u1' });
    const s2 = await sub.nextOfType('subscribed', { ref: 's2' });
    assert.equal(s2.epoch, s1.epoch);
    const order = sub.received.filter((m) => ['s1', 'u1', 's2'].includes(m.ref)).map((m) => m.ref);
    assert.deepEqual(order, ['s1', 'u1', 's2']);
    await pub.publish('room:first', 'n', 3);
    assert.equal((await sub.nextChannelMessage((m) => m.channel === 'room:first')).offset, 4);
    await Promise.all([pub.close(), sub.close()]);
  });

  test('a Redis that does not answer: the pending subscribe gets unavailable after the timeout, the connection answers meanwhile', async () => {
    const [a] = nodes;
    const c = await connectAuthed(a, 'kim');
    process.kill(redis.pid, 'SIGSTOP'); // connected but silent: only the join's own timeout (5 s) can answer
    try {
      c.send({ type: 'subscribe', channel: 'room:stalled', ref: 's' });
      const pong = await c.request({ type: 'ping' });
      assert.equal(pong.type, 'pong', 'the I/O thread (which runs the broker) is not blocked by the join');
      assert.ok(!c.received.some((m) => m.ref === 's'), 'the subscribe is still waiting');
      const r = await c.next((m) => m.ref === 's', 'the subscribe answer', 8000);
      assert.equal(r.type, 'error');
      assert.equal(r.code, 'unavailable');
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    const s = await c.subscribe('room:stalled');
    assert.equal(s.offset, 0);
    await c.close();
  });

  // Last: it replaces Redis.
  test('Redis down: publishes get unavailable, /healthz 503, subscribers stay; a fresh Redis is a new epoch', async () => {
    const [a, b] = nodes;
    const sub = await connectAuthed(b, 'ivy');
    const s = await sub.subscribe('room:restart');
    const pub = await connectAuthed(a, 'jack');
    await pub.publish('room:restart', 'n', 'before');
    const m = await sub.nextChannelMessage();
    await redis.stop();
    await waitFor(async () => (await fetch(`${a.httpUrl}/healthz`)).status === 503, 5000, 'node 1 unhealthy');
    const refused = await pub.request({ type: 'channel_message', channel: 'room:restart', event: 'n', payload: 1 });
    assert.equal(refused.type, 'error');
    assert.equal(refused.code, 'unavailable');
    const notJoined = await pub.request({ type: 'subscribe', channel: 'room:elsewhere' });
    assert.equal(notJoined.type, 'error');
    assert.equal(notJoined.code, 'unavailable');
    await redis.restart();
    await waitFor(async () => (await fetch(`${a.httpUrl}/healthz`)).ok && (await fetch(`${b.httpUrl}/healthz`)).ok,
      5000, 'both nodes healthy again');
    const after = await pub.publish('room:restart', 'n', 'after');
    assert.equal(after.offset, 1, 'a new stream');
    const live = await sub.nextChannelMessage();
    assert.equal(live.payload, 'after');
    assert.notEqual(live.epoch, s.epoch);
    // A client recovering from the old stream is told so.
    const late = await connectAuthed(a, 'ivy');
    const r = await subscribeSince(late, 'room:restart', { offset: m.offset, epoch: s.epoch });
    assert.equal(r.recovered, false);
    assert.equal(r.reason, 'epoch_changed');
    await Promise.all([sub.close(), pub.close(), late.close()]);
  });
});

describe('scale-out on Redis with --threads 2 (the broker on a thread of its own)', { skip }, () => {
  let redis;
  let nodes;
  before(async () => {
    redis = await startRedis();
    nodes = await startNodes(redis, 2, { args: ['--threads', '2'] });
  });
  after(async () => {
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await redis?.stop();
    redis?.cleanup();
  });

  test('subscribers on both I/O threads of node 2 get node 1\'s publications in order, after recovery', async () => {
    const [a, b] = nodes;
    const pub = await connectAuthed(a, 'alice');
    await pub.publish('room:t2', 'n', 0);
    // Connections are spread round-robin over the I/O threads: four land on both. Their first subscribes wait for
    // the broker's thread together.
    const subs = await Promise.all([0, 1, 2, 3].map((i) => connectAuthed(b, `u${i}`)));
    const joined = await Promise.all(subs.map((c) => c.subscribe('room:t2')));
    for (const j of joined) assert.equal(j.offset, 1, 'the copy was read from the stream');
    for (let i = 1; i <= 20; i++) await pub.publish('room:t2', 'n', i);
    for (const c of subs) assert.deepEqual(await takeInOrder(c, 'room:t2', 20, 2), Array.from({ length: 20 }, (_, i) => i + 1));
    await Promise.all([pub.close(), ...subs.map((c) => c.close())]);
  });
});

test('--broker redis refuses the per-node SQLite stores, pointing at --database', async () => {
  const { startServer } = await import('./helpers/server.mjs');
  await assert.rejects(
    startServer({ args: ['--broker', 'redis://127.0.0.1:1', '--data-dir', '/tmp/tw-never'] }),
    /needs --database postgres:\/\/.*--data-dir :memory:/s,
  );
});
