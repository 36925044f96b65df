// tidewire/react against the real server: RealtimeProvider + useRealtimeChannel rendered by react-dom in
// jsdom, under <React.StrictMode>. No JSX (plain node:test): React.createElement throughout.
//
//   node --test tests/react/use-realtime-channel.test.mjs
//
// Needs build/native/src/server/tidewire-server and a built web/dist (index.js + react/index.js + the module).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JSDOM } from 'jsdom';

import { startServer } from '../node/helpers/server.mjs';
import { connectRaw } from '../support/raw-client.mjs';
import { waitFor as poll } from '../support/wait.mjs';

// --- a DOM for react-dom, installed before react-dom loads (it checks for `window` at import time) ---------
const dom = new JSDOM('<!doctype html><html><body><div id="root"></div></body></html>', { url: 'http://localhost/' });
const installed = [];
function installGlobal(name, value) {
  if (Object.getOwnPropertyDescriptor(globalThis, name)?.configurable === false) return;
  installed.push([name, Object.getOwnPropertyDescriptor(globalThis, name)]);
  Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
}
installGlobal('window', dom.window);
installGlobal('document', dom.window.document);
installGlobal('navigator', dom.window.navigator);
for (const name of ['Node', 'Element', 'HTMLElement', 'HTMLIFrameElement', 'Event', 'MutationObserver', 'getComputedStyle']) {
  installGlobal(name, dom.window[name]);
}
globalThis.IS_REACT_ACT_ENVIRONMENT = true;

const React = await import('react');
const { createRoot } = await import('react-dom/client');
const { createClient } = await import('../../web/dist/index.js');
const { RealtimeProvider, useRealtimeChannel, useRealtimeClient } = await import('../../web/dist/react/index.js');
const { act, createElement: h, StrictMode, useState } = React;

const CHANNEL = 'room:react';
const TEST_TIMEOUT = 20000;

/**
 * Runs `fn` outside the act() environment. Socket messages arrive whenever the network delivers them and
 * cause state updates on their own, like user events in a browser; as Testing Library's waitFor does, the
 * test leaves the act environment while such traffic flows so those updates render normally instead of
 * warning "not wrapped in act(...)". Rendering and unmounting still go through act().
 */
async function live(fn) {
  globalThis.IS_REACT_ACT_ENVIRONMENT = false;
  try {
    return await fn();
  } finally {
    globalThis.IS_REACT_ACT_ENVIRONMENT = true;
  }
}

/** Polls `fn` with a deadline (outside act, see live()). */
const waitFor = (fn, timeoutMs = 5000, label = 'condition') => live(() => poll(fn, timeoutMs, label));

// Everything React (and tidewire, which logs unhandled errors) prints as an error fails the suite.
const consoleErrors = [];
const originalConsoleError = console.error;
console.error = (...args) => {
  consoleErrors.push(args.map(String).join(' '));
  originalConsoleError(...args);
};

/** The component under test: renders every chat message it receives and exposes `send` and its calls. */
function Chat({ onChat, probe }) {
  const [lines, setLines] = useState([]);
  const { send } = useRealtimeChannel({
    channel: CHANNEL,
    events: {
      chat: (payload, message) => {
        onChat(payload, message);
        setLines((prev) => [...prev, `${message.from}: ${payload.text}`]);
      },
    },
  });
  probe.send = send;
  probe.renders += 1;
  return h('ul', { id: 'messages' }, lines.map((line, i) => h('li', { key: i }, line)));
}

/** Unmounts, ignoring errors (cleanup paths). act() returns a thenable, not a Promise: no .catch(). */
async function unmountQuietly(root) {
  try {
    await act(async () => root.unmount());
  } catch {
    // already unmounted or broken: nothing left to clean
  }
}

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
  console.error = originalConsoleError;
  for (const [name, descriptor] of installed.reverse()) {
    if (descriptor) Object.defineProperty(globalThis, name, descriptor);
    else delete globalThis[name];
  }
  dom.window.close();
});

const renderedLines = () => [...document.querySelectorAll('#messages li')].map((li) => li.textContent);

describe('tidewire/react: useRealtimeChannel under StrictMode', () => {
  let client;
  let root;
  let raw;
  const clientErrors = [];
  const probe = { send: undefined, renders: 0 };
  const callsA = [];
  const callsB = [];
  const handlerA = (payload) => callsA.push(payload.text);
  const handlerB = (payload) => callsB.push(payload.text);

  /** Publishes from the other client (bob); its delivery updates state outside act (see live()). */
  const publish = (channel, event, payload) => live(() => raw.publish(channel, event, payload));

  const app = (onChat) =>
    h(StrictMode, null, h(RealtimeProvider, { client }, h(Chat, { onChat, probe })));

  before(async () => {
    client = createClient({ url: server.wsUrl, token: server.token('alice') });
    client.onError((e) => clientErrors.push(`${e.code}: ${e.message}`));
    raw = await connectRaw(server.wsUrl, server.token('bob'));
    await raw.subscribe(CHANNEL);
  });

  after(async () => {
    if (root) await unmountQuietly(root);
    client?.close();
    raw?.close();
  });

  test('one connection; messages from another client reach the handler and the DOM', { timeout: TEST_TIMEOUT }, async () => {
    // Count the hook's subscribe calls: StrictMode subscribes, unsubscribes and subscribes again at once, and the
    // hook's store (created during render, online from its first listener) keeps its one subscription through it.
    let channelCalls = 0;
    const channel = client.channel.bind(client);
    client.channel = (name) => {
      channelCalls += 1;
      return channel(name);
    };
    root = createRoot(document.getElementById('root'));
    await act(async () => root.render(app(handlerA)));
    delete client.channel;
    assert.equal(channelCalls, 1, 'StrictMode\'s remount reused the subscription (no unsubscribe/resubscribe)');

    await waitFor(() => client.state === 'connected', 5000, 'the client to connect');
    // Wait (public API) until the server confirmed the subscription, so a publish must reach the hook.
    const handle = client.channel(CHANNEL);
    await live(() => handle.whenSubscribed()); // the hook renders `subscribed: true` meanwhile
    handle.unsubscribe();
    assert.equal(client.getMetrics().subscriberCount, 1, 'exactly the hook subscribes');

    const { offset } = await publish(CHANNEL, 'chat', { text: 'one' });
    assert.ok(offset >= 1);
    await waitFor(() => renderedLines().includes('bob: one'), 5000, '"bob: one" to render');
    assert.deepEqual(callsA, ['one'], 'the handler ran once per message');

    // Another event is not routed to the chat handler.
    await publish(CHANNEL, 'typing', { text: 'ignored' });
    await publish(CHANNEL, 'chat', { text: 'two' });
    await waitFor(() => renderedLines().includes('bob: two'), 5000, '"bob: two" to render');
    assert.deepEqual(callsA, ['one', 'two']);
    assert.deepEqual(renderedLines(), ['bob: one', 'bob: two']);

    const m = client.getMetrics();
    assert.equal(m.connectionAttempts, 1, 'StrictMode must not open a second socket');
    assert.equal(m.connectionSuccesses, 1);
    assert.equal(m.reconnects, 0);
    assert.equal(m.channelCount, 1);
    assert.equal(m.subscriberCount, 1);
  });

  test('a re-render with a new handler: the latest handler is called, never the stale one', { timeout: TEST_TIMEOUT }, async () => {
    const rendersBefore = probe.renders;
    await act(async () => root.render(app(handlerB)));
    assert.ok(probe.renders > rendersBefore, 're-rendered');

    await publish(CHANNEL, 'chat', { text: 'three' });
    await waitFor(() => renderedLines().includes('bob: three'), 5000, '"bob: three" to render');
    assert.deepEqual(callsB, ['three'], 'the new handler got the message');
    assert.deepEqual(callsA, ['one', 'two'], 'the old handler was not called again');
    // A re-render does not resubscribe or reconnect.
    assert.equal(client.getMetrics().connectionAttempts, 1);
    assert.equal(client.getMetrics().subscriberCount, 1);
  });

  test('send() from the hook reaches another subscriber (and the sender itself)', { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(typeof probe.send, 'function');
    const [result, seen] = await live(async () => {
      const sent = await probe.send('chat', { text: 'from the hook' });
      return [sent, await raw.nextChannelMessage((msg) => msg.payload?.text === 'from the hook')];
    });
    assert.ok(result.offset >= 1, 'send resolves with the server ack');
    assert.equal(seen.from, 'alice');
    assert.equal(seen.event, 'chat');
    assert.equal(seen.channel, CHANNEL);
    assert.equal(seen.offset, result.offset);
    // The hook's own channel delivers the echo too (the sender is subscribed).
    await waitFor(() => renderedLines().includes('alice: from the hook'), 5000, 'the echo to render');
  });

  test('unmount releases the subscription, then the idle connection closes', { timeout: TEST_TIMEOUT }, async () => {
    await act(async () => root.unmount());
    root = undefined;
    assert.equal(document.querySelector('#messages'), null);
    await waitFor(() => client.getMetrics().subscriberCount === 0, 5000, 'subscriberCount 0');
    assert.equal(client.getMetrics().channelCount, 0);

    // Lazy connection: with no subscriber left the socket closes after graceMs (default 1000 ms).
    await waitFor(() => client.state !== 'connected', 5000, 'the idle connection to close');
    assert.equal(client.getMetrics().connectionAttempts, 1);

    assert.deepEqual(clientErrors, [], 'the client reported errors');
    assert.deepEqual(consoleErrors, [], 'React or tidewire logged errors');
  });
});

// The same StrictMode mount/unmount/mount, but before the wasm engine is attached (createClient loads it
// asynchronously): the subscribe/unsubscribe/subscribe calls queue up instead of reaching the engine.
describe('tidewire/react: StrictMode before the wasm engine is attached', () => {
  test('the queued subscribe/unsubscribe/subscribe still makes one connection and one subscriber', { timeout: TEST_TIMEOUT }, async () => {
    const got = [];
    function Early() {
      useRealtimeChannel({ channel: 'room:early', events: { chat: (payload) => got.push(payload.text) } });
      return null;
    }
    const container = document.createElement('div');
    document.body.append(container);
    const earlyRoot = createRoot(container);
    const other = await connectRaw(server.wsUrl, server.token('frank'));
    await other.subscribe('room:early');
    const errorsBefore = consoleErrors.length;
    let fresh;
    try {
      // The client is created right here and the render is synchronous: the effects (twice, StrictMode) run
      // before the promise that attaches the engine can settle.
      fresh = createClient({ url: server.wsUrl, token: server.token('erin') });
      act(() => earlyRoot.render(h(StrictMode, null, h(RealtimeProvider, { client: fresh }, h(Early)))));
      assert.equal(fresh.state, 'idle', 'nothing reached the engine yet');
      // The subscription waits for the engine (its reference counts live there): one subscriber once attached.
      await waitFor(() => fresh.getMetrics().subscriberCount === 1, 5000, 'one subscriber');

      await waitFor(() => fresh.state === 'connected', 5000, 'the client to connect');
      const handle = fresh.channel('room:early');
      await live(() => handle.whenSubscribed()); // the hook renders `subscribed: true` meanwhile
      handle.unsubscribe();
      await live(() => other.publish('room:early', 'chat', { text: 'early bird' }));
      await waitFor(() => got.includes('early bird'), 5000, 'the message to arrive');
      const m = fresh.getMetrics();
      assert.equal(m.connectionAttempts, 1);
      assert.equal(m.subscriberCount, 1);
      assert.equal(m.channelCount, 1);

      await act(async () => earlyRoot.unmount());
      // The hook's store releases its subscription a macrotask after its last listener.
      await waitFor(() => fresh.getMetrics().subscriberCount === 0, 2000, 'released on unmount');
      assert.deepEqual(consoleErrors.slice(errorsBefore), [], 'React or tidewire logged errors');
    } finally {
      await unmountQuietly(earlyRoot);
      container.remove();
      other.close();
      fresh?.close();
    }
  });
});

// RealtimeProvider can also own its client: `options` instead of `client`. Under StrictMode its effect cleanup
// runs in the simulated unmount; the re-mounted hooks must still get a live client.
describe('tidewire/react: RealtimeProvider options={...} (an owned client) under StrictMode', () => {
  test(
    'the owned client survives the StrictMode re-mount, connects once, and is closed on unmount',
    {
      timeout: TEST_TIMEOUT,
    },
    async () => {
      const options = { url: server.wsUrl, token: server.token('carol') };
      const got = [];
      let owned;
      function Owned() {
        owned = useRealtimeClient();
        useRealtimeChannel({ channel: 'room:owned', events: { chat: (payload) => got.push(payload.text) } });
        return null;
      }
      const container = document.createElement('div');
      document.body.append(container);
      const ownedRoot = createRoot(container);
      const other = await connectRaw(server.wsUrl, server.token('dave'));
      try {
        await act(async () => ownedRoot.render(h(StrictMode, null, h(RealtimeProvider, { options }, h(Owned)))));
        assert.equal(owned.closed, false, 'the provider\'s client was closed while mounted');
        await waitFor(() => owned.state === 'connected', 5000, 'the owned client to connect');
        const handle = owned.channel('room:owned');
        await live(() => handle.whenSubscribed()); // the hook renders `subscribed: true` meanwhile
        handle.unsubscribe();
        await other.subscribe('room:owned');
        await live(() => other.publish('room:owned', 'chat', { text: 'to carol' }));
        await waitFor(() => got.includes('to carol'), 5000, 'the message to reach the owned client');
        assert.equal(owned.getMetrics().connectionAttempts, 1);
        await act(async () => ownedRoot.unmount());
        // The provider closes the client it created (a fix may defer the close a little).
        await waitFor(() => owned.closed, 2000, 'the owned client to be closed after unmount');
      } finally {
        await unmountQuietly(ownedRoot);
        container.remove();
        other.close();
        if (owned && !owned.closed) owned.close();
      }
    },
  );
});

// Issue 12 (contract section 8): the seeds' realtimeClient.send(channel, message) publishes without subscribing.
describe('realtimeClient.send without a subscription', () => {
  test('opens the lazy connection, is delivered and acked, and the connection closes after the grace period', { timeout: TEST_TIMEOUT }, async () => {
    const { configure, realtimeClient, resetDefaultClient } = await import('../../web/dist/index.js');
    const client = configure({ url: server.wsUrl, token: server.token('erin'), graceMs: 200 });
    const other = await connectRaw(server.wsUrl, server.token('frank'));
    try {
      await other.subscribe('room:seeds');
      await client.ready;
      assert.equal(client.state, 'idle');
      const ack = await realtimeClient.send('room:seeds', { text: 'no subscription needed' });
      assert.ok(ack.offset >= 1, 'acked by the server');
      const seen = await other.nextChannelMessage((m) => m.payload?.text === 'no subscription needed');
      assert.equal(seen.from, 'erin');
      assert.equal(seen.event, 'message');
      assert.equal(client.getMetrics().subscriberCount, 0);
      await poll(() => client.state === 'idle', 3000, 'the connection to close after graceMs');
      assert.equal(client.getMetrics().connectionAttempts, 1);
    } finally {
      other.close();
      resetDefaultClient();
    }
  });
});

// Issue 12 (contract section 1): the server ends a subscription when access is lost.
describe('useRealtimeChannel when the server ends the subscription', () => {
  test('leaving the chat room calls onError with room_left and renders subscribed: false', { timeout: TEST_TIMEOUT }, async () => {
    const client = createClient({ url: server.wsUrl, token: server.token('gwen') });
    const clientErrors = [];
    client.onError((e) => clientErrors.push(e.code));
    const hookErrors = [];
    const { room } = await live(() => client.request('chat_create_room', { name: 'short stay', visibility: 'private' }));
    function Room() {
      const { subscribed } = useRealtimeChannel({ channel: `chat:${room.id}`, onError: (e) => hookErrors.push(e) });
      return h('p', { id: 'room-state' }, subscribed ? 'subscribed' : 'not subscribed');
    }
    const container = document.createElement('div');
    document.body.append(container);
    const roomRoot = createRoot(container);
    try {
      await act(async () => roomRoot.render(h(StrictMode, null, h(RealtimeProvider, { client }, h(Room)))));
      await waitFor(() => container.textContent === 'subscribed', 5000, 'subscribed to render');
      await live(() => client.request('chat_leave', { roomId: room.id }));
      await waitFor(() => hookErrors.length === 1, 5000, 'the hook\'s onError');
      assert.equal(hookErrors[0].code, 'room_left');
      assert.equal(hookErrors[0].details.channel, `chat:${room.id}`);
      await waitFor(() => container.textContent === 'not subscribed', 5000, 'subscribed: false to render');
      assert.deepEqual(clientErrors, ['room_left']);
    } finally {
      await unmountQuietly(roomRoot);
      container.remove();
      client.close();
    }
  });
});
