// The WebSocket class the client's sockets are made with in Node. Node 22 and later have a global WebSocket,
// used as it is (the module falls back to the global when this returns undefined). Node 20 has none: there the
// `ws` package is used, an optional peer dependency of tidewire (README.md, "Node"), loaded on first use with a
// specifier bundlers do not follow, so browser bundles never contain it.
import { CloseCode } from './wire.js';
import type { WebSocketClass } from './tidewire_module.mjs';

/** A variable, not a literal: bundlers leave `import(WS_PACKAGE)` alone. */
const WS_PACKAGE = 'ws';

/** What this file uses of the `ws` package's WebSocket (its browser-style API is what the module uses). */
interface WsSocket {
  on(event: 'unexpected-response', listener: (request: { destroy(): void }, response: WsResponse) => void): unknown;
  emit(event: string | symbol, ...args: unknown[]): boolean;
  terminate(): void;
}
interface WsResponse {
  statusCode?: number;
  statusMessage?: string;
}
type WsClass = new (url: string, protocols: string[] | undefined, options: { perMessageDeflate: boolean }) => WsSocket;

const HTTP_UNAUTHORIZED = 401;

/**
 * `ws`'s WebSocket, with one difference a browser cannot offer: an upgrade refused with HTTP 401 (a bad token in
 * the subprotocol, PROTOCOL.md section 1) ends in a close with code 4001 (auth_failed) and reason "HTTP 401 …", and
 * no error event, so the client handles it as a bad first-message token (a fresh token from a provider once, then
 * auth_failed) instead of retrying it as a network failure. Any other refused upgrade stays an error and a 1006
 * close, as `ws` reports it. No permessage-deflate: tidewire's frames are small and batched, and compression would
 * cost CPU per message.
 */
function withAuthRefusal(Base: WsClass): WebSocketClass {
  return class TidewireNodeSocket extends (Base as new (...args: ConstructorParameters<WsClass>) => WsSocket) {
    /** Set once the upgrade was refused with 401: the reason the close event carries. */
    authRefused: string | undefined;

    constructor(url: string, protocols?: string[]) {
      super(url, protocols, { perMessageDeflate: false });
      this.on('unexpected-response', (_request, response) => {
        const status = response.statusCode ?? 0;
        if (status === HTTP_UNAUTHORIZED) {
          this.authRefused = `HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`;
        }
        this.terminate(); // as `ws` does without this listener: an error, then a 1006 close
      });
    }

    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (this.authRefused === undefined) return super.emit(event, ...args);
      if (event === 'error') return true;
      // `ws` hands the close reason on as `reason.toString()`: a string serves as well as its Buffer.
      if (event === 'close') return super.emit(event, CloseCode.authFailed, this.authRefused);
      return super.emit(event, ...args);
    }
  };
}

/**
 * The WebSocket class for Node 20, or undefined where a global WebSocket exists (Node 22+). Rejects with an Error
 * that says what to install when Node has no WebSocket and `ws` is not installed.
 */
export async function nodeWebSocket(): Promise<WebSocketClass | undefined> {
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function') return undefined;
  let ws: { WebSocket?: WsClass; default?: WsClass };
  try {
    ws = (await import(/* @vite-ignore */ /* webpackIgnore: true */ WS_PACKAGE)) as typeof ws;
  } catch (e) {
    throw new Error(
      `tidewire: this Node (${String((globalThis as { process?: { version?: string } }).process?.version)}) has no ` +
        "global WebSocket and the 'ws' package could not be loaded (" + String(e) + '). ' +
        "Install it next to tidewire (npm install ws), or use Node 22 or later, whose global WebSocket is used.",
    );
  }
  const Base = ws.WebSocket ?? ws.default;
  if (typeof Base !== 'function') throw new Error("tidewire: the 'ws' package has no WebSocket export; install ws 8 (npm install ws@8)");
  return withAuthRefusal(Base);
}
