#!/usr/bin/env node
// Assembles the demo site that `tidewire-server --static-dir build/site` serves:
//
//   web/demo/*   → build/site/            (index.html, static.html, ...; not web/demo/app/, the React app's sources)
//   web/dist/**  → build/site/tidewire/   (the built package: .js, .wasm; .map and .d.ts skipped)
//
// scripts/build-demo.mjs then bundles web/demo/app/ into build/site/app.js (+ app.css and the .wasm files);
// those generated files (GENERATED below) are left alone here.
//
// Usage: node scripts/assemble-site.mjs [outDir]   (default build/site, relative to the repository root)
//
// Idempotent and fast: a file is copied only when its size or content changed, and files that no longer
// have a source are removed. Exits 1 with a message when web/dist has not been built.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASM_FILES } from './wasm-files.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const demoDir = join(repoRoot, 'web/demo');
const distDir = join(repoRoot, 'web/dist');
const outDir = resolve(repoRoot, process.argv[2] ?? 'build/site');

const REQUIRED = ['index.js', ...WASM_FILES];
const SKIP = [/\.map$/, /\.d\.ts$/, /\.d\.mts$/, /\.tsbuildinfo$/];
// Sources bundled by scripts/build-demo.mjs, not served as they are.
const DEMO_SKIP = [/^app\//];
// What scripts/build-demo.mjs writes into outDir: kept even though no web/demo file maps to it.
const GENERATED = new Set(['app.js', 'app.js.map', 'app.css', 'app.css.map', ...WASM_FILES]);

function fail(message) {
  console.error(`assemble-site: ${message}`);
  process.exit(1);
}

/** Every file under `dir` as paths relative to it (recursive). */
function listFiles(dir, prefix = '') {
  const out = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

function sameFile(a, b) {
  if (!existsSync(b)) return false;
  const sa = statSync(a);
  const sb = statSync(b);
  if (!sb.isFile() || sa.size !== sb.size) return false;
  return readFileSync(a).equals(readFileSync(b));
}

if (!existsSync(demoDir)) fail(`${relative(repoRoot, demoDir)} is missing`);
for (const name of REQUIRED) {
  if (!existsSync(join(distDir, name))) {
    fail(
      `web/dist/${name} is missing: build the web package first with \`npm run build\` ` +
        '(scripts/build.sh: the wasm module, then tsc and scripts/bundle-dist.mjs)',
    );
  }
}

// A stale copy of the wasm module in web/dist is a classic source of "works in Node, not in the browser".
for (const name of WASM_FILES) {
  const fresh = join(repoRoot, 'build/wasm/module', name);
  if (existsSync(fresh) && !sameFile(fresh, join(distDir, name))) {
    console.warn(`assemble-site: warning: web/dist/${name} differs from build/wasm/module/${name} (stale? rebuild web/dist)`);
  }
}

// target (relative to outDir) → source (absolute)
const plan = new Map();
for (const rel of listFiles(demoDir)) {
  if (DEMO_SKIP.some((re) => re.test(rel))) continue;
  plan.set(rel, join(demoDir, rel));
}
for (const rel of listFiles(distDir)) {
  if (SKIP.some((re) => re.test(rel))) continue;
  plan.set(`tidewire/${rel}`, join(distDir, rel));
}

mkdirSync(outDir, { recursive: true });
let copied = 0;
for (const [rel, source] of plan) {
  const target = join(outDir, rel);
  if (sameFile(source, target)) continue;
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
  copied += 1;
}

// Remove what no longer has a source (renamed demo files, old package files), then empty directories.
let removed = 0;
for (const rel of listFiles(outDir)) {
  if (plan.has(rel) || GENERATED.has(rel)) continue;
  rmSync(join(outDir, rel));
  removed += 1;
}
function pruneEmpty(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const sub = join(dir, entry.name);
    pruneEmpty(sub);
    if (readdirSync(sub).length === 0) rmSync(sub, { recursive: true });
  }
}
pruneEmpty(outDir);

console.log(
  `assemble-site: ${relative(process.cwd(), outDir) || '.'}: ${plan.size} files ` +
    `(${copied} copied, ${removed} removed, ${plan.size - copied} unchanged)`,
);
