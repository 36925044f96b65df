// Loads the wasm module once, lazily, in browsers, workers, bundlers (Vite/esbuild) and Node ESM.
import createTidewireModule from './tidewire_module.mjs';
import type { TidewireModule, TidewireModuleOptions } from './tidewire_module.mjs';

let loading: Promise<TidewireModule> | undefined;
let loaded: TidewireModule | undefined;

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (name: string) => unknown;
}

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node !== undefined ? p : undefined;
}

// Node 20 has no global WebSocket: use the `ws` package (a dependency) without a static import, so browser
// bundles never see it.
function ensureWebSocket(proc: NodeProcess): void {
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function') return;
  const mod = proc.getBuiltinModule?.('module') as { createRequire(url: string): (id: string) => unknown };
  const WS = mod.createRequire(import.meta.url)('ws');
  (globalThis as { WebSocket?: unknown }).WebSocket = WS;
}

function moduleOptions(proc: NodeProcess | undefined): TidewireModuleOptions {
  // The literal `new URL('…', import.meta.url)` lets Vite and esbuild find and emit the .wasm asset.
  const wasmUrl = new URL('./tidewire_module.wasm', import.meta.url);
  if (proc?.getBuiltinModule) {
    const fs = proc.getBuiltinModule('fs') as { readFileSync(p: URL): Uint8Array };
    return { wasmBinary: fs.readFileSync(wasmUrl) };
  }
  return { locateFile: () => wasmUrl.href };
}

/** Resolves to the shared module instance; the first call starts loading it. */
export function loadModule(): Promise<TidewireModule> {
  if (loading === undefined) {
    const proc = nodeProcess();
    const instantiating = createTidewireModule(moduleOptions(proc));
    // In Node, load `ws` while the wasm compiles off the main thread (no socket opens before the module is
    // ready): loading it costs about as much as the rest of a cold start.
    if (proc?.getBuiltinModule) ensureWebSocket(proc);
    loading = instantiating.then((m) => {
      loaded = m;
      return m;
    });
    loading.catch(() => {
      loading = undefined; // a failed load (network) may be retried
    });
  }
  return loading;
}

/** The module if it has finished loading, else undefined. */
export function loadedModule(): TidewireModule | undefined {
  return loaded;
}
