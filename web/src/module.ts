// Loads the wasm module once, lazily, in browsers, workers, bundlers (Vite/esbuild) and Node ESM.
import createTidewireModule from './tidewire_module.mjs';
import type { TidewireModule, TidewireModuleOptions, WebSocketClass } from './tidewire_module.mjs';

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

// Node 20 has no global WebSocket: the package's own (node_websocket.ts) is loaded through its "#node-websocket"
// import, with a specifier bundlers do not follow, so browser bundles never contain it.
const NODE_WEBSOCKET = '#node-websocket';

async function nodeWebSocket(): Promise<WebSocketClass | undefined> {
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function') return undefined; // Node 22+
  try {
    const mod = (await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_WEBSOCKET)) as { NodeWebSocket: WebSocketClass };
    return mod.NodeWebSocket;
  } catch (e) {
    throw new Error(
      `tidewire: could not load its WebSocket for Node (${NODE_WEBSOCKET}: ${String(e)}). ` +
        'Import tidewire from its package (the import is declared in its package.json), or define globalThis.WebSocket ' +
        "(for example with the 'ws' package) before the first client connects.",
    );
  }
}

/** A .wasm file's bytes, read from disk in Node (20.16+: process.getBuiltinModule); undefined elsewhere. */
export function readWasmInNode(url: URL): Uint8Array<ArrayBuffer> | undefined {
  const fs = nodeProcess()?.getBuiltinModule?.('fs') as { readFileSync(p: URL): Uint8Array<ArrayBuffer> } | undefined;
  return fs?.readFileSync(url);
}

function moduleOptions(): TidewireModuleOptions {
  // The literal `new URL('…', import.meta.url)` lets Vite and esbuild find and emit the .wasm asset.
  const wasmUrl = new URL('./tidewire_module.wasm', import.meta.url);
  const wasmBinary = readWasmInNode(wasmUrl);
  return wasmBinary ? { wasmBinary } : { locateFile: () => wasmUrl.href };
}

/** Resolves to the shared module instance; the first call starts loading it. */
export function loadModule(): Promise<TidewireModule> {
  if (loading === undefined) {
    const proc = nodeProcess();
    // In Node, the socket class loads while the wasm compiles off the main thread; no socket opens before both
    // are ready.
    loading = Promise.all([createTidewireModule(moduleOptions()), proc ? nodeWebSocket() : undefined]).then(
      ([m, socketClass]) => {
        if (socketClass) m.WebSocket = socketClass;
        loaded = m;
        return m;
      },
    );
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
