// A fake of the wasm module (bindings/tidewire_module.d.mts) for testing web/src/client.ts without a server or
// wasm: the engine's channel references and subscribe state live here as they do in C++ (ChannelEntry), and
// the test plays the engine's events by hand.
//
// How to extend, most to least common:
// - A new engine event: a method below that calls `this.callbacks.onX(...)` as js_listener.cpp does.
// - A new WasmClient method: add it to FakeWasmClient with the engine's answer (the type check in
//   tests/unit/fake-engine.test.mjs fails until every declared method exists here).
// - Messages: deliver() writes the payload into HEAPU8 and calls onMessage with (ptr, len), like the engine.
//
// Usage:
//   const fake = createFakeModule(); _useModuleForTests(fake);
//   const client = createClient({ url: 'ws://x/ws' }); await client.ready;
//   const engine = fake.last; engine.open(); engine.confirm('room:1'); engine.deliver('room:1', 'chat', '{"a":1}');

const encoder = new TextEncoder();

// embind enums: one object per name, compared with ===.
const enumOf = (names) => Object.fromEntries(names.map((name, value) => [name, { value }]));
const STATES = ['idle', 'connecting', 'authenticating', 'connected', 'reconnecting', 'disconnected', 'error'];
export const Status = enumOf(['ok', 'invalidChannel', 'invalidEvent', 'invalidPayload', 'outboxFull', 'unknownChannel', 'tooLarge', 'invalidRequest', 'notConnected', 'invalidId']);
const STATUS_MESSAGES = new Map([
  [Status.invalidChannel, 'invalid channel name'],
  [Status.outboxFull, 'the outbox is full'],
  [Status.notConnected, 'not connected'],
]);
const result = (id, status = Status.ok) => ({ id, status });

class FakeWasmClient {
  constructor(module, options, callbacks) {
    this.module = module;
    this.options = options;
    this.callbacks = callbacks;
    this.calls = []; // [method, ...args] of every call the TS layer made
    this.channels = new Map(); // id -> { id, name, refs, subscribed, revoked }
    this.nextId = 1;
    this.nextRef = 1;
    this.events = new Map(); // event name -> id (announced once, like the engine)
    this.currentState = 'idle';
    this.outboxLimit = Infinity; // publishes past it fail with outboxFull
    this.queued = 0;
    this.deleted = false;
    module.live += 1;
    module.clients.push(this);
  }

  #record(name, args) {
    if (this.deleted) throw new Error('tidewire: this WasmClient was deleted; create a new one');
    this.calls.push([name, ...args]);
  }

  // --- the WasmClient interface (what client.ts calls) ---
  subscribe(name, changesEvent, changesFilter) {
    this.#record('subscribe', [name, changesEvent, changesFilter]);
    if (!/^[\w:.@-]{1,128}$/.test(name)) return result(0, Status.invalidChannel);
    let ch = [...this.channels.values()].find((c) => c.name === name);
    if (ch === undefined) {
      ch = { id: this.nextId++, name, refs: 0, subscribed: false, revoked: false, changes: { event: changesEvent, filter: changesFilter } };
      this.channels.set(ch.id, ch);
    } else {
      if (ch.revoked) ch.revoked = false; // an explicit subscribe starts it again
      ch.changes = { event: changesEvent, filter: changesFilter };
    }
    ch.refs += 1;
    return result(ch.id);
  }
  setChanges(id, event, filter) {
    this.#record('setChanges', [id, event, filter]);
    const ch = this.channels.get(id);
    if (ch !== undefined) ch.changes = { event, filter };
  }
  setUrl(url) {
    this.#record('setUrl', [url]);
  }
  urlFailed(message) {
    this.#record('urlFailed', [message]);
  }
  unsubscribe(id) {
    this.#record('unsubscribe', [id]);
    const ch = this.channels.get(id);
    if (ch !== undefined && --ch.refs === 0) this.channels.delete(id);
  }
  setPosition(id, offset, epoch) {
    this.#record('setPosition', [id, offset, epoch]);
  }
  resubscribe(id) {
    this.#record('resubscribe', [id]);
    const ch = this.channels.get(id);
    if (ch !== undefined) ch.revoked = false;
  }
  channel(id) {
    const ch = this.channels.get(id);
    return ch === undefined
      ? { id: 0, refs: 0, subscribed: false, revoked: false, offset: 0, epoch: '' }
      : { id: ch.id, refs: ch.refs, subscribed: ch.subscribed, revoked: ch.revoked, offset: 0, epoch: '' };
  }
  publish(channel, event, payloadJson, ttlMs, id) {
    this.#record('publish', [channel, event, payloadJson, ttlMs, id]);
    if (this.queued >= this.outboxLimit) return result(0, Status.outboxFull);
    this.queued += 1;
    return result(this.nextRef++);
  }
  publishBinary(channel, event, bytes, ttlMs, id) {
    this.#record('publishBinary', [channel, event, bytes, ttlMs, id]);
    return result(this.nextRef++);
  }
  request(type, bodyJson, ttlMs) {
    this.#record('request', [type, bodyJson, ttlMs]);
    return result(this.nextRef++);
  }
  notify(type, bodyJson) {
    this.#record('notify', [type, bodyJson]);
    return this.currentState === 'connected' ? Status.ok : Status.notConnected;
  }
  outboxEntries() {
    return [];
  }
  clearOutbox() {
    return 0;
  }
  setPageVisible(visible) {
    this.#record('setPageVisible', [visible]);
  }
  setOnline(online) {
    this.#record('setOnline', [online]);
  }
  probe() {
    this.#record('probe', []);
  }
  connect() {
    this.#record('connect', []);
  }
  disconnect() {
    this.#record('disconnect', []);
  }
  reconnect() {
    this.#record('reconnect', []);
  }
  setToken(token) {
    this.#record('setToken', [token]);
  }
  tokenFailed(message) {
    this.#record('tokenFailed', [message]);
  }
  tokenRefused(message) {
    this.#record('tokenRefused', [message]);
  }
  setReconnectPolicy(baseMs, capMs, maxAttempts) {
    this.#record('setReconnectPolicy', [baseMs, capMs, maxAttempts]);
  }
  state() {
    return this.module.ConnectionState[this.currentState];
  }
  config() {
    return this.options;
  }
  connectionId() {
    return this.currentState === 'connected' ? 'c-1' : '';
  }
  userId() {
    return '';
  }
  metrics() {
    let refs = 0;
    for (const ch of this.channels.values()) refs += ch.refs;
    return { connectionAttempts: 0, channelCount: this.channels.size, subscriberCount: refs, queueDepth: this.queued };
  }
  delete() {
    if (this.deleted) return;
    this.deleted = true;
    this.module.live -= 1;
  }

  // --- the engine's events, played by the test ---
  setState(to, reason = '') {
    const from = this.currentState;
    this.currentState = to;
    if (to !== 'connected') for (const ch of this.channels.values()) ch.subscribed = false;
    const states = this.module.ConnectionState;
    this.callbacks.onState(states[from], states[to], reason);
  }
  /** The socket opened and the server authenticated it. */
  open() {
    this.setState('connecting');
    this.setState('connected');
  }
  /** The server confirmed `name`'s subscription. */
  confirm(name) {
    const ch = this.#byName(name);
    ch.subscribed = true;
    this.callbacks.onSubscribed(ch.id);
  }
  /** A channel message: `payloadJson` is written into HEAPU8 and handed over as (ptr, len). */
  deliver(name, event, payloadJson, { offset = 1, ts = 0, from = '' } = {}) {
    const ch = this.#byName(name);
    let eventId = this.events.get(event);
    if (eventId === undefined) {
      eventId = this.events.size + 1;
      this.events.set(event, eventId);
      this.callbacks.onEventName(eventId, event);
    }
    const heap = this.module.HEAPU8;
    const payload = encoder.encodeInto(payloadJson, heap.subarray(64)).written;
    const sender = encoder.encodeInto(from, heap.subarray(64 + payload)).written;
    this.callbacks.onMessage(ch.id, eventId, 64, payload, offset, ts, 64 + payload, sender);
  }
  ack(ref, { ok = true, offset = 1, code = '', message = '', errorJson = '' } = {}) {
    this.queued = Math.max(0, this.queued - 1);
    this.callbacks.onAck(ref, ok, offset, code, message, errorJson);
  }
  reply(ref, dataJson, { ok = true, code = '', message = '' } = {}) {
    this.callbacks.onReply(ref, ok, dataJson, code, message);
  }
  /** The server ended `name`'s subscription (an `unsubscribed` push). */
  revoke(name, code, message) {
    const ch = this.#byName(name);
    ch.subscribed = false;
    ch.revoked = true;
    this.callbacks.onUnsubscribed(ch.id, code, message);
  }
  /** The engine asks for this attempt's URL (options.url as a list or a function). */
  urlRequest() {
    this.callbacks.onUrlRequest();
  }
  /** The server refused `name`'s subscribe (bad_filter, forbidden...): the engine ends it like a revoke. */
  refuse(name, code, message) {
    this.revoke(name, code, message);
  }
  /** The channel's `changes` as the engine holds them. */
  changesOf(name) {
    return this.#byName(name).changes;
  }
  gap(name, reason) {
    this.callbacks.onGap(this.#byName(name).id, reason);
  }

  #byName(name) {
    const ch = [...this.channels.values()].find((c) => c.name === name);
    if (ch === undefined) throw new Error(`fake engine: nothing subscribed to "${name}"`);
    return ch;
  }
}

// Any numbers: the fake only hands them back (the real defaults are C++'s).
const DEFAULT_CONFIG = {
  url: '',
  urlProvider: false,
  tokenProvider: false,
  graceMs: 1000,
  reconnectBaseMs: 1000,
  reconnectCapMs: 30000,
  maxReconnectAttempts: 0,
  heartbeatIntervalMs: 30000,
  heartbeatTimeoutMs: 60000,
  probeTimeoutMs: 5000,
  hiddenCloseMs: 1000,
  authTimeoutMs: 5000,
  outboxMaxMessages: 1000,
  outboxMaxBytes: 1 << 20,
  ackTimeoutMs: 10000,
};

/** A fake TidewireModule; `module.last` is the latest client, `module.live` the clients not deleted. */
export function createFakeModule() {
  const module = {
    ConnectionState: enumOf(STATES),
    AuthMode: enumOf(['subprotocol', 'message']),
    EngineStatus: Status,
    HEAPU8: new Uint8Array(1 << 16),
    clients: [],
    live: 0,
    get last() {
      return module.clients[module.clients.length - 1];
    },
    liveObjects: () => module.live,
  };
  module.WasmClient = class extends FakeWasmClient {
    constructor(options, callbacks) {
      super(module, options, callbacks);
    }
    static statusMessage(status) {
      return STATUS_MESSAGES.get(status) ?? 'unknown status';
    }
    static defaultConfig() {
      return { ...DEFAULT_CONFIG, authMode: module.AuthMode.subprotocol };
    }
  };
  return module;
}

let commits = 0;
/** A postgres_changes payload on public.todos as the server sends it (JSON text), each with a later commit time. */
export function postgresChange(eventType, row, old = {}) {
  return JSON.stringify({
    schema: 'public',
    table: 'todos',
    commit_timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, commits++)).toISOString(),
    eventType,
    new: eventType === 'DELETE' ? {} : row,
    old,
    errors: null,
  });
}
