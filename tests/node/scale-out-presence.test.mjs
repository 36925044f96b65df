// Presence and the per-user connection cap across nodes on Redis (issue #15): real redis-server, real nodes, real
// haproxy (tests/node/helpers/cluster.mjs). Short --node-ttl-ms / --presence-grace-ms keep each case to seconds.
// Skipped, with the reason, only when those programs are not installed (scripts/setup.sh installs them).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { RawClient, connectAuthed, connectRaw } from '../support/raw-client.mjs';
import { waitFor } from '../support/wait.mjs';
import { missingBinaries, startHaproxy, startNodes, startRedis } from './helpers/cluster.mjs';

const missing = missingBinaries();
const skip = missing.length ? `not installed: ${missing.join(', ')} (run scripts/setup.sh)` : false;

const TTL_MS = 2000; // long enough for reconnects under a loaded machine, short enough for seconds-long cases
const GRACE_MS = 500;
const args = ['--node-ttl-ms', String(TTL_MS), '--presence-grace-ms', String(GRACE_MS)];
const CONNECTION_LIMIT = 4005;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Subscribes and joins `channel`'s presence; resolves with the join reply's members. */
async function join(client, channel) {
  await client.subscribe(channel);
  return (await client.request({ type: 'presence_join', channel }, 'reply')).data.members;
}

/** The presence_diff messages `client` received on `channel` so far. */
const diffs = (client, channel) => client.received.filter((m) => m.type === 'presence_diff' && m.channel === channel);
const joinsOf = (client, channel, user) =>
  diffs(client, channel).flatMap((d) => d.joins).filter((m) => m.userId === user).length;
const leavesOf = (client, channel, user) =>
  diffs(client, channel).flatMap((d) => d.leaves).filter((m) => m.userId === user).length;

/**
 * Connects through the load balancer right after a node died, as a client's reconnect does: an upgrade that
 * reaches the dying node before HAProxy's health check notices may answer 502 (the config retries most of those on
 * another node); that attempt is made again. Any other failure, a 4005 refusal included, fails the test.
 */
async function reconnectThroughLb(url, token) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectRaw(url, token);
    } catch (e) {
      if (e.status !== 502 || attempt === 5) throw e;
    }
  }
}

/** Opens a connection of `user` on `url` and resolves with the close, or null once auth_success came. */
async function refusedWith(url, token) {
  const c = new RawClient(url, ['jwt', token]);
  await c.opened;
  const first = await Promise.race([c.next((m) => m.type === 'auth_success').then(() => null), c.closed]);
  if (first === null) await c.close();
  return first?.code ?? null;
}

describe('presence and the connection cap across nodes', { skip }, () => {
  let redis;
  let nodes;
  /** Runs `fn(solo)` against a node of its own with --threads 1: its one I/O thread also runs the broker. */
  async function withSoloNode(fn) {
    const [solo] = await startNodes(redis, 1, { args: [...args, '--threads', '1'] });
    try {
      await fn(solo);
    } finally {
      await solo.stop();
    }
  }
  before(async () => {
    redis = await startRedis();
    nodes = await startNodes(redis, 3, { args });
  });
  after(async () => {
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await redis?.stop();
    redis?.cleanup();
  });

  test('the 6th connection of a user spread over three nodes is refused 4005; after one closes, one more fits',
    async () => {
      const spread = [0, 1, 2, 0, 1];
      const held = [];
      for (const i of spread) held.push(await connectAuthed(nodes[i], 'cap-user'));
      for (const i of [2, 0, 1]) {
        assert.equal(await refusedWith(nodes[i].wsUrl, nodes[i].token('cap-user')), CONNECTION_LIMIT,
          `node ${i + 1} refuses the 6th`);
      }
      const metrics = await (await fetch(`${nodes[2].httpUrl}/metrics`)).text();
      assert.match(metrics, /tidewire_too_many_connections_total [1-9]/);
      assert.match(metrics, /tidewire_presence_errors_total 0\n/);
      // Another user is not affected.
      const other = await connectAuthed(nodes[2], 'cap-other');
      await held[1].close();
      await waitFor(async () => (await redis.cli('ZCARD', 'tw:u:{cap-user}:c')) === '4', 5000, 'the entry released');
      const again = await connectAuthed(nodes[2], 'cap-user');
      assert.equal(await refusedWith(nodes[0].wsUrl, nodes[0].token('cap-user')), CONNECTION_LIMIT);
      await Promise.all([...held, other, again].map((c) => c.close()));
    });

  test('one user on two nodes is one member to a subscriber on the third; one leave, after the grace, after the last',
    async () => {
      const ch = 'room:pres';
      const observer = await connectAuthed(nodes[2], 'p-obs');
      await observer.subscribe(ch);
      const a1 = await connectAuthed(nodes[0], 'p-ann');
      const a2 = await connectAuthed(nodes[1], 'p-ann');
      const first = await join(a1, ch);
      assert.deepEqual(first.map((m) => m.userId), ['p-ann']);
      await waitFor(() => joinsOf(observer, ch, 'p-ann') === 1, 5000, 'the join on node 3');
      const second = await join(a2, ch);
      assert.deepEqual(second.map((m) => [m.userId, m.connections]), [['p-ann', 2]]);
      // A subscriber arriving now, on the third node, gets both connections as one member.
      const late = await connectAuthed(nodes[2], 'p-late');
      await late.subscribe(ch);
      const state = await late.nextOfType('presence_state', { channel: ch });
      assert.deepEqual(state.members.map((m) => [m.userId, m.connections]), [['p-ann', 2]]);
      const got = await observer.request({ type: 'presence_get', channel: ch }, 'reply');
      assert.deepEqual(got.data.members.map((m) => m.userId), ['p-ann']);

      await a1.close();
      await sleep(GRACE_MS + 700); // past the grace and a few ticks: node 1's entry is gone, the user is not
      assert.equal(leavesOf(observer, ch, 'p-ann'), 0, 'no leave while node 2 holds the user');
      const still = await observer.request({ type: 'presence_get', channel: ch }, 'reply');
      assert.deepEqual(still.data.members.map((m) => [m.userId, m.connections]), [['p-ann', 1]]);
      // Node 3's copy (presence_state) followed the count too.
      const later = await connectAuthed(nodes[2], 'p-later');
      await later.subscribe(ch);
      const laterState = await later.nextOfType('presence_state', { channel: ch });
      assert.deepEqual(laterState.members.map((m) => [m.userId, m.connections]), [['p-ann', 1]]);
      await later.close();

      const closedAt = Date.now();
      await a2.close();
      await waitFor(() => leavesOf(observer, ch, 'p-ann') === 1, 5000, 'the leave on node 3');
      assert.ok(Date.now() - closedAt >= GRACE_MS - 50, `the leave came after the grace (${Date.now() - closedAt} ms)`);
      await waitFor(() => leavesOf(late, ch, 'p-ann') === 1, 2000, 'the leave reaches every subscriber');
      await sleep(300);
      assert.equal(leavesOf(observer, ch, 'p-ann'), 1, 'exactly one leave');
      assert.equal(joinsOf(observer, ch, 'p-ann'), 1, 'exactly one join');
      // And the leave: a new subscriber on node 3 gets no presence_state (nobody is there).
      const last = await connectAuthed(nodes[2], 'p-last');
      await last.subscribe(ch);
      await last.request({ type: 'ping' }, 'pong');
      assert.ok(!last.received.some((m) => m.type === 'presence_state'), 'no members left in the copy');
      await last.close();
      await Promise.all([observer.close(), late.close()]);
    });

  test('a rejoin on another node inside the grace shows neither a leave nor a join', async () => {
    const ch = 'room:hop';
    const observer = await connectAuthed(nodes[0], 'h-obs');
    await observer.subscribe(ch);
    const first = await connectAuthed(nodes[1], 'h-ann');
    await join(first, ch);
    await waitFor(() => joinsOf(observer, ch, 'h-ann') === 1, 5000, 'the join');
    await first.close();
    const second = await connectAuthed(nodes[2], 'h-ann');
    await join(second, ch);
    await sleep(GRACE_MS + 700);
    assert.equal(leavesOf(observer, ch, 'h-ann'), 0);
    assert.equal(joinsOf(observer, ch, 'h-ann'), 1);
    await Promise.all([observer.close(), second.close()]);
  });

  test('kill -9 of a node: its users stay until the TTL plus the grace, then leave once; reconnecting through ' +
    'HAProxy is never refused 4005 and shows each user once', { timeout: 30_000 }, async () => {
    const dying = (await startNodes(redis, 1, { args }))[0];
    const lb = await startHaproxy([nodes[0], nodes[1], dying]);
    try {
      const ch = 'room:death';
      const observer = await connectAuthed(nodes[0], 'd-obs');
      await observer.subscribe(ch);
      // d-gone: one connection, never comes back. d-back: two connections, reconnects. d-full: at the limit.
      const gone = await connectAuthed(dying, 'd-gone');
      const back = [await connectAuthed(dying, 'd-back'), await connectAuthed(dying, 'd-back')];
      const full = [];
      for (let i = 0; i < 5; i++) full.push(await connectAuthed(dying, 'd-full'));
      for (const c of [gone, ...back, full[0]]) await join(c, ch);
      await waitFor(() => ['d-gone', 'd-back', 'd-full'].every((u) => joinsOf(observer, ch, u) === 1), 5000,
        'the three joins');

      dying.process.kill('SIGKILL');
      const killedAt = Date.now();
      // d-back reconnects at once through HAProxy (2 ghosts + 2 new < 5): never refused, rejoins.
      const backAgain = [];
      for (let i = 0; i < 2; i++) backAgain.push(await reconnectThroughLb(lb.wsUrl, nodes[0].token('d-back')));
      for (const c of backAgain) await join(c, ch);
      // Still listed while the dead node's TTL runs.
      const during = await observer.request({ type: 'presence_get', channel: ch }, 'reply');
      assert.deepEqual(during.data.members.map((m) => m.userId), ['d-back', 'd-full', 'd-gone']);

      await waitFor(() => leavesOf(observer, ch, 'd-gone') === 1, TTL_MS + GRACE_MS + 3000, 'the dead node\'s leave');
      const leftAfter = Date.now() - killedAt;
      // The last refresh was about TTL/4 before the kill: the leave comes TTL + grace after it, well after the grace.
      assert.ok(leftAfter >= GRACE_MS + TTL_MS / 2, `not before TTL + grace (${leftAfter} ms)`);
      await waitFor(() => leavesOf(observer, ch, 'd-full') === 1, 2000, 'd-full leaves too');

      // The ghosts of d-full no longer count: five new connections through HAProxy are accepted.
      const fullAgain = [];
      for (let i = 0; i < 5; i++) fullAgain.push(await reconnectThroughLb(lb.wsUrl, nodes[0].token('d-full')));
      await join(fullAgain[0], ch);
      await waitFor(() => joinsOf(observer, ch, 'd-full') === 2, 5000, 'd-full joins again');

      await sleep(500);
      assert.equal(leavesOf(observer, ch, 'd-gone'), 1, 'one leave');
      assert.equal(leavesOf(observer, ch, 'd-back'), 0, 'd-back never left: it reconnected in time');
      assert.equal(joinsOf(observer, ch, 'd-back'), 1, 'd-back joined once');
      const now = await observer.request({ type: 'presence_get', channel: ch }, 'reply');
      assert.deepEqual(now.data.members.map((m) => [m.userId, m.connections]), [['d-back', 2], ['d-full', 1]]);
      await Promise.all([observer, ...backAgain, ...fullAgain].map((c) => c.close()));
    } finally {
      await lb.stop();
      await dying.stop();
    }
  });

  // Last two: they replace Redis, and flush its scripts.
  test('a Redis restarted empty gets every node\'s members and connections back at the next refresh', async () => {
    const ch = 'room:restart-p';
    const ann = await connectAuthed(nodes[0], 'r-ann');
    const bob = await connectAuthed(nodes[1], 'r-bob');
    await join(ann, ch);
    await join(bob, ch);
    await redis.restart();
    await waitFor(async () => {
      const got = await bob.request({ type: 'presence_get', channel: ch });
      return got.type === 'reply' && got.data.members.map((m) => m.userId).join() === 'r-ann,r-bob';
    }, 5000, 'both members back in Redis');
    await waitFor(async () => (await redis.cli('ZCARD', 'tw:u:{r-ann}:c')) === '1', 5000, 'the connection entry back');
    await Promise.all([ann.close(), bob.close()]);
  });

  test('a presence reply waiting for Redis does not hold the node: with --threads 1, another connection\'s ping is answered first',
    async () => {
      await withSoloNode(async (solo) => {
        const ch = 'room:slow-redis';
        const ann = await connectAuthed(solo, 'sr-ann');
        const bob = await connectAuthed(solo, 'sr-bob');
        await join(ann, ch);
        await redis.cli('CLIENT', 'PAUSE', '1000', 'ALL'); // Redis answers no client for a second
        ann.send({ type: 'presence_get', channel: ch, ref: 'get' });
        bob.send({ type: 'ping', ref: 'ping' });
        await bob.nextOfType('pong', { ref: 'ping' });
        assert.equal(ann.received.some((m) => m.ref === 'get'), false, 'the presence_get reply waits for Redis');
        const reply = await ann.nextOfType('reply', { ref: 'get' });
        assert.deepEqual(reply.data.members.map((m) => m.userId), ['sr-ann']);
        await Promise.all([ann.close(), bob.close()]);
      });
    });

  test('an auth waiting for the cap across nodes does not hold the node: with --threads 1, another connection\'s ping is answered first; what the new one sent meanwhile runs after auth_success',
    async () => {
      await withSoloNode(async (solo) => {
        const bob = await connectAuthed(solo, 'sa-bob');
        await bob.subscribe('room:slow-auth');
        await redis.cli('CLIENT', 'PAUSE', '1500', 'ALL'); // Redis answers no client for 1.5 s (the store's read timeout is 2 s)
        const ann = new RawClient(solo.wsUrl, ['jwt', solo.token('sa-ann')]);
        await ann.opened;
        ann.send({ type: 'subscribe', channel: 'room:slow-auth', ref: 's' }); // before auth_success: held
        ann.send({ type: 'ping', ref: 'p' });
        bob.send({ type: 'ping', ref: 'ping' });
        await bob.nextOfType('pong', { ref: 'ping' });
        assert.deepEqual(ann.received, [], 'the new connection waits for Redis, the node does not');
        await ann.nextOfType('auth_success');
        assert.deepEqual(ann.received.map((m) => m.type), ['auth_success', 'subscribed', 'pong']);
        assert.equal(await redis.cli('ZCARD', 'tw:u:{sa-ann}:c'), '1', 'counted across nodes');
        await ann.close();
        await waitFor(async () => (await redis.cli('ZCARD', 'tw:u:{sa-ann}:c')) === '0', 5000, 'released');
        await bob.close();
      });
    });

  test('a first presence_state read waiting for Redis does not hold the node: with --threads 1, another connection\'s ping is answered first',
    async () => {
      await withSoloNode(async (solo) => {
        const ch = 'room:slow-state';
        const bob = await connectAuthed(solo, 'ss-bob');
        const ann = await connectAuthed(solo, 'ss-ann');
        await bob.subscribe(ch);
        await join(bob, ch);
        // A lost PUB/SUB connection drops the node's copies of every channel's members: the next subscriber's
        // presence_state needs a read from Redis again, while the channel's stream copy is current once backfilled.
        await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
        await waitFor(async () => (await solo.metric('tidewire_broker_backfills_total')) >= 1, 5000, 'the backfill');
        await bob.publish(ch, 'n', 1);
        await bob.nextChannelMessage((m) => m.channel === ch);
        await redis.cli('CLIENT', 'PAUSE', '1500', 'ALL'); // Redis answers no client for 1.5 s (the store's read timeout is 2 s)
        ann.send({ type: 'subscribe', channel: ch, ref: 's' });
        await ann.nextOfType('subscribed', { ref: 's' }); // the stream copy is current: at once
        bob.send({ type: 'ping', ref: 'ping' });
        await bob.nextOfType('pong', { ref: 'ping' });
        assert.equal(ann.received.some((m) => m.type === 'presence_state'), false, 'presence_state waits for Redis');
        const state = await ann.nextOfType('presence_state', { channel: ch });
        assert.deepEqual(state.members.map((m) => m.userId), ['ss-bob']);
        await Promise.all([ann.close(), bob.close()]);
      });
    });

  test('a connection closed while its auth waits for Redis leaves no entry in the cap across nodes', async () => {
    await withSoloNode(async (solo) => {
      const bob = await connectAuthed(solo, 'sc-bob');
      await redis.cli('CLIENT', 'PAUSE', '500', 'ALL');
      const ann = new RawClient(solo.wsUrl, ['jwt', solo.token('sc-ann')]);
      await ann.opened;
      await ann.close(); // before Redis answers its acquire script
      await waitFor(async () => (await solo.metric('tidewire_connections')) === 1, 5000, 'the node saw the close');
      // Redis runs the postponed clients in order: the acquire script before this PING.
      assert.equal(await redis.cli('PING'), 'PONG');
      await waitFor(async () => (await redis.cli('ZCARD', 'tw:u:{sc-ann}:c')) === '0', 5000, 'the entry taken back');
      // And no refresh brings it back: wait for one (bob's expiry moves), then look again.
      const bobExpiry = () => redis.cli('ZRANGE', 'tw:u:{sc-bob}:c', '0', '-1', 'WITHSCORES');
      const before = await bobExpiry();
      await waitFor(async () => (await bobExpiry()) !== before, TTL_MS, 'a refresh');
      assert.equal(await redis.cli('ZCARD', 'tw:u:{sc-ann}:c'), '0');
      await bob.close();
    });
  });

  test('after SCRIPT FLUSH a node loads its scripts again and puts Redis right: a leave that failed still happens',
    async () => {
      const ch = 'room:flush';
      const observer = await connectAuthed(nodes[1], 'f-obs');
      await observer.subscribe(ch);
      const ann = await connectAuthed(nodes[0], 'f-ann');
      const bob = await connectAuthed(nodes[0], 'f-bob');
      await join(ann, ch);
      await join(bob, ch);
      await waitFor(() => joinsOf(observer, ch, 'f-ann') === 1 && joinsOf(observer, ch, 'f-bob') === 1, 5000, 'joins');
      // Scripts are global in Redis: whichever node meets NOSCRIPT first loads them for all. Count every node's.
      const errorsOf = async (n) =>
        Number(/tidewire_presence_errors_total (\d+)/.exec(await (await fetch(`${n.httpUrl}/metrics`)).text())[1]);
      const errors = async () => (await Promise.all(nodes.map(errorsOf))).reduce((a, b) => a + b, 0);
      const before = await errors();
      await redis.cli('SCRIPT', 'FLUSH');
      await ann.close(); // its leave, after the grace, may meet NOSCRIPT; node 1 keeps refreshing (bob is there)
      await waitFor(() => leavesOf(observer, ch, 'f-ann') === 1, GRACE_MS + 3000, 'the leave, after the resync');
      assert.ok((await errors()) > before, 'the failure is counted');
      // Everything works again: a new member joins, bob is still there.
      const cat = await connectAuthed(nodes[0], 'f-cat');
      const members = await join(cat, ch);
      assert.deepEqual(members.map((m) => m.userId), ['f-bob', 'f-cat']);
      await sleep(300);
      assert.equal(leavesOf(observer, ch, 'f-ann'), 1, 'one leave');
      assert.equal(leavesOf(observer, ch, 'f-bob'), 0);
      // The broker's scripts were flushed too: a publish may be answered unavailable once, then they are back.
      const publish = () => bob.request({ type: 'channel_message', channel: ch, event: 'n', payload: 1 });
      await waitFor(async () => (await publish()).type === 'ack', 3000, 'publishing works again');
      await Promise.all([observer, bob, cat].map((c) => c.close()));
    });
});
