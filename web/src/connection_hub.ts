// The side of a shared connection that holds it (issue #18): one TidewireClient serving the tabs of one origin
// and one user. It runs in the SharedWorker (shared_worker.ts) or, where SharedWorker is missing, in the tab
// elected leader (tab_leader.ts). Each tab's client runs with a remote engine (remote_engine.ts) whose calls
// arrive here: each channel a tab's engine holds is one more reference on this engine's channel, so reference
// counting spans tabs (the last tab leaving a channel unsubscribes it, after the grace period).
//
// Presence on one connection is one server membership (docs/PROTOCOL.md section 10), so the hub counts the tabs
// that joined a channel's presence: every join and update goes to the server (a join on a connection that is a
// member already updates its entry, and its reply brings the members), and only the last tab leaving (by
// presence_leave, or by going away) sends presence_leave.
//
// A tab's end is noticed through the Web Lock it holds while alive (`navigator.locks`, named by its tab id): the
// hub asks for the same lock, which it gets when the tab is gone (closed, crashed, navigated away), and releases
// what the tab held then. The connection counts as visible while any tab is (so hiddenCloseMs closes it only
// once every tab is hidden), and online while any tab is.
import type { createClient, TidewireClient } from './client.js';
import type { TidewireError } from './errors.js';
import type { ClientOptions } from './options.js';
import type { SharedOptions, TabMessage, WorkerMessage } from './shared_messages.js';
import type { SendResult } from './types.js';
import type { TransportName } from './wire.js';

interface Tab {
  post: (message: WorkerMessage) => void;
  visible: boolean;
  online: boolean;
  tokenProvider: boolean;
  /** By the tab's engine channel id: what to undo when the tab releases it. */
  channels: Map<number, { name: string; release: () => void; rebind: (event: string, filter: string) => void }>;
  restorePolicy?: () => void;
}

export class ConnectionHub {
  /** createClient, passed in: this code also runs in a lazily loaded chunk (remote_engine.ts says why). */
  readonly #create: typeof createClient;
  #tabs = new Map<string, Tab>();
  #client: TidewireClient | undefined;
  #tokenRequests = 0;
  #applied = ''; // the union of the tabs' visibility and network last given to the engine
  #tokenWaiters = new Map<number, { resolve: (t: string | null) => void; reject: (e: Error) => void }>();
  /** Channel -> the tabs whose presence joined it (on the current connection). */
  #presence = new Map<string, Set<string>>();
  /** While a tab's message is handled: how to answer that tab (errors the engine raises meanwhile are its). */
  #asking: ((message: WorkerMessage) => void) | undefined;

  constructor(create: typeof createClient) {
    this.#create = create;
  }

  /** A message of tab `tabId`; `post` answers that tab. */
  handle(tabId: string, post: (message: WorkerMessage) => void, data: TabMessage): void {
    this.#asking = post;
    try {
      this.#handle(tabId, post, data);
    } catch (err) {
      // An error the engine reported while handling this (a refused channel name) has reached the tab already.
      if (this.#asking !== undefined) post({ t: 'error', code: 'internal', message: `tidewire shared connection: ${String(err)}` });
    } finally {
      this.#asking = undefined;
    }
  }

  /** Closes the connection (its leader tab moved to another user's). */
  close(): void {
    this.#client?.close();
    this.#client = undefined;
    this.#tabs.clear();
    this.#presence.clear();
  }

  /** Releases what tab `tabId` held. */
  leave(tabId: string): void {
    const tab = this.#tabs.get(tabId);
    if (tab === undefined) return;
    this.#tabs.delete(tabId);
    for (const [channel, tabs] of this.#presence) {
      if (tabs.delete(tabId) && tabs.size === 0) this.#leavePresence(channel);
    }
    for (const ch of tab.channels.values()) ch.release();
    tab.channels.clear();
    tab.restorePolicy?.();
    this.#updatePage();
  }

  #broadcast(message: WorkerMessage): void {
    for (const tab of this.#tabs.values()) tab.post(message);
  }

  #stateOf(c: TidewireClient, from = c.state, reason = 'attached'): WorkerMessage {
    return {
      t: 'state',
      from,
      to: c.state,
      reason,
      userId: c.userId,
      connectionId: c.connectionId,
      metrics: c.getMetrics(),
      graceMs: c.graceMs,
    };
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
      transports: o.transports as TransportName[] | undefined,
      fallbackAfterFailures: o.fallbackAfterFailures,
      upgradeProbeMs: o.upgradeProbeMs,
      shareAcrossTabs: false, // this is the connection the tabs share
    };
    const c = this.#create(options);
    c.onStateChange(({ from, to, reason }) => {
      if (to !== 'connected') this.#presence.clear(); // the server forgot this connection's presence
      this.#broadcast(this.#stateOf(c, from, reason));
    });
    // A channel's errors (the server ended its subscription) go to the tabs holding it, as `revoked`.
    c.onError((e: TidewireError) => {
      if (e.details?.channel !== undefined) return;
      const message: WorkerMessage = { t: 'error', code: e.code, message: e.message };
      // Raised while handling a tab's call (e.g. a channel name the engine refuses): that tab's error alone.
      const asking = this.#asking;
      this.#asking = undefined;
      if (asking !== undefined) asking(message);
      else this.#broadcast(message);
    });
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

  #leavePresence(channel: string): void {
    this.#presence.delete(channel);
    if (this.#client?.isConnected) this.#client.request('presence_leave', { channel }).catch(() => undefined);
  }

  // One channel of a tab's engine: a reference on this engine's channel (with a postgres_changes binding when
  // the tab's has one), and its events relayed to the tab.
  #subscribe(c: TidewireClient, tab: Tab, data: Extract<TabMessage, { t: 'sub' }>): void {
    const { key, channel: name } = data;
    // The stream's epoch, read from the engine once per (re)subscription or gap (a new epoch comes as a gap),
    // on the first message after it: not one call into wasm per message.
    let epoch: string | undefined;
    const relay = (m: Parameters<Parameters<TidewireClient['subscribe']>[1]>[0]): void =>
      tab.post({ t: 'msg', key, m, epoch: (epoch ??= c._epoch(name)) });
    const bind = (event: string, filter: string) => {
      if (event !== '') {
        const l = c._bindChanges(name, { event, filter }, relay);
        c._acquire(name);
        return l;
      }
      c._acquire(name);
      return c._addListener(name, '*', relay, false);
    };
    let listener = bind(data.event, data.filter);
    // Where the tab's previous connection was (a new leader): the first subscribe recovers from there.
    if (data.since !== undefined) c._setPosition(name, data.since.offset, data.since.epoch);
    const offs = [
      c._onSubscribed(name, () => {
        epoch = undefined;
        tab.post({ t: 'subscribed', key });
      }),
      c._addGapListener(name, (gap) => {
        epoch = undefined;
        tab.post({ t: 'gap', key, reason: gap.reason });
      }),
      c._addErrorListener(name, (e) => tab.post({ t: 'revoked', key, code: e.code, message: e.message })),
      c._onPresenceDiff(name, (json) => tab.post({ t: 'presence', key, json })),
    ];
    tab.channels.set(key, {
      name,
      release: () => {
        for (const off of offs) off();
        c._release(name, [listener]);
      },
      rebind: (event, filter) => {
        const old = listener;
        listener = bind(event, filter);
        c._release(name, [old]);
      },
    });
  }

  #request(c: TidewireClient, tabId: string, tab: Tab, data: Extract<TabMessage, { t: 'req' }>): void {
    const body = JSON.parse(data.body) as Record<string, unknown>;
    const channel = typeof body.channel === 'string' ? body.channel : '';
    if (data.type === 'presence_join') {
      let tabs = this.#presence.get(channel);
      if (tabs === undefined) this.#presence.set(channel, (tabs = new Set()));
      tabs.add(tabId);
    } else if (data.type === 'presence_leave') {
      const tabs = this.#presence.get(channel);
      tabs?.delete(tabId);
      if (tabs !== undefined && tabs.size > 0) {
        // Other tabs are still members through this connection: the membership stays.
        tab.post({ t: 'reply', key: data.key, ok: true, data: '{}', code: '', message: '' });
        return;
      }
      this.#presence.delete(channel);
    }
    c.request(data.type, body, { ttlMs: data.ttlMs }).then(
      (result) => tab.post({ t: 'reply', key: data.key, ok: true, data: JSON.stringify(result ?? null), code: '', message: '' }),
      (e: TidewireError) =>
        tab.post({ t: 'reply', key: data.key, ok: false, data: JSON.stringify(e.details ?? null), code: e.code ?? 'internal', message: e.message }),
    );
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
      post(this.#stateOf(c));
      // Once the engine is loaded, its grace period is known (the tab's stores use it).
      if (c.options.graceMs === undefined) void c.ready.then(() => this.#tabs.get(tabId) === tab && post(this.#stateOf(c)), () => undefined);
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
      case 'sub':
        this.#subscribe(c, tab, data);
        return;
      case 'changes':
        tab.channels.get(data.key)?.rebind(data.event, data.filter);
        return;
      case 'unsub':
        tab.channels.get(data.key)?.release();
        tab.channels.delete(data.key);
        return;
      case 'resub': {
        const ch = tab.channels.get(data.key);
        if (ch !== undefined) c._resubscribe(ch.name);
        return;
      }
      case 'send': {
        const ack = (r: SendResult) => tab.post({ t: 'ack', key: data.key, ok: true, offset: r.offset, code: '', message: '', details: '' });
        const nack = (e: TidewireError) =>
          tab.post({ t: 'ack', key: data.key, ok: false, offset: 0, code: e.code ?? 'internal', message: e.message, details: e.details ? JSON.stringify(e.details) : '' });
        const payload = data.bytes ?? JSON.parse(data.json ?? 'null');
        const options = data.id === '' ? { ttlMs: data.ttlMs } : { ttlMs: data.ttlMs, _id: data.id };
        c.send(data.channel, data.event, payload, options).then(ack, nack);
        return;
      }
      case 'req':
        this.#request(c, tabId, tab, data);
        return;
      case 'notify':
        c.notify(data.type, JSON.parse(data.body) as Record<string, unknown>);
        return;
      case 'page':
        tab.visible = data.visible;
        tab.online = data.online;
        this.#updatePage(true);
        return;
      case 'call':
        c[data.name]();
        return;
      case 'policy': {
        tab.restorePolicy?.();
        const v = (n: number) => (n < 0 ? undefined : n);
        tab.restorePolicy = c.setReconnectPolicy({ reconnectBaseMs: v(data.base), reconnectCapMs: v(data.cap), maxReconnectAttempts: v(data.max) });
        return;
      }
      case 'metrics?':
        post(this.#stateOf(c, c.state, 'metrics'));
        return;
      case 'bye':
        this.leave(tabId);
        return;
    }
  }
}
