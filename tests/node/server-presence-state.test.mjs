// A new subscriber gets the channel's presence at once (presence_state), then diffs; a channel nobody has
// joined sends none.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { createClient } from '../../web/dist/index.js';
import { startServer } from './helpers/server.mjs';
import { connectAuthed } from '../support/raw-client.mjs';
import { waitFor } from '../support/wait.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(async () => server?.stop());

test('subscribing to a channel with members delivers presence_state right after subscribed', async () => {
  const a = await connectAuthed(server, 'ann');
  a.send({ type: 'subscribe', channel: 'presence:ps', ref: 's' });
  a.send({ type: 'presence_join', channel: 'presence:ps', ref: 'j', status: 'busy', info: { name: 'Ann' } });
  await waitFor(() => a.received.some((m) => m.type === 'reply' && m.ref === 'j'));

  const b = await connectAuthed(server, 'ben');
  b.send({ type: 'subscribe', channel: 'presence:ps', ref: 's' });
  await waitFor(() => b.received.some((m) => m.type === 'presence_state'));
  const types = b.received.map((m) => m.type);
  assert.ok(types.indexOf('subscribed') < types.indexOf('presence_state'));
  const state = b.received.find((m) => m.type === 'presence_state');
  assert.equal(state.channel, 'presence:ps');
  assert.deepEqual(
    state.members.map((m) => [m.userId, m.status, m.info.name]),
    [['ann', 'busy', 'Ann']],
  );

  const c = await connectAuthed(server, 'cat');
  c.send({ type: 'subscribe', channel: 'presence:empty', ref: 's' });
  await waitFor(() => c.received.some((m) => m.type === 'subscribed'));
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(!c.received.some((m) => m.type === 'presence_state'));
  for (const x of [a, b, c]) x.ws.close();
});

test('the client shows who is there before its own join', async () => {
  const ann = createClient({ url: server.wsUrl, token: server.token('ann2') });
  const ben = createClient({ url: server.wsUrl, token: server.token('ben2') });
  try {
    const pa = ann.presence('presence:ps2', { info: { name: 'Ann' } });
    await waitFor(() => pa.onlineCount === 1);
    const pb = ben.presence('presence:ps2');
    const seen = [];
    pb.onChange((members) => seen.push(members.map((m) => m.userId).sort().join(',')));
    await waitFor(() => pb.onlineCount === 2);
    assert.equal(seen[0], 'ann2', 'the first state came from presence_state, before ben2 joined');
  } finally {
    ann.close();
    ben.close();
  }
});
