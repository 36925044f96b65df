// Builds what the package ships in web/dist from tsc's one-file-per-module output (build/web-tsc): the two
// entries (index.js, react/index.js) bundled by esbuild together with the wasm glue, sharing one chunk, so that
// loading tidewire is three requests (entry, chunk, .wasm) instead of fifteen and a cold Node start imports
// one file (≈ 5 ms instead of ≈ 15). tsc's .d.ts files are copied as they are: the types point at them.
//   node scripts/bundle-dist.mjs        (scripts/build.sh runs it after tsc)
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';
import { WASM_FILES } from './wasm-files.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'build/web-tsc');
const dist = join(root, 'web/dist');
// Put in place by scripts/build.sh, not by this script.
const MODULE_FILES = new Set([...WASM_FILES, 'tidewire_module.d.mts']);

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

// Start from the module files only, so nothing of an earlier build (old chunks, removed modules, the glue,
// which the chunk now contains) lingers.
mkdirSync(dist, { recursive: true });
for (const f of files(dist)) if (!MODULE_FILES.has(relative(dist, f))) rmSync(f);

for (const f of files(from)) {
  if (!f.endsWith('.d.ts')) continue;
  const to = join(dist, relative(from, f));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(f, to);
}

const result = await build({
  entryPoints: {
    index: join(from, 'index.js'),
    'react/index': join(from, 'react/index.js'),
    // createSharedClient (issue #18) and the SharedWorker it starts: their own files, loaded only by apps that
    // share one connection across tabs; the worker finds itself with new URL('./shared_worker.js', import.meta.url).
    shared: join(from, 'shared_client.js'),
    shared_worker: join(from, 'shared_worker.js'),
  },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  // The chunk holds the loaders and sits next to tidewire_module.wasm and tidewire_state.wasm, which they find
  // with new URL('./….wasm', import.meta.url).
  chunkNames: 'chunk-[hash]',
  external: ['react', 'react-dom', 'react/*'],
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).filter((o) => !o.endsWith('.map'));
console.log(`bundle-dist: ${outputs.map((o) => relative(dist, resolve(root, o))).join(', ')}`);
