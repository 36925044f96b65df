#!/usr/bin/env node
// Bundles the React demo app (web/demo/app/main.tsx) into the demo site:
//
//   web/demo/app/main.tsx (+ app.css)  →  build/site/app.js, app.js.map, app.css, app.css.map
//   web/dist/shared_worker.js           →  build/site/shared_worker.js (+ .map): the tabs' shared connection
//   web/dist/tidewire_module.wasm      →  build/site/tidewire_module.wasm (beside app.js)
//   web/dist/tidewire_state.wasm       →  build/site/tidewire_state.wasm
//
// `tidewire` and `tidewire/react` resolve to the built package (web/dist/index.js, web/dist/react/index.js),
// exactly what an npm user's bundler would see. esbuild keeps the package's
// `new URL('./tidewire_module.wasm', import.meta.url)` as it is, so after bundling `import.meta.url` is app.js's
// URL: the .wasm must sit beside app.js, hence the copy.
//
// Usage: node scripts/build-demo.mjs [outDir]   (default build/site, relative to the repository root)
// Run after scripts/assemble-site.mjs (which leaves these generated files alone). One-shot, ~0.3 s.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { WASM_FILES } from './wasm-files.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const distDir = join(repoRoot, 'web/dist');
const appDir = join(repoRoot, 'web/demo/app');
const outDir = resolve(repoRoot, process.argv[2] ?? 'build/site');

function fail(message) {
  console.error(`build-demo: ${message}`);
  process.exit(1);
}

const entry = ['main.tsx', 'main.ts'].map((f) => join(appDir, f)).find((f) => existsSync(f));
if (!entry) fail('web/demo/app/main.tsx is missing');
for (const name of ['index.js', 'react/index.js', 'shared_worker.js', ...WASM_FILES]) {
  if (!existsSync(join(distDir, name))) fail(`web/dist/${name} is missing: build the web package first (npm run build)`);
}

const started = performance.now();
mkdirSync(outDir, { recursive: true });
const result = await build({
  absWorkingDir: repoRoot,
  // The shared worker (the connection every tab of one user shares, issue #18) beside app.js: the package's
  // remote engine opens `new URL('./shared_worker.js', import.meta.url)`, and after bundling that is app.js's URL.
  entryPoints: { app: entry, shared_worker: join(distDir, 'shared_worker.js') },
  outdir: outDir,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
  jsx: 'automatic',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  // shared_worker.js imports a chunk of constants for nothing but order; the package says it has no side effects.
  logOverride: { 'ignored-bare-import': 'silent' },
  metafile: true,
  define: { 'process.env.NODE_ENV': '"production"' },
  alias: {
    'tidewire/react': join(distDir, 'react/index.js'),
    tidewire: join(distDir, 'index.js'),
  },
  loader: { '.svg': 'dataurl' },
});
if (result.errors.length > 0) fail(`${result.errors.length} error(s)`);

// The wasm modules beside app.js (copied only when they changed).
for (const name of WASM_FILES) {
  const wasmSource = join(distDir, name);
  const wasmTarget = join(outDir, name);
  const wasm = readFileSync(wasmSource);
  if (!existsSync(wasmTarget) || !readFileSync(wasmTarget).equals(wasm)) copyFileSync(wasmSource, wasmTarget);
}

const outputs = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith('.map'))
  .map(([file, meta]) => `${relative(outDir, resolve(repoRoot, file)) || file} ${(meta.bytes / 1024).toFixed(1)} KiB`);
console.log(
  `build-demo: ${relative(process.cwd(), outDir) || '.'}: ${outputs.join(', ')}, ${WASM_FILES.join(', ')} ` +
    `(${Math.round(performance.now() - started)} ms)`,
);
