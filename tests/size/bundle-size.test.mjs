// The size budgets (scripts/bundle-size.mjs): deterministic for a given build, so a plain check.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { budgets, measure } from '../../scripts/bundle-size.mjs';

const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
// One measurement (two esbuild bundles and the gzips) for both checks.
const measured = measure();

test(`the plain API (JS + wasm, esbuild --minify, gzip -9) stays within ${kb(budgets.total)}`, async (t) => {
  const m = await measured;
  t.diagnostic(`plain API ${kb(m.totalBytes)} (JS ${kb(m.jsBytes)} + wasm ${kb(m.wasmBytes)}); state module ${kb(m.stateBytes)}`);
  assert.ok(
    m.totalBytes <= budgets.total,
    `the bundle is ${kb(m.totalBytes)} (JS ${kb(m.jsBytes)} + wasm ${kb(m.wasmBytes)}), over its ${kb(budgets.total)} budget: ` +
      'find what grew with `node scripts/bundle-size.mjs` and a wasm symbol map (docs/BENCHMARKS.md, "Bundle size")',
  );
  assert.equal(m.hasNodeSocket, false, 'the browser bundle contains the `ws` package (the WebSocket web/src/node_socket.ts loads in Node 20)');
  assert.equal(m.hasHttpTransports, false, 'the plain API contains the HTTP transports (web/src/http_socket.ts): import them only through http_fallback.ts, with import()');
});

test(`the state module (presence, sync, chat; loaded on first use) stays within ${kb(budgets.state)}`, async () => {
  const m = await measured;
  assert.ok(m.stateBytes <= budgets.state, `tidewire_state.wasm is ${kb(m.stateBytes)} gzip -9, over its ${kb(budgets.state)} budget`);
});

test(`the React entry adds at most ${kb(budgets.react)}`, async () => {
  const m = await measured;
  assert.ok(m.reactBytes <= budgets.react, `the React entry adds ${kb(m.reactBytes)}, over its ${kb(budgets.react)} budget`);
});
