// History, recovery and idempotent publishing (docs/PROTOCOL.md section 9) against the real server binary,
// including a server killed with SIGKILL and restarted on the same SQLite history store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startServer } from './helpers/server.mjs';
import { connectAuthed } from '../support/raw-client.mjs';

const publish = (c, channel, n, extra = {}) =>
  c.send({ type: 'channel_message', channel, event: 'e', payload: { n }, ...extra });

describe('history in memory', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  test('a subscribe with since replays the missed messages in order, then live ones, without duplicates', async () => {
    const alice = await connectAuthed(server, 'alice');
    alice.send({ type: 'subscribe', channel: 'room:h1', ref: 's' });
    const sub = await alice.nextOfType('subscribed', { ref: 's' });
    for (let n = 1; n <= 5; n++) publish(alice, 'room:h1', n, { ref: `p${n}` });
    await alice.nextOfType('ack', { ref: 'p5' });
    const bob = await connectAuthed(server, 'bob');
    bob.send({ type: 'subscribe', channel: 'room:h1', ref: 'r', since: { offset: 2, epoch: sub.epoch } });
    publish(alice, 'room:h1', 6); // races the subscribe: must appear exactly once, after the replay
    const got = await bob.nextOfType('subscribed', { ref: 'r' });
    assert.equal(got.recovered, true);
    assert.equal(got.epoch, sub.epoch);
    const offsets = [];
    while (offsets.length < 4) offsets.push((await bob.nextOfType('channel_message')).offset);
    assert.deepEqual(offsets, [3, 4, 5, 6]);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(bob.inbox.filter((m) => m.type === 'channel_message').length, 0);
    await Promise.all([alice.close(), bob.close()]);
  });

  test('an unknown epoch says epoch_changed; a channel keeps its stream after its last subscriber leaves', async () => {
    const a = await connectAuthed(server, 'amy');
    a.send({ type: 'subscribe', channel: 'room:h2', ref: 's' });
    const sub = await a.nextOfType('subscribed', { ref: 's' });
    publish(a, 'room:h2', 1, { ref: 'p' });
    await a.nextOfType('ack', { ref: 'p' });
    await a.close();
    const b = await connectAuthed(server, 'ben');
    b.send({ type: 'subscribe', channel: 'room:h2', ref: 'x', since: { offset: 0, epoch: 'e-0000000000000000' } });
    const x = await b.nextOfType('subscribed', { ref: 'x' });
    assert.deepEqual([x.recovered, x.reason, x.offset, x.epoch], [false, 'epoch_changed', 1, sub.epoch]);
    b.send({ type: 'unsubscribe', channel: 'room:h2', ref: 'u' });
    await b.nextOfType('unsubscribed');
    b.send({ type: 'subscribe', channel: 'room:h2', ref: 'y', since: { offset: 0, epoch: sub.epoch } });
    const y = await b.nextOfType('subscribed', { ref: 'y' });
    assert.equal(y.recovered, true);
    assert.equal((await b.nextOfType('channel_message')).payload.n, 1);
    await b.close();
  });

  test('a resent client message id is acked with the original offset and duplicate: true, not broadcast', async () => {
    const a = await connectAuthed(server, 'ida');
    const b = await connectAuthed(server, 'bea');
    for (const c of [a, b]) {
      c.send({ type: 'subscribe', channel: 'room:h3', ref: 's' });
      await c.nextOfType('subscribed');
    }
    publish(a, 'room:h3', 1, { id: 'k-1', ref: 'p1' });
    assert.deepEqual(await a.nextOfType('ack', { ref: 'p1' }), { type: 'ack', ref: 'p1', channel: 'room:h3', offset: 1 });
    publish(a, 'room:h3', 1, { id: 'k-1', ref: 'p2' });
    assert.deepEqual(await a.nextOfType('ack', { ref: 'p2' }),
      { type: 'ack', ref: 'p2', channel: 'room:h3', offset: 1, duplicate: true });
    publish(a, 'room:h3', 2, { id: 'k-2', ref: 'p3' });
    assert.equal((await a.nextOfType('ack', { ref: 'p3' })).offset, 2);
    assert.equal((await b.nextOfType('channel_message')).offset, 1);
    assert.equal((await b.nextOfType('channel_message')).offset, 2);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('history expiry', () => {
  test('expired history ends the stream: a new epoch from offset 1, and the channel leaves /metrics', async () => {
    const server = await startServer({ args: ['--history-ttl-ms', '300'] });
    try {
      const channels = async () =>
        Number(/^tidewire_channels (\d+)$/m.exec(await (await fetch(`${server.httpUrl}/metrics`)).text())[1]);
      const a = await connectAuthed(server, 'exp');
      a.send({ type: 'subscribe', channel: 'room:ttl', ref: 's' });
      const sub = await a.nextOfType('subscribed', { ref: 's' });
      publish(a, 'room:ttl', 1, { ref: 'p' });
      await a.nextOfType('ack', { ref: 'p' });
      a.send({ type: 'unsubscribe', channel: 'room:ttl', ref: 'u' });
      await a.nextOfType('unsubscribed');
      assert.equal(await channels(), 1, 'kept while its history lives');
      await new Promise((r) => setTimeout(r, 1600)); // ttl + one sweep
      assert.equal(await channels(), 0);
      a.send({ type: 'subscribe', channel: 'room:ttl', ref: 's2', since: { offset: 1, epoch: sub.epoch } });
      const again = await a.nextOfType('subscribed', { ref: 's2' });
      assert.deepEqual([again.recovered, again.reason, again.offset], [false, 'epoch_changed', 0]);
      assert.notEqual(again.epoch, sub.epoch);
      await a.close();
    } finally {
      await server.stop();
    }
  });
});

describe('history across a restart', () => {
  let dataDir;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tidewire-history-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('server killed and restarted mid-stream (sqlite): no message lost, duplicated or reordered', async () => {
    const args = ['--history-store', 'sqlite', '--data-dir', dataDir];
    let server = await startServer({ args });
    const channel = 'room:restart';
    const total = 60;
    const received = [];
    let lastOffset = 0;
    let epoch = '';
    const unacked = new Map(); // id -> n

    const connectReceiver = async (srv, since) => {
      const r = await connectAuthed(srv, 'receiver');
      r.ws.on('message', () => {});
      r.send({ type: 'subscribe', channel, ref: 'sub', ...(since ? { since } : {}) });
      const sub = await r.nextOfType('subscribed', { ref: 'sub' });
      return { r, sub };
    };
    const drain = (r) => {
      for (;;) {
        const i = r.inbox.findIndex((m) => m.type === 'channel_message');
        if (i < 0) return;
        const m = r.inbox.splice(i, 1)[0];
        assert.equal(m.epoch, epoch);
        assert.equal(m.offset, lastOffset + 1, 'offsets are contiguous');
        lastOffset = m.offset;
        received.push(m.payload.n);
      }
    };

    let { r: receiver, sub } = await connectReceiver(server);
    epoch = sub.epoch;
    let publisher = await connectAuthed(server, 'publisher');
    publisher.send({ type: 'subscribe', channel, ref: 's' });
    await publisher.nextOfType('subscribed', { ref: 's' });
    const send = (p, n) => {
      unacked.set(`m-${n}`, n);
      publish(p, channel, n, { id: `m-${n}`, ref: `m-${n}` });
    };
    const collectAcks = (p) => {
      for (const m of p.inbox.splice(0)) if (m.type === 'ack') unacked.delete(m.ref);
    };

    for (let n = 1; n <= total / 2; n++) send(publisher, n);
    await publisher.nextOfType('ack', { ref: 'm-10' });
    server.process.kill('SIGKILL'); // mid-stream: some messages are in flight, unacked
    await server.stop();
    await Promise.all([publisher.closed, receiver.closed]);
    collectAcks(publisher);
    drain(receiver);

    server = await startServer({ args });
    ({ r: receiver, sub } = await connectReceiver(server, { offset: lastOffset, epoch }));
    assert.equal(sub.epoch, epoch, 'the epoch survives the restart');
    assert.equal(sub.recovered, true);
    publisher = await connectAuthed(server, 'publisher');
    publisher.send({ type: 'subscribe', channel, ref: 's' });
    await publisher.nextOfType('subscribed', { ref: 's' });
    for (const n of [...unacked.values()].sort((x, y) => x - y)) {
      unacked.delete(`m-${n}`);
      send(publisher, n); // resend what was never acked: the server dedupes what it had already stored
    }
    for (let n = total / 2 + 1; n <= total; n++) send(publisher, n);
    await publisher.nextOfType('ack', { ref: `m-${total}` });
    const deadline = Date.now() + 5000;
    while (received.length < total && Date.now() < deadline) {
      drain(receiver);
      await new Promise((r) => setTimeout(r, 20));
    }
    drain(receiver);
    assert.deepEqual(received, Array.from({ length: total }, (_, i) => i + 1));
    await Promise.all([publisher.close(), receiver.close()]);
    await server.stop();
  });

  test('a memory-history server changes epochs on restart', async () => {
    let server = await startServer();
    const a = await connectAuthed(server, 'a');
    a.send({ type: 'subscribe', channel: 'room:m', ref: 's' });
    const sub = await a.nextOfType('subscribed');
    await server.stop();
    server = await startServer();
    const b = await connectAuthed(server, 'a');
    b.send({ type: 'subscribe', channel: 'room:m', ref: 's', since: { offset: 0, epoch: sub.epoch } });
    const again = await b.nextOfType('subscribed');
    assert.equal(again.recovered, false);
    assert.equal(again.reason, 'epoch_changed');
    await b.close();
    await server.stop();
  });
});
