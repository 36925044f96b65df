// Keeps bindings/tidewire_module.d.mts honest against the embind module (bindings/tidewire_module.cpp): classes,
// methods, static functions, enums, value_object fields and the listener's methods must match both ways, so a
// name added on one side only fails here. The state module (web/src/state_module.ts, typed by tsc) is checked
// for memory ownership.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import ts from 'typescript';

import { CONNECTION_STATES, createClient, loadModule, loadStateModule } from '../../web/dist/index.js';

const dtsPath = new URL('../../bindings/tidewire_module.d.mts', import.meta.url);
const listenerPath = new URL('../../bindings/js_listener.cpp', import.meta.url);
const source = ts.createSourceFile('m.d.mts', readFileSync(dtsPath, 'utf8'), ts.ScriptTarget.ES2022, true);
const sorted = (names) => [...names].sort();

function declaredInterface(interfaceName) {
  let found;
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === interfaceName) found = node;
  });
  assert.ok(found, `interface ${interfaceName} is declared`);
  return found;
}

function declaredMembers(interfaceName) {
  const names = new Set();
  for (const m of declaredInterface(interfaceName).members) if (m.name) names.add(m.name.getText(source));
  return names;
}

// The names of TidewireModule's `X: EnumObject<'a' | 'b', …>` members: { X: ['a', 'b'] }.
function declaredEnums() {
  const enums = {};
  for (const m of declaredInterface('TidewireModule').members) {
    const type = m.type;
    if (!type || !ts.isTypeReferenceNode(type) || type.typeName.getText(source) !== 'EnumObject') continue;
    const names = [];
    const visit = (n) => {
      if (ts.isLiteralTypeNode(n) && ts.isStringLiteral(n.literal)) names.push(n.literal.text);
      else ts.forEachChild(n, visit);
    };
    visit(type.typeArguments[0]);
    enums[m.name.getText(source)] = names;
  }
  return enums;
}

// The embind enum's names (its object also holds `values`, by number).
const enumNames = (e) => Object.keys(e).filter((k) => k !== 'values');

// A client that never connects (nothing listens on port 9) and records nothing.
const noop = new Proxy({}, { get: () => () => {} });
function offlineClient(module) {
  return new module.WasmClient({ ...module.WasmClient.defaultConfig(), url: 'ws://127.0.0.1:9/ws' }, noop);
}

test('WasmClient methods match the declarations both ways', async () => {
  const module = await loadModule();
  const own = Object.getOwnPropertyNames(module.WasmClient.prototype).filter((n) => n !== 'constructor');
  // delete() is embind's, on every class's base prototype.
  assert.equal(typeof module.WasmClient.prototype.delete, 'function');
  assert.deepEqual(sorted([...own, 'delete']), sorted(declaredMembers('WasmClient')));
});

test('WasmClient static functions match the declarations both ways', async () => {
  const module = await loadModule();
  const runtime = Object.getOwnPropertyNames(module.WasmClient).filter(
    (n) => typeof module.WasmClient[n] === 'function' && !['length', 'name', 'prototype'].includes(n),
  );
  const declared = [...declaredMembers('WasmClientConstructor')].filter((n) => n !== 'new');
  assert.deepEqual(sorted(runtime), sorted(declared));
});

test('the module exposes what TidewireModule declares', async () => {
  const module = await loadModule();
  for (const name of declaredMembers('TidewireModule')) {
    if (name === 'WebSocket') continue; // optional: set only where there is no global WebSocket
    assert.ok(name in module, `module.${name} exists`);
  }
  assert.ok(module.HEAPU8 instanceof Uint8Array);
});

test('the enums match the declarations both ways, and ConnectionState is wire.ts CONNECTION_STATES', async () => {
  const module = await loadModule();
  const declared = declaredEnums();
  assert.deepEqual(sorted(Object.keys(declared)), ['AuthMode', 'ConnectionState', 'EngineStatus']);
  for (const [name, values] of Object.entries(declared)) {
    assert.deepEqual(sorted(enumNames(module[name])), sorted(values), `enum ${name}`);
  }
  assert.deepEqual(sorted(enumNames(module.ConnectionState)), sorted(CONNECTION_STATES));
});

test('the value objects match the declarations both ways (options, metrics, results, outbox entries)', async () => {
  const module = await loadModule();
  const defaults = module.WasmClient.defaultConfig();
  assert.deepEqual(sorted(Object.keys(defaults)), sorted(declaredMembers('WasmClientConfig')));
  const c = offlineClient(module);
  try {
    assert.deepEqual(sorted(Object.keys(c.metrics())), sorted(declaredMembers('WasmMetrics')));
    assert.deepEqual(sorted(Object.keys(c.config())), sorted(declaredMembers('WasmClientConfig')));
    const sub = c.subscribe('room:1', '', '');
    assert.deepEqual(sorted(Object.keys(c.channel(sub.id))), sorted(declaredMembers('WasmChannel')));
    assert.equal(c.subscribe('room:1', '', '').id, sub.id);
    assert.equal(c.channel(sub.id).refs, 2);
    c.unsubscribe(sub.id);
    c.unsubscribe(sub.id);
    assert.equal(c.channel(sub.id).id, 0);
    const r = c.publish('room:1', 'message', '{"n":1}', 0, '');
    assert.equal(c.publish('room:1', 'message', '1', 0, 'x'.repeat(65)).status, module.EngineStatus.invalidId);
    assert.equal(r.status, module.EngineStatus.ok);
    assert.deepEqual(sorted(Object.keys(r)), sorted(declaredMembers('WasmResult')));
    const entries = c.outboxEntries();
    assert.equal(entries.length, 1);
    assert.deepEqual(sorted(Object.keys(entries[0])), sorted(declaredMembers('WasmOutboxEntry')));
    assert.equal(c.subscribe('bad channel name', '', '').status, module.EngineStatus.invalidChannel);
    assert.match(module.WasmClient.statusMessage(module.EngineStatus.invalidChannel), /invalid channel name/);
  } finally {
    c.delete();
  }
});

test('a value object with a missing field is refused, not defaulted', async () => {
  const module = await loadModule();
  const { graceMs, ...partial } = module.WasmClient.defaultConfig();
  assert.equal(typeof graceMs, 'number');
  const before = module.liveObjects();
  assert.throws(() => new module.WasmClient({ ...partial, url: 'ws://127.0.0.1:9/ws' }, noop));
  assert.equal(module.liveObjects(), before);
});

test('the listener methods the engine calls (js_listener.cpp) are WasmCallbacks, both ways', () => {
  const cpp = readFileSync(listenerPath, 'utf8');
  const called = new Set([...cpp.matchAll(/call<void>\("(on\w+)"/g), ...cpp.matchAll(/\.(on\w+)\(/g)].map((m) => m[1]));
  assert.deepEqual(sorted(called), sorted(declaredMembers('WasmCallbacks')));
});

test('getMetrics() before the engine exists shows what a new engine shows', async () => {
  const c = createClient({ url: 'ws://127.0.0.1:9/ws' });
  const before = c.getMetrics();
  await c.ready;
  assert.deepEqual(c.getMetrics(), before);
  c.close();
});

test("the engine's options: C++ defaults, and the user's values reach the engine", async () => {
  const module = await loadModule();
  const defaults = module.WasmClient.defaultConfig();
  assert.equal(defaults.graceMs, 1000);
  assert.equal(defaults.authMode, module.AuthMode.subprotocol);
  const c = createClient({ url: 'ws://127.0.0.1:9/ws', graceMs: 250, outboxMaxMessages: 7 });
  assert.equal(c.graceMs, 250);
  await c.ready;
  assert.equal(c.reconnectPolicy.reconnectCapMs, defaults.reconnectCapMs);
  const restore = c.setReconnectPolicy({ reconnectCapMs: 1234 });
  assert.equal(c.reconnectPolicy.reconnectCapMs, 1234);
  restore();
  assert.equal(c.reconnectPolicy.reconnectCapMs, defaults.reconnectCapMs);
  c.close();
});

test('a WasmClient refuses options that are not an object and leaks nothing', async () => {
  const module = await loadModule();
  const before = module.liveObjects();
  assert.throws(() => new module.WasmClient(null, noop));
  assert.equal(module.liveObjects(), before);
  const c = offlineClient(module);
  assert.equal(module.liveObjects(), before + 1);
  c.delete();
  assert.equal(module.liveObjects(), before);
  assert.throws(() => c.state(), /deleted/);
});

for (const [factory, args, reader, apply] of [
  ['presence', [], 'members', (s) => s.applyState('[{"userId":"a","status":"online","joinedAt":1}]')],
  ['syncCollection', [], 'items', (s) => s.applySnapshot('[{"id":"x","version":1,"data":{}}]')],
  ['chatRoom', [6000], 'messages', (s) => s.applyMessage('{"id":"m1","roomId":"r","userId":"a","text":"hi","createdAt":1}')],
]) {
  test(`the state module's ${factory}() owns wasm memory until delete(), and refuses use after it`, async () => {
    const state = await loadStateModule();
    const before = state.liveObjects();
    const instance = state[factory](...args);
    assert.equal(state.liveObjects(), before + 1);
    assert.equal(apply(instance), true);
    assert.notEqual(instance[reader](), '[]');
    instance.delete();
    instance.delete(); // a second delete() does nothing
    assert.equal(state.liveObjects(), before);
    assert.throws(() => instance[reader](), /was deleted; create a new one/);
  });
}

test('the state module grows its memory and keeps reading it right', async () => {
  const state = await loadStateModule();
  const sync = state.syncCollection();
  const big = 'x'.repeat(4096);
  const items = Array.from({ length: 800 }, (_, i) => ({ id: `i${i}`, version: 1, data: { big } }));
  assert.equal(sync.applySnapshot(JSON.stringify(items)), true); // ≈ 3.3 MB: past the initial 1 MiB
  const back = JSON.parse(sync.items());
  assert.equal(back.length, 800);
  assert.equal(back[799].data.big, big);
  assert.equal(sync.applySnapshot('not json'), false);
  sync.delete();
});

