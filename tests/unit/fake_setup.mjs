// The per-test setup of the tests over the fake engine: a fresh fake module (fake_engine.mjs) installed before
// each test, and every client made through `env.client()` closed after it.
//
//   const env = fakeEngineEachTest();
//   test('...', async () => { const c = env.client(); await c.ready; env.fake.last.open(); ... });
import { afterEach, beforeEach } from 'node:test';

import { createClient } from '../../build/web-tsc/client.js';
import { _useModuleForTests } from '../../build/web-tsc/module.js';
import { createFakeModule } from './fake_engine.mjs';

export function fakeEngineEachTest() {
  const env = {
    fake: undefined,
    clients: [],
    /** A client on the fake module (url ws://fake/ws unless `options` say otherwise), closed after the test. */
    client(options = {}) {
      const c = createClient({ url: 'ws://fake/ws', ...options });
      env.clients.push(c);
      return c;
    },
  };
  beforeEach(() => {
    env.fake = createFakeModule();
    _useModuleForTests(env.fake);
  });
  afterEach(() => {
    for (const c of env.clients) c.close();
    env.clients = [];
    _useModuleForTests(undefined);
  });
  return env;
}
