// Sharing one connection where SharedWorker is missing (Chrome on Android, some WebViews): the tabs of one origin
// and one user elect a leader with a Web Lock; the leader runs the ConnectionHub (connection_hub.ts) and the
// others reach it over BroadcastChannels. When the leader closes or crashes, its lock passes to the next tab
// waiting for it (at once: no timeout to wait out), which announces itself; every tab then says hello again and
// subscribes again from its recovery position (remote_engine.ts), so the server's recovery fills the gap.
//
// Three kinds of channel, so that a message is read only by the tab it is for (a BroadcastChannel delivers to
// every tab listening): `<name>` carries the leader's announcements, `<name> hub` the tabs' messages to the
// leader (only the leader listens), `<name> to <tab>` the leader's messages to one tab (only that tab listens).
//
// The channels and the locks are named after the URL and the user's share key: tabs of another user never hear
// these messages, tokens included.
import type { createClient } from './client.js';
import { ConnectionHub } from './connection_hub.js';
import type { TabLink } from './remote_engine.js';
import type { TabMessage, WorkerMessage } from './shared_messages.js';

export class LeaderLink implements TabLink {
  readonly #name: string;
  readonly #create: typeof createClient;
  readonly #tab: string;
  readonly #announce: BroadcastChannel;
  readonly #toHub: BroadcastChannel;
  readonly #own: BroadcastChannel;
  #hub: ConnectionHub | undefined;
  #toTabs = new Map<string, BroadcastChannel>();
  #onMessage: (message: WorkerMessage) => void = () => undefined;
  #onNewHub: () => void = () => undefined;
  // Ends the wait for the leader's lock, or (leading) gives it up: close().
  readonly #abort = new AbortController();
  #resign: () => void = () => undefined;

  /**
   * `ask`: asks who leads (for a tab that starts here late, after its SharedWorker failed to load): the leader
   * answers this tab alone, which then attaches (onNewHub), as it does when a leader announces itself.
   */
  constructor(name: string, tab: string, locks: LockManager, create: typeof createClient, ask = false) {
    this.#create = create;
    this.#name = name;
    this.#tab = tab;
    this.#announce = new BroadcastChannel(name);
    this.#announce.onmessage = (e: MessageEvent<{ leader: string } | { ask: string }>) => {
      if (!('ask' in e.data)) this.#onNewHub();
      else if (this.#hub !== undefined) this.#toTab(e.data.ask).postMessage({ t: 'hub' });
    };
    this.#toHub = new BroadcastChannel(`${name} hub`);
    this.#own = new BroadcastChannel(`${name} to ${tab}`);
    this.#own.onmessage = (e: MessageEvent<WorkerMessage | { t: 'hub' }>) => {
      if (e.data.t === 'hub') this.#onNewHub();
      else this.#onMessage(e.data);
    };
    // Held until the tab goes away: then the next tab in the lock's queue leads.
    locks.request(`${name} leader`, { signal: this.#abort.signal }, () => this.#lead()).catch(() => undefined);
    if (ask) this.#announce.postMessage({ ask: tab });
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
    else this.#toHub.postMessage({ from: this.#tab, m: message });
  }

  /** The tab moved to another connection: it stops listening; as the leader, it closes its connection and the
   * next tab in the lock's queue takes over. */
  close(): void {
    this.#abort.abort();
    this.#hub?.close();
    this.#hub = undefined;
    this.#resign();
    for (const c of [this.#announce, this.#toHub, this.#own, ...this.#toTabs.values()]) c.close();
    this.#toTabs.clear();
  }

  #toTab(tab: string): BroadcastChannel {
    let out = this.#toTabs.get(tab);
    if (out === undefined) this.#toTabs.set(tab, (out = new BroadcastChannel(`${this.#name} to ${tab}`)));
    return out;
  }

  #fromTab(from: string, m: TabMessage): void {
    const to = this.#toTab(from);
    this.#hub!.handle(from, (w) => to.postMessage(w), m);
    if (m.t === 'bye') {
      this.#toTabs.delete(from);
      to.close();
    }
  }

  #lead(): Promise<void> {
    this.#hub = new ConnectionHub(this.#create);
    this.#toHub.onmessage = (e: MessageEvent<{ from: string; m: TabMessage }>) => this.#fromTab(e.data.from, e.data.m);
    this.#announce.postMessage({ leader: this.#tab });
    this.#onNewHub(); // this tab's own client attaches to its hub too
    return new Promise<void>((resolve) => (this.#resign = resolve));
  }
}
