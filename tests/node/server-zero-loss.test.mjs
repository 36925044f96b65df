// Zero loss by default (PROTOCOL.md section 9, issue 12): a server started with nothing but a data directory keeps
// history in SQLite, so after `kill -9` and a restart on the same directory a subscriber recovers with `since`
// every publication it missed, and every acked publication survives (an ack leaves only once the publication is
// committed). Under a burst, whatever reached a subscriber was stored too, and a publisher that resends what it
// has no ack for (same ids) completes the stream without duplicates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startServer } from './helpers/server.mjs';
import { connectAuthed } from '../support/raw-client.mjs';

describe('tidewire-server zero loss by default', () => {
  let dataDir;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tidewire-zero-loss-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('kill -9 and a restart on the same data dir: since recovers every publication, acked ones included', async () => {
    const channel = 'room:zero-loss';
    let server = await startServer({ args: ['--data-dir', dataDir] }); // every history option at its default
    const publisher = await connectAuthed(server, 'pub');
    const subscriber = await connectAuthed(server, 'sub');
    for (const c of [publisher, subscriber]) {
      c.send({ type: 'subscribe', channel, ref: 's' });
      await c.nextOfType('subscribed', { ref: 's' });
    }

    // The subscriber sees the first 40, then drops off; 100 more are published while it is away.
    const TOTAL = 140;
    const SEEN = 40;
    for (let i = 1; i <= SEEN; i += 1) publisher.send({ type: 'channel_message', channel, event: 'n', payload: { i }, ref: `r${i}`, id: `m${i}` });
    let last;
    for (let i = 1; i <= SEEN; i += 1) last = await subscriber.nextOfType('channel_message');
    assert.equal(last.payload.i, SEEN);
    const since = { offset: last.offset, epoch: last.epoch };
    await subscriber.close();

    // kill -9 the moment the last ack arrives: an ack means the publication is in the store.
    const killed = new Promise((resolveKill) => {
      publisher.ws.on('message', (data) => {
        if (String(data).includes(`"ref":"r${TOTAL}"`)) {
          server.process.kill('SIGKILL');
          resolveKill();
        }
      });
    });
    for (let i = SEEN + 1; i <= TOTAL; i += 1) publisher.send({ type: 'channel_message', channel, event: 'n', payload: { i }, ref: `r${i}`, id: `m${i}` });
    await killed;
    assert.equal((await server.stop()).signal, 'SIGKILL');

    server = await startServer({ args: ['--data-dir', dataDir] });
    try {
      const back = await connectAuthed(server, 'sub');
      back.send({ type: 'subscribe', channel, ref: 'again', since });
      const subscribed = await back.nextOfType('subscribed', { ref: 'again' });
      assert.equal(subscribed.recovered, true, `recovery failed: ${subscribed.reason}`);
      assert.equal(subscribed.epoch, since.epoch);
      assert.equal(subscribed.offset, since.offset + (TOTAL - SEEN));
      for (let i = SEEN + 1; i <= TOTAL; i += 1) {
        const m = await back.nextOfType('channel_message');
        assert.equal(m.payload.i, i, 'in order, no gap, nothing twice');
        assert.equal(m.offset, since.offset + (i - SEEN));
      }
      // The stream goes on where it stopped; a resent id is still recognised as a duplicate.
      const again = await connectAuthed(server, 'pub');
      again.send({ type: 'subscribe', channel, ref: 's' });
      await again.nextOfType('subscribed', { ref: 's' });
      again.send({ type: 'channel_message', channel, event: 'n', payload: { i: TOTAL }, ref: 'dup', id: `m${TOTAL}` });
      const dup = await again.nextOfType('ack', { ref: 'dup' });
      assert.equal(dup.duplicate, true);
      again.send({ type: 'channel_message', channel, event: 'n', payload: { i: TOTAL + 1 }, ref: 'next' });
      assert.equal((await again.nextOfType('ack', { ref: 'next' })).offset, subscribed.offset + 1);
      await Promise.all([back.close(), again.close()]);
    } finally {
      await server.stop();
    }
  });

  test('kill -9 in the middle of a publishing burst: 20 subscribers recover every message once, in order', async () => {
    const channel = 'room:burst';
    const dir = mkdtempSync(join(tmpdir(), 'tidewire-burst-'));
    const SUBSCRIBERS = 20;
    let server = await startServer({ args: ['--data-dir', dir, '--rate-limit', '0'] });
    try {
      const subs = [];
      for (let n = 0; n < SUBSCRIBERS; n += 1) {
        const c = await connectAuthed(server, `s${n}`);
        const seen = { offsets: [], values: [], epoch: null };
        c.ws.on('message', (data) => {
          for (const line of String(data).split('\n')) {
            if (!line.includes('"channel_message"')) continue;
            const m = JSON.parse(line);
            seen.offsets.push(m.offset);
            seen.values.push(m.payload.i);
            seen.epoch = m.epoch;
          }
        });
        c.send({ type: 'subscribe', channel, ref: 's' });
        await c.nextOfType('subscribed', { ref: 's' });
        subs.push({ c, seen });
      }
      const publisher = await connectAuthed(server, 'pub');
      const acked = new Set();
      let killed = false;
      publisher.ws.on('message', (data) => {
        for (const m of String(data).matchAll(/"type":"ack","ref":"r(\d+)"/g)) acked.add(Number(m[1]));
        if (!killed && acked.size >= 3000) {
          killed = true; // mid-burst: the publisher is still sending
          server.process.kill('SIGKILL');
        }
      });
      let sent = 0;
      while (!killed && sent < 20000) {
        for (let k = 0; k < 200; k += 1) {
          sent += 1;
          publisher.send({ type: 'channel_message', channel, event: 'n', payload: { i: sent }, ref: `r${sent}`, id: `m${sent}` });
        }
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(killed, 'the server was killed during the burst');
      await server.stop();
      for (const { c } of subs) c.ws.terminate();
      publisher.ws.terminate();
      const maxAcked = Math.max(...acked);

      server = await startServer({ args: ['--data-dir', dir, '--rate-limit', '0'] });
      // Every subscriber resumes from the last message it saw: whatever reached a subscriber was stored.
      const resumed = [];
      for (let n = 0; n < SUBSCRIBERS; n += 1) {
        const { seen } = subs[n];
        const c = await connectAuthed(server, `s${n}`);
        c.send({ type: 'subscribe', channel, ref: 'again', since: { offset: seen.offsets.at(-1) ?? 0, epoch: seen.epoch } });
        const subscribed = await c.nextOfType('subscribed', { ref: 'again' });
        assert.equal(subscribed.recovered, true, `subscriber ${n}: ${subscribed.reason}`);
        resumed.push({ c, seen, last: subscribed.offset });
      }
      // The publisher resends everything it has no ack for, with the same ids: stored ones are duplicates.
      const back = await connectAuthed(server, 'pub');
      for (let i = 1; i <= sent; i += 1) {
        if (!acked.has(i)) back.send({ type: 'channel_message', channel, event: 'n', payload: { i }, ref: `x${i}`, id: `m${i}` });
      }
      for (let i = 1; i <= sent; i += 1) if (!acked.has(i)) await back.nextOfType('ack', { ref: `x${i}` });
      for (const { c, seen } of resumed) {
        while (seen.values.length < sent) {
          const m = await c.nextOfType('channel_message');
          seen.offsets.push(m.offset);
          seen.values.push(m.payload.i);
        }
        assert.deepEqual(seen.values, Array.from({ length: sent }, (_, k) => k + 1), 'every message once, in order');
        assert.deepEqual(seen.offsets, Array.from({ length: sent }, (_, k) => k + 1), 'offsets without a gap');
      }
      assert.ok(maxAcked <= sent);
      await Promise.all([...resumed.map(({ c }) => c.close()), back.close()]);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--history-store memory is the explicit in-memory mode: a restart starts a new epoch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidewire-memory-'));
    try {
      let server = await startServer({ args: ['--data-dir', dir, '--history-store', 'memory'] });
      const c = await connectAuthed(server, 'mem');
      c.send({ type: 'subscribe', channel: 'room:mem', ref: 's' });
      const first = await c.nextOfType('subscribed', { ref: 's' });
      c.send({ type: 'channel_message', channel: 'room:mem', event: 'n', payload: {}, ref: 'p' });
      await c.nextOfType('ack', { ref: 'p' });
      server.process.kill('SIGKILL');
      await server.stop();
      server = await startServer({ args: ['--data-dir', dir, '--history-store', 'memory'] });
      try {
        const d = await connectAuthed(server, 'mem');
        d.send({ type: 'subscribe', channel: 'room:mem', ref: 's', since: { offset: 1, epoch: first.epoch } });
        const s = await d.nextOfType('subscribed', { ref: 's' });
        assert.equal(s.recovered, false);
        assert.equal(s.reason, 'epoch_changed');
        await d.close();
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
