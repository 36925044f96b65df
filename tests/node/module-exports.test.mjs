// Keeps bindings/tidewire_module.d.mts honest: what the embind module registers and what the declarations
// say must match both ways (classes, methods, static functions).
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
    Object.getOwnPropertyNames(module.WasmClient.prototype).filter((n) => n !== 'constructor' && !n.startsWith('$$')),
  );
  // embind's base class adds clone/isAliasOf/isDeleted/deleteLater/delete to every class; of those, only
  // delete() is part of our contract.
  assert.equal(typeof module.WasmClient.prototype.delete, 'function');
  runtime.add('delete');
  assert.deepEqual([...runtime].sort(), [...declaredMembers('WasmClient')].sort());
});

for (const [cls, iface, args] of [
  ['WasmPresence', 'WasmPresence', []],
  ['WasmSyncCollection', 'WasmSyncCollection', []],
  ['WasmChatRoom', 'WasmChatRoom', [6000]],
]) {
  test(`${cls} methods match the declarations both ways`, async () => {
    const module = await loadModule();
    const runtime = new Set(
      Object.getOwnPropertyNames(module[cls].prototype).filter((n) => n !== 'constructor' && !n.startsWith('$$')),
    );
    runtime.add('delete');
    assert.deepEqual([...runtime].sort(), [...declaredMembers(iface)].sort());
    const instance = new module[cls](...args);
    instance.delete();
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
