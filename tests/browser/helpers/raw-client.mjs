// A protocol-level client on the `ws` package (docs/PROTOCOL.md), independent of the wasm client: what a
// test uses to publish into, or watch, a channel from Node.
//
//   const raw = await connectRaw(server.wsUrl, server.token('node'));
//   await raw.subscribe('room:x');
//   const { offset } = await raw.publish('room:x', 'chat', { text: 'hi' });
//   const msg = await raw.nextChannelMessage((m) => m.event === 'chat');
//   raw.close();
import WebSocket from 'ws';

export async function connectRaw(wsUrl, token, { timeoutMs = 5000 } = {}) {
  const ws = new WebSocket(wsUrl, ['jwt', token]);
  const inbox = []; // messages not yet taken by a waiter
  const waiters = new Set();
  let closed = null;

  const settle = () => {
    for (const w of [...waiters]) {
      const i = inbox.findIndex(w.predicate);
      if (i >= 0) {
        const [msg] = inbox.splice(i, 1);
        waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(msg);
      } else if (closed) {
        waiters.delete(w);
        clearTimeout(w.timer);
        w.reject(new Error(`socket closed (${closed.code} ${closed.reason}) while waiting for ${w.label}`));
      }
    }
  };

  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    for (const line of data.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      inbox.push(JSON.parse(line));
    }
    settle();
  });
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
    settle();
  });

  /** The next received message matching `predicate` (taken out of the inbox). */
  function next(predicate, label = 'a message', ms = timeoutMs) {
    return new Promise((resolve, reject) => {
      const w = { predicate, label, resolve, reject };
      w.timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`timed out after ${ms} ms waiting for ${label}; unclaimed: ${JSON.stringify(inbox)}`));
      }, ms);
      waiters.add(w);
      settle();
    });
  }

  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
  });
  const welcome = await next((m) => m.type === 'auth_success' || m.type === 'error', 'auth_success');
  if (welcome.type !== 'auth_success') throw new Error(`auth failed: ${JSON.stringify(welcome)}`);

  let nextRef = 0;
  const send = (msg) => ws.send(JSON.stringify(msg));

  async function request(msg, okType) {
    const ref = `r${++nextRef}`;
    send({ ...msg, ref });
    const reply = await next((m) => m.ref === ref, `the reply to ${msg.type} ${ref}`);
    if (reply.type !== okType) throw new Error(`${msg.type} failed: ${JSON.stringify(reply)}`);
    return reply;
  }

  return {
    ws,
    welcome,
    send,
    next,
    subscribe: (channel) => request({ type: 'subscribe', channel }, 'subscribed'),
    unsubscribe: (channel) => request({ type: 'unsubscribe', channel }, 'unsubscribed'),
    /** Publishes and resolves with the server's ack `{offset}`. The socket must be subscribed to `channel`. */
    publish: (channel, event, payload) => request({ type: 'channel_message', channel, event, payload }, 'ack'),
    nextChannelMessage: (predicate = () => true, ms = timeoutMs) =>
      next((m) => m.type === 'channel_message' && predicate(m), 'a channel_message', ms),
    close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
    },
  };
}
