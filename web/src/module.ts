// Loads the wasm module once, lazily, in browsers, workers, bundlers (Vite/esbuild) and Node ESM.
import createTidewireModule from './tidewire_module.mjs';
import type { TidewireModule, TidewireModuleOptions, WebSocketClass } from './tidewire_module.mjs';
import { nodeWebSocket } from './node_socket.js';
import { fallbackSocketClass } from './transport_fallback.js';

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
        // Every socket the engine opens goes through the transport fallback (transport_fallback.ts): a WebSocket
        // of this class (or the global one, looked up at each socket), or SSE / long polling.
        const base = socketClass ?? m.WebSocket;
        m.WebSocket = fallbackSocketClass(
          () => base ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket,
        );
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

/**
 * Tests only (not exported by the package's entry): loadModule() resolves to `module`, e.g. the fake engine of
 * tests/unit/fake_engine.mjs, until called again with undefined.
 */
export function _useModuleForTests(module: TidewireModule | undefined): void {
  loaded = module;
  loading = module === undefined ? undefined : Promise.resolve(module);
}

/** The module if it has finished loading, else undefined. */
export function loadedModule(): TidewireModule | undefined {
  return loaded;
}
