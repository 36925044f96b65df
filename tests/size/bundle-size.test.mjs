// The size budgets (scripts/bundle-size.mjs): deterministic for a given build, so a plain check.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { budgets, measure } from '../../scripts/bundle-size.mjs';

const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
// One measurement (two esbuild bundles and the gzips) for both checks.
const measured = measure();

test(`the plain API (JS + wasm, esbuild --minify, gzip -9) stays under its ${kb(budgets.total)} ceiling`, async (t) => {
  const m = await measured;
  t.diagnostic(`plain API ${kb(m.totalBytes)} (JS ${kb(m.jsBytes)} + wasm ${kb(m.wasmBytes)}); target ${kb(budgets.target)}` +
    (m.totalBytes > budgets.target ? ': not met yet' : ': met'));
  assert.ok(
    m.totalBytes <= budgets.total,
    `the bundle is ${kb(m.totalBytes)} (JS ${kb(m.jsBytes)} + wasm ${kb(m.wasmBytes)}), over its ${kb(budgets.total)} ceiling: ` +
      'find what grew with `node scripts/bundle-size.mjs` and a wasm symbol map (docs/BENCHMARKS.md, "Bundle size")',
  );
});

test(`the React entry adds at most ${kb(budgets.react)}`, async () => {
  const m = await measured;
  assert.ok(m.reactBytes <= budgets.react, `the React entry adds ${kb(m.reactBytes)}, over its ${kb(budgets.react)} budget`);
});
