// options.url as a list or a function (issue #15), over the fake engine: which URL each attempt gets, what a
// failing function reports, and the validation. The engine asks (onUrlRequest) before every attempt and owns
// the backoff (tests/native/client/engine_test.cpp: AUrlProvider...); tests/node/client-url-list.test.mjs runs it
// against real servers.
//   node --test tests/unit/url-source.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createClient } from '../../build/web-tsc/client.js';
import { engineConfig } from '../../build/web-tsc/options.js';
import { createFakeModule } from './fake_engine.mjs';
import { fakeEngineEachTest } from './fake_setup.mjs';

const env = fakeEngineEachTest();

async function client(url) {
  const c = env.client({ url });
  await c.ready;
  return { client: c, engine: env.fake.last };
}
const settle = () => new Promise((r) => setImmediate(r));
/** Plays one attempt: the engine asks for the URL; returns what the client answered. */
async function attempt(engine) {
  const before = engine.calls.length;
  engine.urlRequest();
  await settle();
  const answers = engine.calls.slice(before).filter(([m]) => m === 'setUrl' || m === 'urlFailed');
  assert.equal(answers.length, 1, 'exactly one answer per request');
  const [method, value] = answers[0];
  if (method !== 'setUrl') return answers[0];
  // Each URL carries the client's transport policy as a fragment (transport_fallback.ts), never sent.
  assert.match(value, /#tidewire-client-\d+$/);
  return [method, value.replace(/#.*$/, '')];
}

test('a single URL needs no provider; a list or a function makes the engine ask before every attempt', () => {
  const defaults = createFakeModule().WasmClient.defaultConfig();
  const auth = defaults.authMode;
  assert.deepEqual(
    [engineConfig({ url: 'ws://a/ws' }, defaults, auth).url, engineConfig({ url: 'ws://a/ws' }, defaults, auth).urlProvider],
    ['ws://a/ws', false],
  );
  assert.equal(engineConfig({ url: ['ws://a/ws'] }, defaults, auth).urlProvider, true);
  assert.equal(engineConfig({ url: () => 'ws://a/ws' }, defaults, auth).urlProvider, true);
});

test('a list: the next URL after an attempt that never reached connected, a working one kept, wrapping around', async () => {
  const { engine } = await client(['ws://a/ws', 'ws://b/ws', 'ws://c/ws']);
  assert.deepEqual(await attempt(engine), ['setUrl', 'ws://a/ws']);
  engine.setState('reconnecting', 'closed before auth'); // a failed attempt
  assert.deepEqual(await attempt(engine), ['setUrl', 'ws://b/ws']);
  engine.open(); // b works
  engine.setState('reconnecting', 'connection lost');
  assert.deepEqual(await attempt(engine), ['setUrl', 'ws://b/ws'], 'the working URL is kept for the reconnect');
  engine.setState('reconnecting', 'refused');
  assert.deepEqual(await attempt(engine), ['setUrl', 'ws://c/ws']);
  engine.setState('reconnecting', 'refused');
  assert.deepEqual(await attempt(engine), ['setUrl', 'ws://a/ws'], 'wraps around');
});

test('a function is called before every attempt; sync, async, throwing, rejecting and non-URL answers', async () => {
  const answers = [
    () => 'ws://one/ws',
    () => Promise.resolve('wss://two/ws'),
    () => {
      throw new Error('no servers known');
    },
    () => Promise.reject(new TypeError('discovery is down')),
    () => 'http://not-a-socket/',
    () => undefined,
  ];
  let calls = 0;
  const { engine } = await client(() => answers[calls++]());
  assert.deepEqual(await attempt(engine), ['setUrl', 'ws://one/ws']);
  assert.deepEqual(await attempt(engine), ['setUrl', 'wss://two/ws']);
  assert.deepEqual(await attempt(engine), ['urlFailed', 'Error: no servers known']);
  assert.deepEqual(await attempt(engine), ['urlFailed', 'TypeError: discovery is down']);
  const [, notWs] = await attempt(engine);
  assert.match(notWs, /must be a ws:\/\/ or wss:\/\/ URL, got "http:\/\/not-a-socket\/"/);
  const [, nothing] = await attempt(engine);
  assert.match(nothing, /got undefined/);
  assert.equal(calls, 6);
});

test('an answer for a client closed meanwhile is dropped', async () => {
  let resolve;
  const { client: c, engine } = await client(() => new Promise((r) => (resolve = r)));
  engine.urlRequest();
  await settle();
  c.close();
  resolve('ws://late/ws');
  await settle();
  assert.equal(engine.calls.filter(([m]) => m === 'setUrl' || m === 'urlFailed').length, 0);
});

test('validation says what is wrong with options.url', () => {
  assert.throws(() => createClient({ url: [] }), { name: 'TypeError', message: /options\.url is an empty list/ });
  assert.throws(() => createClient({ url: ['ws://a/ws', 'http://b/'] }), {
    name: 'TypeError',
    message: /options\.url\[1\] must be a ws:\/\/ or wss:\/\/ URL, got "http:\/\/b\/" \(options\.url takes a URL, a list of URLs or a function/,
  });
  assert.throws(() => createClient({ url: 42 }), { name: 'TypeError', message: /options\.url must be a ws:\/\/ or wss:\/\/ URL, got 42/ });
  assert.throws(() => createClient({ url: 'ws://bad host/ws' }), { name: 'TypeError', message: /options\.url must be/ });
  for (const url of ['ws://a/ws', ['ws://a/ws', 'wss://b/ws'], () => 'ws://a/ws']) createClient({ url }).close();
});
