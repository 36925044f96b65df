// Keeps bindings/tidewire_module.d.mts honest: what the module's classes (bindings/tidewire_api.js) expose and
// what the declarations say must match both ways (classes, methods, static functions).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import ts from 'typescript';

import { loadModule } from '../../web/dist/index.js';

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

for (const [cls, iface, args, reader] of [
  ['WasmPresence', 'WasmPresence', [], 'members'],
  ['WasmSyncCollection', 'WasmSyncCollection', [], 'items'],
  ['WasmChatRoom', 'WasmChatRoom', [6000], 'messages'],
]) {
  test(`${cls} methods match the declarations both ways`, async () => {
    const module = await loadModule();
    const runtime = new Set(
      Object.getOwnPropertyNames(module[cls].prototype).filter((n) => n !== 'constructor'),
    );
    assert.deepEqual([...runtime].sort(), [...declaredMembers(iface)].sort());
    const before = module.liveObjects();
    const instance = new module[cls](...args);
    assert.equal(module.liveObjects(), before + 1);
    instance.delete();
    instance.delete(); // a second delete() does nothing
    assert.equal(module.liveObjects(), before);
    assert.throws(() => instance[reader](), /was deleted; create a new one/);
  });
}

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
  for (const name of declaredMembers('TidewireModule')) assert.ok(name in module, `module.${name} exists`);
  assert.ok(module.HEAPU8 instanceof Uint8Array);
});

test('a WasmClient refuses options that are not an object and frees nothing twice', async () => {
  const module = await loadModule();
  const before = module.liveObjects();
  assert.throws(() => new module.WasmClient(null, {}), /client options must be a plain object/);
  assert.equal(module.liveObjects(), before);
});
