// The SharedWorker that holds one connection for every tab of one origin and one user (createSharedClient in
// shared_client.ts): it runs the wasm engine through an ordinary TidewireClient, and each tab's subscription is
// one more reference on the engine's channel, so the engine's reference counting spans tabs (the last tab
// leaving a channel unsubscribes it, after the grace period). Its own file, loaded only by tabs that share.
//
// A tab's end is noticed through the Web Lock it holds while alive (`navigator.locks`): the worker asks for the
// same lock, which it gets when the tab is gone (closed, crashed, navigated away), and releases the tab's
// subscriptions then. A SharedWorker has no document: tabs report their visibility and network, and the
// connection counts as visible while any tab is (so hiddenCloseMs closes it only once every tab is hidden).
import type { Channel } from './channel.js';
import { createClient, type TidewireClient } from './client.js';
import type { ClientOptions } from './options.js';
import type { SharedOptions, TabMessage, WorkerMessage } from './shared_messages.js';

interface Tab {
  port: MessagePort;
  visible: boolean;
  online: boolean;
  tokenProvider: boolean;
  channels: Map<number, Channel>;
}

interface SharedWorkerScope {
  onconnect: ((event: MessageEvent) => void) | null;
}

const tabs = new Map<MessagePort, Tab>();
let client: TidewireClient | undefined;
let tokenRequests = 0;
const tokenWaiters = new Map<number, { resolve: (t: string | null) => void; reject: (e: Error) => void }>();

function post(tab: Tab, message: WorkerMessage): void {
  tab.port.postMessage(message);
}

function broadcast(message: WorkerMessage): void {
  for (const tab of tabs.values()) post(tab, message);
}

// The token provider lives in the tabs: ask the most recently attached one that has one.
function askToken(): Promise<string | null> {
  const asked = [...tabs.values()].reverse().find((t) => t.tokenProvider);
  if (asked === undefined) return Promise.reject(new Error('no tab with a token provider is attached'));
  const req = ++tokenRequests;
  return new Promise((resolve, reject) => {
    tokenWaiters.set(req, { resolve, reject });
    post(asked, { t: 'token?', req });
  });
}

function createFor(o: SharedOptions): TidewireClient {
  const options: ClientOptions = {
    ...o.numeric,
    url: o.url,
    authMode: o.authMode,
    debug: o.debug,
    token: o.tokenProvider ? askToken : o.token,
  };
  const c = createClient(options);
  c.onStateChange(({ from, to, reason }) => broadcast({ t: 'state', from, to, reason, userId: c.userId }));
  c.onError((e) => broadcast({ t: 'error', code: e.code, message: e.message, details: e.details }));
  return c;
}

function updatePage(): void {
  if (client === undefined || tabs.size === 0) return;
  let visible = false;
  let online = false;
  for (const t of tabs.values()) {
    visible ||= t.visible;
    online ||= t.online;
  }
  client._setPage(visible, online);
}

function leave(tab: Tab): void {
  if (!tabs.delete(tab.port)) return;
  for (const ch of tab.channels.values()) ch.unsubscribe();
  tab.channels.clear();
  tab.port.close();
  updatePage();
}

function onTabMessage(port: MessagePort, data: TabMessage): void {
  if (data.t === 'hello') {
    client ??= createFor(data.options);
    const tab: Tab = { port, visible: data.visible, online: data.online, tokenProvider: data.options.tokenProvider, channels: new Map() };
    tabs.set(port, tab);
    updatePage();
    const c = client;
    post(tab, { t: 'state', from: c.state, to: c.state, reason: 'attached', userId: c.userId });
    // Granted once the tab released it: the tab is gone.
    void navigator.locks.request(data.tab, () => leave(tab));
    return;
  }
  const tab = tabs.get(port);
  const c = client;
  if (tab === undefined || c === undefined) return;
  switch (data.t) {
    case 'token': {
      const w = tokenWaiters.get(data.req);
      tokenWaiters.delete(data.req);
      if (w === undefined) return;
      if (data.error !== undefined) w.reject(new Error(data.error));
      else w.resolve(data.token ?? null);
      return;
    }
    case 'sub': {
      const ch = c.channel(data.channel).subscribe();
      tab.channels.set(data.key, ch);
      ch.on('*', (m) => post(tab, { t: 'msg', key: data.key, m }));
      ch.onSubscribed(() => post(tab, { t: 'subscribed', key: data.key }));
      ch.onGap((gap) => post(tab, { t: 'gap', key: data.key, gap }));
      return;
    }
    case 'unsub':
      tab.channels.get(data.key)?.unsubscribe();
      tab.channels.delete(data.key);
      return;
    case 'send':
      c.send(data.channel, data.event, data.payload, { ttlMs: data.ttlMs }).then(
        (result) => post(tab, { t: 'ack', key: data.key, result }),
        (e: { code?: string; message?: string }) => post(tab, { t: 'ack', key: data.key, code: e.code ?? 'internal', message: e.message ?? String(e) }),
      );
      return;
    case 'page':
      tab.visible = data.visible;
      tab.online = data.online;
      updatePage();
      return;
    case 'bye':
      leave(tab);
      return;
  }
}

(self as unknown as SharedWorkerScope).onconnect = (event: MessageEvent) => {
  const port = event.ports[0];
  port.onmessage = (e: MessageEvent<TabMessage>) => {
    try {
      onTabMessage(port, e.data);
    } catch (err) {
      port.postMessage({ t: 'error', code: 'internal', message: `tidewire shared worker: ${String(err)}` } satisfies WorkerMessage);
    }
  };
  port.start();
};
