// A small real HTTP proxy for the transport tests: forwards requests to a target, and can refuse WebSocket
// upgrades (as a proxy that blocks them does) or buffer whole responses (as one that breaks streaming does).
//
//   const proxy = await startProxy(server.port, { blockUpgrades: true, buffer: false });
//   createClient({ url: proxy.wsUrl, ... });   proxy.blockUpgrades = false;   await proxy.close();
import http from 'node:http';
import net from 'node:net';

export async function startProxy(targetPort, { blockUpgrades = false, buffer = false } = {}) {
  const sockets = new Set();
  const state = { blockUpgrades, buffer, upgradesRefused: 0, requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests += 1;
    const upstream = http.request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        if (!state.buffer) {
          res.writeHead(up.statusCode, up.headers);
          up.pipe(res);
          return;
        }
        // Buffering: nothing reaches the client before the whole response is in (an SSE stream never is).
        const chunks = [];
        up.on('data', (c) => chunks.push(c));
        up.on('end', () => {
          const body = Buffer.concat(chunks);
          const headers = { ...up.headers };
          delete headers['transfer-encoding'];
          headers['content-length'] = String(body.length);
          res.writeHead(up.statusCode, headers);
          res.end(body);
        });
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket, head) => {
    if (state.blockUpgrades) {
      state.upgradesRefused += 1;
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const up = net.connect(targetPort, '127.0.0.1', () => {
      let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) raw += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      up.write(raw + '\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    sockets.add(up);
    up.on('close', () => { sockets.delete(up); socket.destroy(); });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
    socket.on('close', () => up.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return Object.assign(state, {
    port,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  });
}
