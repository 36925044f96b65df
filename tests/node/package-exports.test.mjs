// Keeps the published declarations honest: the values that web/dist/index.js and web/dist/react/index.js export
// at run time and the values their .d.ts files declare must match both ways (types are not values); web/package.json
// names files that exist and declares what Node 20 needs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import ts from 'typescript';

function declaredValues(dtsUrl) {
  const file = fileURLToPath(dtsUrl);
  const program = ts.createProgram([file], { strict: true, skipLibCheck: true, module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, moduleResolution: ts.ModuleResolutionKind.Bundler });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(file));
  const names = [];
  for (const exp of checker.getExportsOfModule(moduleSymbol)) {
    const target = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
    if (target.flags & ts.SymbolFlags.Value) names.push(exp.name);
  }
  return names.sort();
}

for (const entry of ['index', 'react/index']) {
  test(`tidewire${entry === 'index' ? '' : '/react'}: runtime exports match the declarations`, async () => {
    const runtime = Object.keys(await import(new URL(`../../web/dist/${entry}.js`, import.meta.url))).sort();
    assert.deepEqual(runtime, declaredValues(new URL(`../../web/dist/${entry}.d.ts`, import.meta.url)));
  });
}

test('the package declares `ws` (Node 20\'s WebSocket) as an optional peer dependency, and no import map', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../web/package.json', import.meta.url), 'utf8'));
  assert.equal(pkg.peerDependencies?.ws, '^8.0.0');
  assert.equal(pkg.peerDependenciesMeta?.ws?.optional, true);
  assert.equal(pkg.dependencies?.ws, undefined, 'ws is not installed for browser apps and Node 22+');
  assert.equal(pkg.imports, undefined, 'the #node-websocket import map is gone with node_websocket.ts');
  // Every file the exports name is built.
  for (const target of Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)))) {
    assert.ok(existsSync(new URL(`../../web/${target}`, import.meta.url)), `web/${target} is missing`);
  }
});
