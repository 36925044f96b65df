// Sharing one connection where SharedWorker is missing (Chrome on Android, some WebViews): the tabs of one origin
// and one user elect a leader with a Web Lock; the leader runs the ConnectionHub (connection_hub.ts) and the
// others reach it over a BroadcastChannel. When the leader closes or crashes, its lock passes to the next tab
// waiting for it (at once: no timeout to wait out), which announces itself; every tab then says hello again and
// subscribes again from its recovery position (shared_client.ts), so the server's recovery fills the gap.
//
// The BroadcastChannel and the locks are named after the URL and the user's share key: tabs of another user
// never hear these messages, tokens included.
import { ConnectionHub } from './connection_hub.js';
import type { TabLink } from './shared_client.js';
import type { TabMessage, WorkerMessage } from './shared_messages.js';

type Envelope = { from: string; m: TabMessage } | { to: string; w: WorkerMessage } | { leader: string };

export class LeaderLink implements TabLink {
  readonly #tab: string;
  readonly #channel: BroadcastChannel;
  #hub: ConnectionHub | undefined;
  #onMessage: (message: WorkerMessage) => void = () => undefined;
  #onNewHub: () => void = () => undefined;

  constructor(name: string, tab: string, locks: LockManager) {
    this.#tab = tab;
    this.#channel = new BroadcastChannel(name);
    this.#channel.onmessage = (e: MessageEvent<Envelope>) => this.#receive(e.data);
    // Held until the tab goes away: then the next tab in the lock's queue leads.
    void locks.request(`${name} leader`, () => this.#lead());
  }

  /** True while this tab holds the connection. */
  get leading(): boolean {
    return this.#hub !== undefined;
  }

  listen(onMessage: (message: WorkerMessage) => void, onNewHub?: () => void): void {
    this.#onMessage = onMessage;
    if (onNewHub !== undefined) this.#onNewHub = onNewHub;
  }

  post(message: TabMessage): void {
    if (this.#hub !== undefined) this.#hub.handle(this.#tab, (w) => queueMicrotask(() => this.#onMessage(w)), message);
    else this.#channel.postMessage({ from: this.#tab, m: message } satisfies Envelope);
  }

  #receive(d: Envelope): void {
    if ('leader' in d) {
      this.#onNewHub();
    } else if ('to' in d) {
      if (d.to === this.#tab) this.#onMessage(d.w);
    } else if (this.#hub !== undefined) {
      const from = d.from;
      this.#hub.handle(from, (w) => this.#channel.postMessage({ to: from, w } satisfies Envelope), d.m);
    }
  }

  #lead(): Promise<void> {
    this.#hub = new ConnectionHub();
    this.#channel.postMessage({ leader: this.#tab } satisfies Envelope);
    this.#onNewHub(); // this tab's own client attaches to its hub too
    return new Promise<void>(() => undefined);
  }
}
