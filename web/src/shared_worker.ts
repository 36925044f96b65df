// The SharedWorker that holds one connection for every tab of one origin and one user (createSharedClient in
// shared_client.ts): a ConnectionHub (connection_hub.ts) whose tabs talk to it over their MessagePorts. Its own
// file, loaded only by tabs that share.
import { createClient } from './client.js';
import { ConnectionHub } from './connection_hub.js';
import type { TabMessage, WorkerMessage } from './shared_messages.js';

interface SharedWorkerScope {
  onconnect: ((event: MessageEvent) => void) | null;
}

const hub = new ConnectionHub(createClient);

(self as unknown as SharedWorkerScope).onconnect = (event: MessageEvent) => {
  const port = event.ports[0];
  const post = (message: WorkerMessage): void => port.postMessage(message);
  let tab: string | undefined; // known from the port's `hello`
  port.onmessage = (e: MessageEvent<TabMessage>) => {
    if (e.data.t === 'hello') tab = e.data.tab;
    if (tab !== undefined) hub.handle(tab, post, e.data);
  };
  port.start();
};
