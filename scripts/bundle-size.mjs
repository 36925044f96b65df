// The package's size as a user's bundler ships it: the plain API (web/dist/index.js with the module's glue),
// bundled and minified by esbuild for the browser, plus the client's .wasm, each gzip -9. The state module
// (tidewire_state.wasm: presence, sync, chat), fetched the first time an app uses one of those, is measured on
// its own. The React entry is measured the same way, on top of the plain API (react and react-dom are the
// user's, so external).
//   node scripts/bundle-size.mjs            prints the figures and writes test-results/bench/size.json
// tests/size/bundle-size.test.mjs checks the budgets below in `npm test`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Budgets in bytes (1 KB = 1,000 bytes, so the figures read the same in every tool). */
export const budgets = {
  /**
   * Plain API: JS + the client's wasm, gzip -9, enforced by `npm test`. The boundary issue (#13) set 48,000 in place
   * of the old 40 KB target, to make room for the embind runtime. 39.0 KB before issue #12; its features brought it
   * to 43.0 KB (43.9 with #13's stores), and embind, which the design card names for the boundary, to 51.7 KB
   * (JS 22.8 + wasm 28.9). Tried: registering only the built-in types used and the listener at -Oz (55.0 -> 51.4),
   * and Closure (`--closure 1`: -1.2 KB, since esbuild already minifies the glue, for a 229 MB compiler in
   * node_modules; not taken). Issue #14's protocol v2 reader (compact batches: the engine's record loop and the
   * JS slicing of one decoded frame) adds 0.9 KB (52.6 KB: wasm 29.6, JS 23.0) for about half the CPU per message;
   * marking its functions noinline changed nothing. Issues #15 and #16 on the client add 2.7 KB (55.3 KB: JS 24.7,
   * wasm 30.6): `url` as a list or a function (the engine's URL request, TS's choice of URL) and
   * `on('postgres_changes', …)` (the engine's `changes` on every subscribe, refused subscribes ending their
   * channel; TS's filter validation and local matching, about 1.1 KB of it). Issue #13's last step put the
   * engine's control path (auth_success, subscribed, unsubscribed, errors) on nlohmann/json, which the design card
   * names for the client and which our budget cannot override: its SAX parser costs 18.2 KB gzipped (a DOM parse
   * cost 23.0 KB), most of it nlohmann's lexer, the snprintf of its error messages and strtod's long-double
   * soft-float, the same parts as in the state module below (73.2 KB). Issue #17's HTTP transports (SSE and long
   * polling over fetch, the fallback policy: web/src/http_socket.ts, transport_fallback.ts) add 3.6 KB of JS
   * (76.8 KB); loading them only when WebSocket fails is a follow-up; binary frames over them (base64 in, an
   * application/octet-stream POST out: http_socket.ts) add 0.24 KB. Issue #18's persistOutbox adds about 0.6 KB:
   * the option, onOutboxResult/getRestoredSends/outboxPersisted and the send path's id (JS ≈ 0.4 KB), the engine's
   * publish with a given id and its `invalidId` status (wasm ≈ 0.1 KB); the IndexedDB code itself (1.7 KB) is a
   * lazily loaded chunk, reported on its own line. Its shared connection adds about 0.4 KB more: the engine's
   * setPosition and the channel view's recovery position (`offset`, `epoch`; wasm 0.3 KB) and the client's hooks
   * for the hub (JS 0.1 KB); the tab client, the hub and the SharedWorker are files of their own (77.95 KB). Issue
   * #17's follow-up made the HTTP transports a lazy chunk (web/src/http_fallback.ts: HttpSocket and the upgrade
   * probe, 2.9 KB on its own line), imported when a client falls back to or is configured for SSE or long polling:
   * -1.9 KB (76.04 KB: JS 27.0, wasm 49.0; the chunk gzips worse alone, and wire.ts's HttpTransport names stay).
   * The budget is that plus 0.46 KB, to keep the room honest; docs/BENCHMARKS.md has the steps.
   */
  total: 76_500,
  /**
   * The state module's wasm, gzip -9, fetched on first use of presence, sync or chat (ours: catches growth).
   * 15.2 KB before issue #12, whose chat resume, pending own messages, who reacted, members and quiet sync
   * conflicts brought it to 16.8 KB. Issue #13 put its JSON on nlohmann/json (the design card's library) in place
   * of the hand-written DOM: 41.1 KB, of which nlohmann's parser and lexer are ≈ 16.5 KB, the snprintf it calls
   * ≈ 6.5 KB and strtod's long-double soft-float ≈ 5.7 KB (docs/BENCHMARKS.md). Issue #13 then moved the chat room
   * list from TS into it (src/state/room_list_state.*): 42.6 KB. The budget catches growth past that.
   */
  state: 43_000,
  /** The React entry's own JS on top of the plain API, gzip -9 (ours: catches a regression). */
  react: 12_000,
};

const gz = (buf) => gzipSync(buf, { level: 9 }).length;

// Bundled with code splitting, as a user's bundler does: what loads with the entry (it and the chunks it imports
// statically) is `eager`, one buffer; the chunks reached only through import() (code loaded on first use of an
// option, e.g. persistOutbox) are `lazy`, each measured on its own.
async function bundle(entry) {
  const result = await build({
    entryPoints: [resolve(root, entry)],
    bundle: true,
    splitting: true,
    outdir: resolve(root, 'build/bundle-size'),
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
    external: ['react', 'react-dom', 'react/jsx-runtime'],
    logLevel: 'silent',
  });
  const contents = new Map(result.outputFiles.map((f) => [relative(root, f.path), Buffer.from(f.contents)]));
  const outputs = result.metafile.outputs;
  const start = Object.keys(outputs).find((o) => outputs[o].entryPoint !== undefined);
  const eager = new Set();
  const visit = (o) => {
    if (eager.has(o)) return;
    eager.add(o);
    for (const i of outputs[o].imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(start);
  const lazy = Object.keys(outputs).filter((o) => !eager.has(o) && !o.endsWith('.map') && contents.has(o));
  return {
    eager: Buffer.concat([...eager].map((o) => contents.get(o))),
    lazy: lazy.map((o) => ({ file: o, bytes: gz(contents.get(o)), what: lazyWhat(contents.get(o)) })),
  };
}

// What a lazily loaded chunk holds, from a string only it contains.
function lazyWhat(code) {
  const text = code.toString();
  if (text.includes('tidewire-outbox')) return 'persistOutbox (IndexedDB outbox)';
  if (text.includes('chat_send')) return 'persistOutbox in chat rooms (restored sends shown pending)';
  if (text.includes('tidewire-tab-')) return 'one connection across tabs (remote engine, leader election; loaded by sharing clients)';
  if (text.includes('the HTTP session ended')) return 'HTTP transports (SSE, long polling; on fallback)';
  return 'other';
}

export async function measure() {
  const plain = await bundle('web/dist/index.js');
  const js = plain.eager;
  const withReact = (await bundle('web/dist/react/index.js')).eager;
  // The SharedWorker of createSharedClient: its own file, and what it loads (the client and the wasm glue).
  const worker = (await bundle('web/dist/shared_worker.js')).eager;
  const wasm = readFileSync(resolve(root, 'web/dist/tidewire_module.wasm'));
  const stateWasm = readFileSync(resolve(root, 'web/dist/tidewire_state.wasm'));
  const jsBytes = gz(js);
  const wasmBytes = gz(wasm);
  return {
    jsBytes,
    wasmBytes,
    totalBytes: jsBytes + wasmBytes,
    budgetBytes: budgets.total,
    wasmRawBytes: wasm.length,
    stateBytes: gz(stateWasm),
    stateBudgetBytes: budgets.state,
    // Node 20's WebSocket (the `ws` package, web/src/node_socket.ts) must never reach a browser bundle.
    hasNodeSocket: js.includes('Sec-WebSocket-Key'),
    // The HTTP transports (web/src/http_fallback.ts) are a lazy chunk, loaded when a client falls back to them.
    hasHttpTransports: js.includes('the HTTP session ended'),
    jsMinBytes: js.length,
    // The React entry bundles the plain API too: its own share is the difference.
    reactBytes: gz(withReact) - jsBytes,
    reactBudgetBytes: budgets.react,
    // JS loaded only when an option asks for it: not part of the plain API's figure.
    lazy: plain.lazy,
    sharedWorkerBytes: gz(worker),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const m = await measure();
  const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
  console.log(`plain API: JS ${kb(m.jsBytes)} + wasm ${kb(m.wasmBytes)} = ${kb(m.totalBytes)} gzip -9 (budget ${kb(m.budgetBytes)})`);
  console.log(`  minified JS ${kb(m.jsMinBytes)}, raw wasm ${kb(m.wasmRawBytes)}`);
  console.log(`state module on first use of presence/sync/chat: wasm ${kb(m.stateBytes)} gzip -9 (budget ${kb(m.stateBudgetBytes)})`);
  console.log(`React entry on top: ${kb(m.reactBytes)} gzip -9 (budget ${kb(m.reactBudgetBytes)})`);
  console.log(`shared worker (sharing clients; its own file, with what it loads, not counted above): JS ${kb(m.sharedWorkerBytes)} gzip -9 + the client's wasm`);
  for (const l of m.lazy) console.log(`lazily loaded JS, ${l.what}: ${kb(l.bytes)} gzip -9`);
  mkdirSync(resolve(root, 'test-results/bench'), { recursive: true });
  writeFileSync(resolve(root, 'test-results/bench/size.json'), `${JSON.stringify(m)}\n`);
}
