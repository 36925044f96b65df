// The side of a shared connection that holds it (issue #18): one TidewireClient serving the tabs of one origin
// and one user. It runs in the SharedWorker (shared_worker.ts) or, where SharedWorker is missing, in the tab
// elected leader (tab_leader.ts). Each tab's subscription is one more reference on the engine's channel, so
// the engine's reference counting spans tabs (the last tab leaving a channel unsubscribes it, after the grace
// period).
//
// A tab's end is noticed through the Web Lock it holds while alive (`navigator.locks`, named by its tab id): the
// hub asks for the same lock, which it gets when the tab is gone (closed, crashed, navigated away), and releases
// the tab's subscriptions then. The connection counts as visible while any tab is (so hiddenCloseMs closes it
// only once every tab is hidden), and online while any tab is.
import type { Channel } from './channel.js';
import { createClient, type TidewireClient } from './client.js';
import type { ClientOptions } from './options.js';
import type { SharedOptions, TabMessage, WorkerMessage } from './shared_messages.js';

interface Tab {
  post: (message: WorkerMessage) => void;
  visible: boolean;
  online: boolean;
  tokenProvider: boolean;
  channels: Map<number, Channel>;
}

export class ConnectionHub {
  #tabs = new Map<string, Tab>();
  #client: TidewireClient | undefined;
  #tokenRequests = 0;
  #applied = ''; // the union of the tabs' visibility and network last given to the engine
  #tokenWaiters = new Map<number, { resolve: (t: string | null) => void; reject: (e: Error) => void }>();

  /** A message of tab `tabId`; `post` answers that tab. */
  handle(tabId: string, post: (message: WorkerMessage) => void, data: TabMessage): void {
    try {
      this.#handle(tabId, post, data);
    } catch (err) {
      post({ t: 'error', code: 'internal', message: `tidewire shared connection: ${String(err)}` });
    }
  }

  /** Releases what tab `tabId` held. */
  leave(tabId: string): void {
    const tab = this.#tabs.get(tabId);
    if (tab === undefined) return;
    this.#tabs.delete(tabId);
    for (const ch of tab.channels.values()) ch.unsubscribe();
    tab.channels.clear();
    this.#updatePage();
  }

  #broadcast(message: WorkerMessage): void {
    for (const tab of this.#tabs.values()) tab.post(message);
  }

  // The token provider lives in the tabs: ask the most recently attached one that has one.
  #askToken = (): Promise<string | null> => {
    const asked = [...this.#tabs.values()].reverse().find((t) => t.tokenProvider);
    if (asked === undefined) return Promise.reject(new Error('no tab with a token provider is attached'));
    const req = ++this.#tokenRequests;
    return new Promise((resolve, reject) => {
      this.#tokenWaiters.set(req, { resolve, reject });
      asked.post({ t: 'token?', req });
    });
  };

  #createFor(o: SharedOptions): TidewireClient {
    const options: ClientOptions = {
      ...o.numeric,
      url: o.url,
      authMode: o.authMode,
      debug: o.debug,
      token: o.tokenProvider ? this.#askToken : o.token,
    };
    const c = createClient(options);
    c.onStateChange(({ from, to, reason }) => this.#broadcast({ t: 'state', from, to, reason, userId: c.userId }));
    c.onError((e) => this.#broadcast({ t: 'error', code: e.code, message: e.message, details: e.details }));
    return c;
  }

  // After the current event's other listeners (a timer): in a leader tab the engine also hears that tab's own
  // visibility and network events and applies them to itself; the union of the tabs must have the last word.
  // `force` re-applies an unchanged union (a tab's own event may have just changed the engine's view).
  #updatePage(force = false): void {
    setTimeout(() => {
      if (this.#client === undefined || this.#tabs.size === 0) return;
      let visible = false;
      let online = false;
      for (const t of this.#tabs.values()) {
        visible ||= t.visible;
        online ||= t.online;
      }
      const key = `${visible} ${online}`;
      if (!force && key === this.#applied) return;
      this.#applied = key;
      this.#client._setPage(visible, online);
    }, 0);
  }

  #handle(tabId: string, post: (message: WorkerMessage) => void, data: TabMessage): void {
    if (data.t === 'hello') {
      const known = this.#tabs.has(tabId);
      this.leave(tabId); // a tab saying hello again (to a new leader's hub, or twice) starts afresh
      this.#client ??= this.#createFor(data.options);
      const tab: Tab = { post, visible: data.visible, online: data.online, tokenProvider: data.options.tokenProvider, channels: new Map() };
      this.#tabs.set(tabId, tab);
      this.#updatePage();
      const c = this.#client;
      post({ t: 'state', from: c.state, to: c.state, reason: 'attached', userId: c.userId });
      // Granted once the tab released it: the tab is gone.
      if (!known) void navigator.locks.request(tabId, () => this.leave(tabId));
      return;
    }
    const tab = this.#tabs.get(tabId);
    const c = this.#client;
    if (tab === undefined || c === undefined) return;
    switch (data.t) {
      case 'token': {
        const w = this.#tokenWaiters.get(data.req);
        this.#tokenWaiters.delete(data.req);
        if (w === undefined) return;
        if (data.error !== undefined) w.reject(new Error(data.error));
        else w.resolve(data.token ?? null);
        return;
      }
      case 'sub': {
        const name = data.channel;
        const ch = c.channel(name).subscribe();
        // Where the tab's previous connection was (a new leader): the first subscribe recovers from there.
        if (data.since !== undefined) c._setPosition(name, data.since.offset, data.since.epoch);
        tab.channels.set(data.key, ch);
        // The stream's epoch, read from the engine once per (re)subscription or gap (a new epoch comes as a gap),
        // on the first message after it: not one call into wasm per message.
        let epoch: string | undefined;
        ch.on('*', (m) => tab.post({ t: 'msg', key: data.key, m, epoch: (epoch ??= c._epoch(name)) }));
        ch.onSubscribed(() => {
          epoch = undefined;
          tab.post({ t: 'subscribed', key: data.key });
        });
        ch.onGap((gap) => {
          epoch = undefined;
          tab.post({ t: 'gap', key: data.key, gap });
        });
        return;
      }
      case 'unsub':
        tab.channels.get(data.key)?.unsubscribe();
        tab.channels.delete(data.key);
        return;
      case 'send':
        c.send(data.channel, data.event, data.payload, { ttlMs: data.ttlMs }).then(
          (result) => tab.post({ t: 'ack', key: data.key, result }),
          (e: { code?: string; message?: string }) => tab.post({ t: 'ack', key: data.key, code: e.code ?? 'internal', message: e.message ?? String(e) }),
        );
        return;
      case 'req':
        c.request(data.type, data.body, { ttlMs: data.ttlMs }).then(
          (result) => tab.post({ t: 'reply', key: data.key, ok: true, data: result }),
          (e: { code?: string; message?: string; details?: Record<string, unknown> }) =>
            tab.post({ t: 'reply', key: data.key, ok: false, code: e.code ?? 'internal', message: e.message ?? String(e), details: e.details }),
        );
        return;
      case 'page':
        tab.visible = data.visible;
        tab.online = data.online;
        this.#updatePage(true);
        return;
      case 'bye':
        this.leave(tabId);
        return;
    }
  }
}
