// Keeps bindings/tidewire_module.d.mts honest: what the module's classes (bindings/tidewire_api.js) expose and
// what the declarations say must match both ways (classes, methods, static functions). The state module
// (web/src/state_module.ts, typed by tsc) is checked for memory ownership.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import ts from 'typescript';

import { createClient, loadModule, loadStateModule } from '../../web/dist/index.js';

const dtsPath = new URL('../../bindings/tidewire_module.d.mts', import.meta.url);

function declaredMembers(interfaceName) {
  const source = ts.createSourceFile('m.d.mts', readFileSync(dtsPath, 'utf8'), ts.ScriptTarget.ES2022, true);
  const names = new Set();
  let found = false;
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === interfaceName) {
      found = true;
      for (const m of node.members) if (m.name) names.add(m.name.getText(source));
    }
  });
  assert.ok(found, `interface ${interfaceName} is declared`);
  return names;
}

test('WasmClient methods match the declarations both ways', async () => {
  const module = await loadModule();
  const runtime = new Set(
    Object.getOwnPropertyNames(module.WasmClient.prototype).filter((n) => n !== 'constructor'),
  );
  assert.deepEqual([...runtime].sort(), [...declaredMembers('WasmClient')].sort());
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

test('WasmClient static functions match the declarations both ways', async () => {
  const module = await loadModule();
  const runtime = Object.getOwnPropertyNames(module.WasmClient).filter(
    (n) => typeof module.WasmClient[n] === 'function' && !['length', 'name', 'prototype'].includes(n),
  );
  const declared = [...declaredMembers('WasmClientConstructor')].filter((n) => n !== 'new');
  assert.deepEqual(runtime.sort(), declared.sort());
});

test('the module exposes what TidewireModule declares', async () => {
  const module = await loadModule();
  for (const name of declaredMembers('TidewireModule')) {
    if (name === 'WebSocket') continue; // optional: set only where there is no global WebSocket (Node 20)
    assert.ok(name in module, `module.${name} exists`);
  }
  assert.ok(module.HEAPU8 instanceof Uint8Array);
});

test('a WasmClient refuses options that are not an object and frees nothing twice', async () => {
  const module = await loadModule();
  const before = module.liveObjects();
  assert.throws(() => new module.WasmClient(null, {}), /client options must be a plain object/);
  assert.equal(module.liveObjects(), before);
});

test('the engine owns each channel: references, subscribed and revoked flags (WasmChannel, both ways)', async () => {
  const module = await loadModule();
  const noop = new Proxy({}, { get: () => () => {} });
  const c = new module.WasmClient({ url: 'ws://127.0.0.1:9/ws' }, noop); // nothing listens: never subscribed
  try {
    const id = c.subscribe('room:1');
    assert.ok(id > 0);
    assert.deepEqual(Object.keys(c.channel(id)).sort(), [...declaredMembers('WasmChannel')].sort());
    assert.equal(c.subscribe('room:1'), id, 'one id for every reference');
    assert.deepEqual(c.channel(id), { id, refs: 2, subscribed: false, revoked: false });
    c.unsubscribe(id);
    assert.equal(c.channel(id).refs, 1);
    c.unsubscribe(id);
    assert.deepEqual(c.channel(id), { id: 0, refs: 0, subscribed: false, revoked: false });
  } finally {
    c.delete();
  }
});

test('WasmMetrics matches what metrics() returns, both ways, and getMetrics() before the engine exists', async () => {
  const module = await loadModule();
  const noop = new Proxy({}, { get: () => () => {} });
  const c = new module.WasmClient({ url: 'ws://127.0.0.1:9/ws' }, noop);
  try {
    assert.deepEqual(Object.keys(c.metrics()).sort(), [...declaredMembers('WasmMetrics')].sort());
  } finally {
    c.delete();
  }
  const client = createClient({ url: 'ws://127.0.0.1:9/ws' });
  const before = client.getMetrics(); // no engine yet: IDLE_METRICS
  await client.ready;
  assert.deepEqual(client.getMetrics(), before, "a new engine's metrics");
  client.close();
});
