// The package's own WebSocket for Node 20 (web/src/node_websocket.ts), against a real `ws` server for what a
// correct server does, and against raw TCP servers for what a broken or hostile one does.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';

import { WebSocketServer } from 'ws';

import { NodeWebSocket, encodeFrame, isValidCloseCode, sha1Base64 } from '../../web/dist/node_websocket.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

async function wsServer(options = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  return { wss, url: `ws://127.0.0.1:${wss.address().port}/path?q=1`, close: () => new Promise((r) => wss.close(r)) };
}

/** A TCP server that answers the upgrade with `respond(key)` and then runs `then(socket)`. */
async function rawServer(respond, then = () => {}) {
  const server = createServer((socket) => {
    let head = '';
    const onData = (d) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      const key = /Sec-WebSocket-Key: (\S+)/i.exec(head)[1];
      socket.write(respond(key));
      then(socket);
    };
    socket.on('data', onData);
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `ws://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

const accept = (key) => createHash('sha1').update(key + GUID).digest('base64');
const upgrade = (key, extra = '') =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n${extra}\r\n`;

/** A server frame (unmasked unless `mask` is given). */
function frame(opcode, payload, { fin = true, mask, rsv = 0 } = {}) {
  const body = Buffer.from(payload);
  const n = body.length;
  const head = n < 126 ? [(fin ? 0x80 : 0) | rsv | opcode, n] : [(fin ? 0x80 : 0) | rsv | opcode, 126, n >> 8, n & 0xff];
  if (mask) {
    head[1] |= 0x80;
    for (let i = 0; i < n; i += 1) body[i] ^= mask[i & 3];
    return Buffer.concat([Buffer.from(head), Buffer.from(mask), body]);
  }
  return Buffer.concat([Buffer.from(head), body]);
}

/** Resolves with the socket's events until it closes. */
function record(socket) {
  const events = [];
  socket.binaryType = 'arraybuffer';
  socket.onopen = () => events.push({ type: 'open' });
  socket.onerror = () => events.push({ type: 'error' });
  socket.onmessage = (e) => events.push({ type: 'message', data: e.data });
  const closed = new Promise((resolve) => {
    socket.onclose = (e) => {
      events.push({ type: 'close', code: e.code, reason: e.reason, wasClean: e.wasClean });
      resolve(events);
    };
  });
  return { events, closed };
}

/** Reads client frames off a raw server socket: unmasks them. */
function clientFrames(socket) {
  const frames = [];
  let buf = Buffer.alloc(0);
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 6) {
      let n = buf[1] & 0x7f;
      let at = 2;
      if (n === 126) {
        n = buf.readUInt16BE(2);
        at = 4;
      }
      if (buf.length < at + 4 + n) break;
      const mask = buf.subarray(at, at + 4);
      const body = Buffer.from(buf.subarray(at + 4, at + 4 + n));
      for (let i = 0; i < n; i += 1) body[i] ^= mask[i & 3];
      frames.push({ opcode: buf[0] & 0x0f, masked: (buf[1] & 0x80) !== 0, body });
      buf = buf.subarray(at + 4 + n);
    }
  });
  return frames;
}

test('talks to a ws server: subprotocol, text, binary, unicode, 16- and 64-bit lengths, path and query', async () => {
  const s = await wsServer({ handleProtocols: (p) => (p.has('jwt') ? 'jwt' : false) });
  let request;
  s.wss.on('connection', (ws, req) => {
    request = req;
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })); // echo
  });
  const socket = new NodeWebSocket(s.url, ['jwt', 'token.part']);
  const { events, closed } = record(socket);
  assert.equal(socket.readyState, NodeWebSocket.CONNECTING);
  assert.throws(() => socket.send('early'), { name: 'InvalidStateError' });
  await new Promise((r) => (socket.onopen = r));
  assert.equal(socket.protocol, 'jwt');
  assert.equal(request.url, '/path?q=1');
  assert.equal(request.headers['sec-websocket-protocol'], 'jwt, token.part');

  const big = 'x'.repeat(70_000);
  const medium = new Uint8Array(300).map((_, i) => i & 0xff);
  socket.send('héllo ✓ 🌊');
  socket.send(medium);
  socket.send(medium.buffer);
  socket.send(new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 4)); // a view: only its bytes are sent
  socket.send(big);
  while (events.filter((e) => e.type === 'message').length < 5) await new Promise((r) => setTimeout(r, 5));
  const messages = events.filter((e) => e.type === 'message').map((e) => e.data);
  assert.equal(messages[0], 'héllo ✓ 🌊');
  assert.deepEqual([...messages[1]], [...medium]);
  assert.deepEqual([...messages[2]], [...medium]);
  assert.deepEqual([...messages[3]], [8, 7, 6]);
  assert.equal(messages[4], big);

  socket.close(1000, 'done');
  assert.equal(socket.readyState, NodeWebSocket.CLOSING);
  socket.send('after close'); // dropped, as browsers do
  const all = await closed;
  assert.deepEqual(all.at(-1), { type: 'close', code: 1000, reason: 'done', wasClean: true });
  assert.ok(!all.some((e) => e.type === 'error'));
  assert.equal(socket.readyState, NodeWebSocket.CLOSED);
  await s.close();
});

test('reassembles fragmented messages, answers pings in between, and reports the server close code', async () => {
  const s = await wsServer();
  let pong;
  s.wss.on('connection', (ws) => {
    pong = new Promise((r) => ws.once('pong', (data) => r(String(data))));
    ws.send('frag', { fin: false });
    ws.ping('are you there');
    ws.send('ment', { fin: false });
    ws.send('ed', { fin: true });
    ws.send(Buffer.from([1, 2]), { binary: true, fin: false });
    ws.send(Buffer.from([3]), { binary: true, fin: true });
    setTimeout(() => ws.close(4001, 'nope'), 20);
  });
  const socket = new NodeWebSocket(s.url);
  const { closed } = record(socket);
  const events = await closed;
  assert.equal(await pong, 'are you there');
  assert.deepEqual(
    events.map((e) => (e.type === 'message' ? (typeof e.data === 'string' ? e.data : [...e.data]) : e.type)),
    ['open', 'fragmented', [1, 2, 3], 'close'],
  );
  assert.deepEqual(events.at(-1), { type: 'close', code: 4001, reason: 'nope', wasClean: true });
  await s.close();
});

test('frames split across reads byte by byte are parsed', async () => {
  const bytes = Buffer.concat([frame(1, 'one'), frame(2, Buffer.alloc(200, 7)), frame(1, 'two')]);
  const s = await rawServer(upgrade, async (socket) => {
    for (const b of bytes) {
      socket.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    socket.end(frame(8, Buffer.from([0x03, 0xe8])));
  });
  const socket = new NodeWebSocket(s.url);
  const { closed } = record(socket);
  const events = await closed;
  const messages = events.filter((e) => e.type === 'message').map((e) => (typeof e.data === 'string' ? e.data : e.data.length));
  assert.deepEqual(messages, ['one', 200, 'two']);
  assert.deepEqual(events.at(-1), { type: 'close', code: 1000, reason: '', wasClean: true });
  await s.close();
});

test('a message of several MB arrives whole through many reads', async () => {
  const s = await wsServer();
  const big = Buffer.alloc(3 * 1024 * 1024 + 7).map((_, i) => (i * 31) & 0xff);
  s.wss.on('connection', (ws) => {
    ws.send(big, { binary: true });
    ws.send('after');
  });
  const socket = new NodeWebSocket(s.url);
  const messages = [];
  socket.onmessage = (e) => {
    messages.push(e.data);
    if (messages.length === 2) socket.close(1000);
  };
  await new Promise((r) => (socket.onclose = r));
  assert.equal(messages[0].length, big.length);
  assert.ok(Buffer.from(messages[0]).equals(big));
  assert.equal(messages[1], 'after');
  await s.close();
});

test('a refused or wrong handshake fails with 1006 and says why', async (t) => {
  const cases = [
    ['HTTP status', () => 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n', /HTTP 503/],
    ['accept key', (key) => upgrade(key).replace(accept(key), 'AAAA'), /wrong Sec-WebSocket-Accept/],
    ['subprotocol', (key) => upgrade(key, 'Sec-WebSocket-Protocol: other\r\n'), /subprotocol "other"/],
    ['extension', (key) => upgrade(key, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'), /extension/],
    ['not HTTP', () => 'SSH-2.0-OpenSSH\r\n\r\n', /did not answer with HTTP/],
    ['oversized', () => `HTTP/1.1 101 OK\r\nX: ${'y'.repeat(20_000)}`, /oversized/],
  ];
  for (const [name, respond, reason] of cases) {
    await t.test(name, async () => {
      const s = await rawServer(respond);
      const socket = new NodeWebSocket(s.url, name === 'subprotocol' ? ['jwt'] : undefined);
      const events = await record(socket).closed;
      assert.deepEqual(events.map((e) => e.type), ['error', 'close']);
      assert.equal(events[1].code, 1006);
      assert.equal(events[1].wasClean, false);
      assert.match(events[1].reason, reason);
      await s.close();
    });
  }
  await t.test('no subprotocol chosen when one was offered', async () => {
    const s = await rawServer((key) => upgrade(key));
    const events = await record(new NodeWebSocket(s.url, ['jwt'])).closed;
    assert.match(events.at(-1).reason, /none of the offered subprotocols/);
    await s.close();
  });
});

test('an upgrade refused with HTTP 401 closes with 4001 (auth_failed) and no error event', async () => {
  const s = await rawServer(() => 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
  const events = await record(new NodeWebSocket(s.url, ['jwt', 'bad-token'])).closed;
  assert.deepEqual(events.map((e) => e.type), ['close']);
  assert.equal(events[0].code, 4001);
  assert.equal(events[0].wasClean, false);
  assert.match(events[0].reason, /HTTP 401/);
  await s.close();
});

test('protocol errors from the server: the client sends the matching close code and reports 1006', async (t) => {
  const cases = [
    ['masked frame', frame(1, 'hi', { mask: [1, 2, 3, 4] }), 1002, /masked/],
    ['reserved bits', frame(1, 'hi', { rsv: 0x40 }), 1002, /reserved/],
    ['unknown opcode', frame(3, 'hi'), 1002, /opcode 3/],
    ['bad UTF-8', frame(1, Buffer.from([0xc3, 0x28])), 1007, /UTF-8/],
    ['stray continuation', frame(0, 'hi'), 1002, /continuation/],
    ['fragmented ping', frame(9, 'hi', { fin: false }), 1002, /control frame/],
    ['new message inside a fragmented one', Buffer.concat([frame(1, 'a', { fin: false }), frame(1, 'b')]), 1002, /inside/],
    ['invalid close code', frame(8, Buffer.from([0x03, 0xed])), 1002, /close code 1005/],
    ['1-byte close', frame(8, Buffer.from([0x03])), 1002, /1-byte/],
    ['oversized', Buffer.from([0x82, 127, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]), 1009, /larger than/],
  ];
  for (const [name, bytes, code, reason] of cases) {
    await t.test(name, async () => {
      let frames;
      const s = await rawServer(upgrade, (socket) => {
        frames = clientFrames(socket);
        socket.write(bytes);
        socket.on('end', () => socket.end());
      });
      const events = await record(new NodeWebSocket(s.url)).closed;
      assert.deepEqual(events.map((e) => e.type), ['open', 'error', 'close']);
      assert.equal(events[2].code, 1006);
      assert.match(events[2].reason, reason);
      const close = frames.find((f) => f.opcode === 8);
      assert.ok(close?.masked, 'the client sent a masked close frame');
      assert.equal(close.body.readUInt16BE(0), code);
      await s.close();
    });
  }
});

test('the server dropping TCP, or nothing listening, is an unclean 1006 close with an error first', async () => {
  const s = await rawServer(upgrade, (socket) => setTimeout(() => socket.destroy(), 10));
  const events = await record(new NodeWebSocket(s.url)).closed;
  assert.deepEqual(events.map((e) => e.type), ['open', 'error', 'close']);
  assert.equal(events[2].code, 1006);
  assert.equal(events[2].wasClean, false);
  await s.close();

  const refused = await record(new NodeWebSocket(s.url)).closed; // the port is closed now
  assert.deepEqual(refused.map((e) => e.type), ['error', 'close']);
  assert.match(refused[1].reason, /ECONNREFUSED/);
});

test('close() validates like a browser and may abort a connection attempt', async () => {
  const s = await wsServer();
  const socket = new NodeWebSocket(s.url);
  assert.throws(() => socket.close(1001), { name: 'InvalidAccessError' });
  assert.throws(() => socket.close(1000, 'é'.repeat(62)), { name: 'SyntaxError' });
  const { closed } = record(socket);
  socket.close();
  const events = await closed;
  assert.deepEqual(events.map((e) => e.type), ['error', 'close']);
  assert.equal(events[1].code, 1006);
  assert.throws(() => new NodeWebSocket('http://127.0.0.1:1/x', ['a b']), { name: 'SyntaxError' });
  assert.throws(() => new NodeWebSocket('ftp://127.0.0.1/'), { name: 'SyntaxError' });
  assert.throws(() => new NodeWebSocket(s.url, ['a', 'a']), { name: 'SyntaxError' });
  await s.close();
});

test('close() without a code sends an empty close frame; the server echo closes cleanly with 1005', async () => {
  const s = await wsServer();
  const codes = [];
  s.wss.on('connection', (ws) => ws.on('close', (code) => codes.push(code)));
  const socket = new NodeWebSocket(s.url);
  const { closed } = record(socket);
  await new Promise((r) => (socket.onopen = r));
  socket.close();
  const events = await closed;
  assert.deepEqual(events.at(-1), { type: 'close', code: 1005, reason: '', wasClean: true });
  assert.deepEqual(codes, [1005]);
  await s.close();
});

test('an exception in a handler is reported without stopping the socket', async () => {
  const s = await wsServer();
  s.wss.on('connection', (ws) => {
    ws.send('first');
    ws.send('second');
  });
  const uncaught = [];
  const listeners = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', (e) => uncaught.push(e.message));
  try {
    const socket = new NodeWebSocket(s.url);
    const seen = [];
    socket.onmessage = (e) => {
      seen.push(e.data);
      if (e.data === 'first') throw new Error('handler bug');
      socket.close(1000);
    };
    await new Promise((r) => (socket.onclose = r));
    assert.deepEqual(seen, ['first', 'second']);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(uncaught, ['handler bug']);
  } finally {
    process.removeAllListeners('uncaughtException');
    for (const l of listeners) process.on('uncaughtException', l);
    await s.close();
  }
});

test('frames are masked with the given key and carry 7-, 16- and 64-bit lengths', () => {
  for (const n of [0, 5, 125, 126, 65_535, 65_536]) {
    const payload = new Uint8Array(n).map((_, i) => (i * 7) & 0xff);
    const f = encodeFrame(2, payload, 0x01020304);
    const head = n < 126 ? 2 : n < 65_536 ? 4 : 10;
    assert.equal(f.length, head + 4 + n);
    assert.equal(f[0], 0x82);
    assert.equal(f[1] & 0x80, 0x80);
    const len = n < 126 ? f[1] & 0x7f : n < 65_536 ? (f[2] << 8) | f[3] : Buffer.from(f).readUInt32BE(6);
    assert.equal(len, n);
    const mask = f.subarray(head, head + 4);
    assert.deepEqual([...mask], [1, 2, 3, 4]);
    const body = f.subarray(head + 4).map((b, i) => b ^ mask[i & 3]);
    assert.deepEqual(body, payload);
  }
  assert.ok(isValidCloseCode(1000) && isValidCloseCode(1011) && isValidCloseCode(4999));
  assert.ok(!isValidCloseCode(1005) && !isValidCloseCode(1006) && !isValidCloseCode(999) && !isValidCloseCode(5000));
});

test('in Node 20 the module uses this socket and leaves globalThis.WebSocket alone', async () => {
  const { loadModule } = await import('../../web/dist/index.js');
  const module = await loadModule();
  if (typeof globalThis.WebSocket === 'function') return; // Node 22+: the global is used, nothing to check
  assert.equal(module.WebSocket, NodeWebSocket);
  assert.equal(globalThis.WebSocket, undefined);
});

test('the handshake SHA-1 matches crypto.createHash for every padding case and UTF-8', () => {
  const inputs = ['', 'abc', 'dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11', 'é✓🌊'];
  for (let n = 50; n <= 130; n += 1) inputs.push('x'.repeat(n)); // 55/56/63/64/119/120 bytes: every block boundary
  for (const text of inputs) assert.equal(sha1Base64(text), createHash('sha1').update(text).digest('base64'), `"${text}"`);
  // RFC 6455 section 1.3's example
  assert.equal(sha1Base64('dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11'), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('wss:// checks the server certificate: refused when untrusted, connects when trusted', async () => {
  // A self-signed test certificate for 127.0.0.1, valid until 2126, made with:
  //   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout localhost-key.pem \
  //     -out localhost-cert.pem -days 36500 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1
  const certUrl = new URL('./fixtures/localhost-cert.pem', import.meta.url);
  const server = createHttpsServer({ key: readFileSync(new URL('./fixtures/localhost-key.pem', import.meta.url)), cert: readFileSync(certUrl) });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.send('over tls'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `wss://127.0.0.1:${server.address().port}/`;
  try {
    const refused = await record(new NodeWebSocket(url)).closed;
    assert.deepEqual(refused.map((e) => e.type), ['error', 'close']);
    assert.equal(refused[1].code, 1006);
    assert.match(refused[1].reason, /self[- ]signed|certificate/i);

    // Trusted (NODE_EXTRA_CA_CERTS is read at process start, hence a child process).
    const script =
      `import { NodeWebSocket } from ${JSON.stringify(new URL('../../web/dist/node_websocket.js', import.meta.url).href)};` +
      `const s = new NodeWebSocket(${JSON.stringify(url)});` +
      "s.onmessage = (e) => { console.log('message', e.data); s.close(1000); };" +
      "s.onclose = (e) => console.log('close', e.code, e.wasClean);";
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: fileURLToPath(certUrl) },
      timeout: 20_000,
    });
    assert.equal(stdout.trim(), 'message over tls\nclose 1000 true');
  } finally {
    await new Promise((r) => wss.close(r));
    server.close();
  }
});
