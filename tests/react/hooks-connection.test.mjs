// tidewire/react connection hooks against the real server, rendered by react-dom in jsdom:
// useWebSocket (provider form and direct form), useRealtimeConnection (states, reconnect attempts, a server
// restart, disconnect/reconnect, give-up after maxReconnectAttempts), and a 200-message burst through
// useRealtimeChannel.
//
//   node --test tests/react/hooks-connection.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { consoleErrors, h, mount, React, teardownDom, waitFor } from './helpers/env.mjs';
import { startServer } from '../node/helpers/server.mjs';
import { connectRaw } from '../support/raw-client.mjs';

const { createClient } = await import('../../web/dist/index.js');
const {
  RealtimeProvider,
  useWebSocket,
  useRealtimeConnection,
  useRealtimeChannel,
  clientRegistryStats,
  resetClientRegistry,
  REGISTRY_GRACE_MS,
} = await import('../../web/dist/react/index.js');
const { StrictMode, useState } = React;

const TIMEOUT = 30000;
// Fast reconnects for tests: full jitter up to 200 ms.
const FAST = { reconnectBaseMs: 50, reconnectCapMs: 200 };

let server;
before(async () => {
  server = await startServer({ args: ['--rate-limit', '5000', '--rate-burst', '5000'] });
});
after(async () => {
  resetClientRegistry();
  await server?.stop();
  teardownDom();
});

describe('useWebSocket() inside a RealtimeProvider', () => {
  test('connectionState follows the client; sendMessage with and without an event; reconnect', { timeout: TIMEOUT }, async () => {
    const client = createClient({ url: server.wsUrl, token: server.token('alice'), ...FAST });
    const raw = await connectRaw(server.wsUrl, server.token('bob'));
    await raw.subscribe('room:ws');
    const probe = {};
    function Panel() {
      const ws = useWebSocket();
      useRealtimeChannel({ channel: 'room:ws' }); // opens the (lazy) connection
      Object.assign(probe, ws);
      return h('p', { id: 'state', 'data-connected': String(ws.isConnected) }, ws.connectionState);
    }
    const view = mount(h(StrictMode, null, h(RealtimeProvider, { client }, h(Panel))));
    try {
      await waitFor(() => view.$('#state')?.textContent === 'connected', 5000, 'connected to render');
      assert.equal(view.$('#state').dataset.connected, 'true');
      assert.equal(probe.client, client);

      const a = await probe.sendMessage('room:ws', 'chat', { text: 'with event' });
      assert.ok(a.offset >= 1, 'resolves with the ack');
      const m1 = await raw.nextChannelMessage((m) => m.payload?.text === 'with event');
      assert.equal(m1.event, 'chat');
      await probe.sendMessage('room:ws', { text: 'default event' });
      const m2 = await raw.nextChannelMessage((m) => m.payload?.text === 'default event');
      assert.equal(m2.event, 'message', 'sendMessage(channel, payload) uses the event "message"');

      const before = client.getMetrics().connectionAttempts;
      probe.reconnect();
      await waitFor(() => client.getMetrics().connectionAttempts > before && client.state === 'connected', 5000, 'a reconnect');
      await waitFor(() => view.$('#state').textContent === 'connected', 5000, 'connected again');
      assert.equal(client.getMetrics().connectionAttempts, before + 1, 'reconnect() made exactly one new connection');
    } finally {
      view.unmount();
      client.close();
      raw.close();
    }
  });
});

describe('useWebSocket({url}): a direct connection from a module-level registry', () => {
  test('two components under StrictMode share one client and one socket; onOpen/onMessage/send; latest handlers', { timeout: TIMEOUT }, async () => {
    resetClientRegistry();
    const url = server.wsUrl;
    const token = server.token('carol');
    const raw = await connectRaw(server.wsUrl, server.token('dave'));
    await raw.subscribe('room:direct');
    const log = [];
    const probes = {};
    function Widget({ name, tag }) {
      const { status, send, isConnected, client } = useWebSocket({
        url,
        token,
        channel: 'room:direct',
        onOpen: () => log.push(`${name}:open`),
        onMessage: (m) => log.push(`${name}:${tag}:${m.event}:${m.payload.text}`),
      });
      probes[name] = { send, client };
      return h('span', { className: 'ws', 'data-name': name, 'data-connected': String(isConnected) }, status);
    }
    const app = (tag) => h(StrictMode, null, h(Widget, { name: 'A', tag }), h(Widget, { name: 'B', tag }));
    const view = mount(app('v1'));
    try {
      await waitFor(
        () => view.$$('.ws').length === 2 && view.$$('.ws').every((el) => el.textContent === 'connected'),
        5000,
        'both widgets connected',
      );
      assert.equal(probes.A.client, probes.B.client, 'one client per URL');
      assert.deepEqual(clientRegistryStats(), { clients: 1, refs: 2 });
      const m = probes.A.client.getMetrics();
      assert.equal(m.connectionAttempts, 1, 'StrictMode (effects twice) and two components: one socket');
      assert.equal(m.subscriberCount, 2);
      await waitFor(() => log.filter((l) => l.endsWith(':open')).length === 2, 2000, 'onOpen per component');
      assert.deepEqual(log.filter((l) => l.endsWith(':open')).sort(), ['A:open', 'B:open']);

      // The seeds' call: send('chat:message', { text }).
      const { offset } = await probes.A.send('chat:message', { text: 'Hello World!' });
      assert.ok(offset >= 1);
      const seen = await raw.nextChannelMessage((msg) => msg.payload?.text === 'Hello World!');
      assert.equal(seen.event, 'chat:message');
      assert.equal(seen.from, 'carol');
      await waitFor(() => log.includes('B:v1:chat:message:Hello World!'), 3000, 'B to receive A\'s message');

      // New handlers on re-render: the latest one gets the next message, the old one never again.
      view.render(app('v2'));
      await waitFor(() => view.$$('.ws').length === 2, 1000);
      await raw.publish('room:direct', 'note', { text: 'after rerender' });
      await waitFor(() => log.includes('A:v2:note:after rerender') && log.includes('B:v2:note:after rerender'), 3000, 'v2 handlers');
      assert.ok(!log.includes('A:v1:note:after rerender') && !log.includes('B:v1:note:after rerender'), 'no stale handler ran');
      assert.equal(probes.A.client.getMetrics().connectionAttempts, 1, 're-render kept the socket');

      // Unmount: holds released at once, the client closed after the registry's grace period.
      const client = probes.A.client;
      view.unmount();
      assert.equal(clientRegistryStats().refs, 0);
      assert.equal(client.getMetrics().subscriberCount, 0, 'channel subscriptions released on unmount');
      assert.equal(client.closed, false, 'kept during the grace period (hot reload, StrictMode)');
      await waitFor(() => client.closed, REGISTRY_GRACE_MS + 2000, 'the idle client to close');
      assert.deepEqual(clientRegistryStats(), { clients: 0, refs: 0 });
    } finally {
      view.unmount();
      raw.close();
    }
  });

  test('a remount within the grace period (hot reload) reuses the same client and socket', { timeout: TIMEOUT }, async () => {
    resetClientRegistry();
    const url = server.wsUrl;
    const token = server.token('erin');
    let client;
    function W() {
      const ws = useWebSocket({ url, token, channel: 'room:hot' });
      client = ws.client;
      return h('i', { id: 'hot' }, ws.status);
    }
    let view = mount(h(W));
    await waitFor(() => view.$('#hot')?.textContent === 'connected', 5000, 'connected');
    const first = client;
    view.unmount();
    view = mount(h(W));
    try {
      await waitFor(() => view.$('#hot')?.textContent === 'connected', 5000, 'connected after remount');
      assert.equal(client, first, 'the same client');
      assert.equal(first.getMetrics().connectionAttempts, 1, 'the same socket');
    } finally {
      view.unmount();
      resetClientRegistry();
    }
  });
});

describe('useRealtimeConnection', () => {
  test('states, reconnect attempts while the server is down, a restart on the same port, latest callbacks, disconnect/reconnect', { timeout: TIMEOUT }, async () => {
    // Its own server: this test stops and restarts it.
    let own = await startServer();
    const port = own.port;
    const client = createClient({ url: own.wsUrl, token: own.token('frank'), ...FAST });
    const events = [];
    const statuses = [];
    function Status({ tag }) {
      useRealtimeChannel({ channel: 'room:conn' });
      const c = useRealtimeConnection({
        onConnect: () => events.push(`${tag}:connect`),
        onDisconnect: (reason) => events.push(`${tag}:disconnect:${reason ? 'reason' : ''}`),
      });
      statuses.push(c.status);
      return h(
        'div',
        { id: 'conn', 'data-attempts': String(c.reconnectAttempts), 'data-connecting': String(c.isConnecting) },
        h('span', { id: 'st' }, c.status),
        h('button', { id: 'rc', onClick: c.reconnect }, 'reconnect'),
        h('button', { id: 'dc', onClick: c.disconnect }, 'disconnect'),
      );
    }
    const app = (tag) => h(StrictMode, null, h(RealtimeProvider, { client }, h(Status, { tag })));
    const view = mount(app('v1'));
    const st = () => view.$('#st')?.textContent;
    try {
      await waitFor(() => st() === 'connected', 5000, 'connected');
      assert.ok(statuses.includes('idle') || statuses.includes('connecting'), 'rendered the way there');
      assert.deepEqual(events, ['v1:connect'], 'onConnect once (StrictMode did not double it)');
      assert.equal(view.$('#conn').dataset.attempts, '0');

      // New callbacks before the drop: only they must be called.
      view.render(app('v2'));
      await own.stop();
      await waitFor(() => st() === 'reconnecting' || st() === 'connecting', 5000, 'reconnecting to render');
      await waitFor(() => Number(view.$('#conn').dataset.attempts) >= 2, 8000, 'reconnectAttempts >= 2 to render');
      assert.equal(view.$('#conn').dataset.connecting, 'true');
      assert.deepEqual(events, ['v1:connect', 'v2:disconnect:reason'], 'the latest onDisconnect, once');

      own = await startServer({ args: ['--port', String(port)] });
      await waitFor(() => st() === 'connected', 10000, 'connected after the restart');
      assert.equal(view.$('#conn').dataset.attempts, '0', 'attempts reset on success');
      assert.deepEqual(events, ['v1:connect', 'v2:disconnect:reason', 'v2:connect']);

      view.$('#dc').click();
      await waitFor(() => st() === 'disconnected', 5000, 'disconnected');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(st(), 'disconnected', 'stays disconnected (no automatic reconnect)');
      view.$('#rc').click();
      await waitFor(() => st() === 'connected', 5000, 'connected after reconnect()');
      assert.equal(client.getMetrics().subscriberCount, 1);
    } finally {
      view.unmount();
      client.close();
      await own.stop();
    }
    assert.equal(client.getMetrics().subscriberCount, 0, 'released on unmount');
  });

  test('with `url`, maxReconnectAttempts and reconnectInterval configure the client it creates: it gives up with state error', { timeout: TIMEOUT }, async () => {
    resetClientRegistry();
    const dead = await startServer();
    const url = dead.wsUrl;
    await dead.stop(); // nothing listens there now
    let api;
    function Dead() {
      api = useRealtimeConnection({ url, token: server.token('gina'), maxReconnectAttempts: 2, reconnectInterval: 20 });
      return h('span', { id: 'dead', 'data-attempts': String(api.reconnectAttempts) }, api.status);
    }
    const view = mount(h(Dead));
    try {
      await waitFor(() => view.$('#dead')?.textContent === 'idle', 2000, 'idle (lazy) before any use');
      assert.equal(api.client.options.maxReconnectAttempts, 2);
      assert.equal(api.client.options.reconnectBaseMs, 20);
      assert.deepEqual(api.client.reconnectPolicy, { reconnectBaseMs: 20, reconnectCapMs: 30000, maxReconnectAttempts: 2 });
      api.client.onError(() => undefined); // the give-up is reported as an error: expected here
      api.client.connect();
      await waitFor(() => view.$('#dead').textContent === 'error', 8000, 'the error state after 2 failed attempts');
      assert.ok(Number(view.$('#dead').dataset.attempts) >= 2, `attempts rendered: ${view.$('#dead').dataset.attempts}`);
    } finally {
      view.unmount();
      resetClientRegistry();
    }
  });
});

describe('useRealtimeConnection reconnect options under a provider (issue 12)', () => {
  test('maxReconnectAttempts and reconnectInterval override the provider client\'s policy while mounted, without a warning', { timeout: TIMEOUT }, async () => {
    const dead = await startServer();
    const url = dead.wsUrl;
    await dead.stop(); // nothing listens there now
    // The provider's client never gives up and waits up to 30 s: the hook's options must take over.
    const client = createClient({ url, token: server.token('gina') });
    const warnings = [];
    const warn = console.warn;
    console.warn = (...args) => warnings.push(args.join(' '));
    let api;
    function Conn() {
      api = useRealtimeConnection({ maxReconnectAttempts: 2, reconnectInterval: 20 });
      return h('span', { id: 'conn', 'data-attempts': String(api.reconnectAttempts) }, api.status);
    }
    const errors = [];
    client.onError((e) => errors.push(e.code)); // the give-up is reported as an error: expected here
    const view = mount(h(StrictMode, null, h(RealtimeProvider, { client }, h(Conn))));
    try {
      await waitFor(() => view.$('#conn')?.textContent === 'idle', 2000, 'idle (lazy) before any use');
      // The hook sets its policy in an effect, which may run after that render; the defaults come with the module.
      await client.ready;
      await waitFor(() => client.reconnectPolicy.maxReconnectAttempts === 2, 2000, 'the hook\'s policy in force');
      assert.deepEqual(client.reconnectPolicy, { reconnectBaseMs: 20, reconnectCapMs: 30000, maxReconnectAttempts: 2 });
      const started = Date.now();
      client.connect();
      await waitFor(() => view.$('#conn').textContent === 'error', 8000, 'the error state after 2 failed attempts');
      assert.ok(Date.now() - started < 5000, 'the 20 ms base applied (the provider default would wait seconds)');
      assert.ok(errors.includes('reconnect_failed'), `errors: ${errors}`);
      assert.deepEqual(warnings, [], 'no warning: the options work');
    } finally {
      console.warn = warn;
      view.unmount();
    }
    // Unmounted: the client's own policy is back.
    assert.deepEqual(client.reconnectPolicy, { reconnectBaseMs: 1000, reconnectCapMs: 30000, maxReconnectAttempts: 0 });
    client.close();
  });
});

describe('a burst of 200 messages through useRealtimeChannel', () => {
  test('every message reaches the events callback in order, and the state renders the final count', { timeout: TIMEOUT }, async () => {
    const client = createClient({ url: server.wsUrl, token: server.token('hank') });
    const raw = await connectRaw(server.wsUrl, server.token('ivan'));
    await raw.subscribe('room:burst');
    const received = [];
    let renders = 0;
    function Burst() {
      const [count, setCount] = useState(0);
      const { subscribed } = useRealtimeChannel({
        channel: 'room:burst',
        events: {
          tick: (payload) => {
            received.push(payload.n);
            setCount((c) => c + 1);
          },
        },
      });
      renders += 1;
      return h('p', { id: 'burst', 'data-subscribed': String(subscribed) }, String(count));
    }
    const view = mount(h(StrictMode, null, h(RealtimeProvider, { client }, h(Burst))));
    try {
      await waitFor(() => view.$('#burst')?.dataset.subscribed === 'true', 5000, 'subscribed: true to render');
      const rendersBefore = renders;
      const N = 200;
      // Fire all 200 without waiting for acks, then wait for the last ack.
      for (let n = 1; n <= N; n += 1) {
        raw.send({ type: 'channel_message', channel: 'room:burst', event: 'tick', payload: { n }, ref: `b${n}` });
      }
      await raw.next((m) => m.type === 'ack' && m.ref === `b${N}`, 'the last ack', 10000);
      await waitFor(() => view.$('#burst').textContent === String(N), 10000, `${N} to render`);
      assert.deepEqual(received, Array.from({ length: N }, (_, i) => i + 1), 'every message, once, in order');
      const burstRenders = renders - rendersBefore;
      // StrictMode renders each update twice; batching keeps it well under 2 × 200.
      assert.ok(burstRenders < 2 * N, `renders during the burst: ${burstRenders}`);
      console.log(`# burst: ${N} messages, ${burstRenders} renders (StrictMode doubles renders)`);
    } finally {
      view.unmount();
      // The hook's store releases its subscription a macrotask after its last listener (StrictMode's remount reuses it).
      await waitFor(() => client.getMetrics().subscriberCount === 0, 2000, 'released on unmount');
      client.close();
      raw.close();
    }
  });
});

describe('console', () => {
  test('React and tidewire logged no errors', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
