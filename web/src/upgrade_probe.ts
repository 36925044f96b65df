// While a client is on a fallback transport (SSE, long polling), a WebSocket opened in the background now and
// then (transport_fallback.ts's `upgradeProbeMs`): once one authenticates (its first message is auth_success),
// WebSocket works again and the fallback socket is upgraded. Only a client on an HTTP transport needs it, so it
// travels in the HTTP transports' lazily loaded chunk (http_fallback.ts).

type Handler = ((event: unknown) => void) | null;

/** The WebSocket class the probe opens (the module's, looked up at each probe). */
export type ProbeSocketClass = new (url: string, protocols?: string[]) => object;

interface ProbeSocket {
  onopen: Handler;
  onmessage: Handler;
  onclose: Handler;
  onerror: Handler;
  close(code?: number): void;
}

export class UpgradeProbe {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #probing: ProbeSocket | undefined;
  #stopped = false;

  /**
   * Probes `url` every `everyMs` until stop(); `works` is called once, when a probe authenticates (the probe is
   * closed first).
   */
  constructor(
    readonly url: string,
    readonly protocols: string[] | undefined,
    readonly base: () => ProbeSocketClass | undefined,
    readonly everyMs: number,
    readonly works: () => void,
  ) {
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const p = this.#probing;
    if (!p) return;
    this.#probing = undefined;
    p.onopen = p.onmessage = p.onclose = p.onerror = null;
    try {
      p.close(1000);
    } catch {
      /* already closed */
    }
  }

  #arm(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const Base = this.base();
      if (!Base) return;
      let probe: ProbeSocket;
      try {
        probe = new Base(this.url, this.protocols) as ProbeSocket;
      } catch {
        return this.#arm(); // still blocked
      }
      this.#probing = probe;
      probe.onerror = () => {};
      probe.onclose = () => {
        if (this.#probing !== probe) return;
        this.#probing = undefined;
        if (!this.#stopped) this.#arm();
      };
      // Authenticated (the first message is auth_success): WebSocket works again.
      probe.onmessage = () => {
        if (this.#probing !== probe) return;
        this.stop();
        this.works();
      };
    }, this.everyMs);
  }
}
