// For a describe() block of tests against the real server: starts it before the block's tests and stops it after,
// closing first every client made with `client(options)` (createClient with the server's URL and `options`).
//
//   const env = serverFixture(createClient);
//   test('…', async () => {
//     const c = env.client({ token: env.server.token('alice') });
//     …
//   });
import { after, before } from 'node:test';

import { startServer } from './server.mjs';

export function serverFixture(createClient, serverOptions = {}) {
  const env = {
    server: undefined,
    clients: [],
    client(options) {
      const c = createClient({ url: env.server.wsUrl, ...options });
      env.clients.push(c);
      return c;
    },
  };
  before(async () => {
    env.server = await startServer(serverOptions);
  });
  after(async () => {
    for (const c of env.clients) c.close();
    await env.server?.stop();
  });
  return env;
}
