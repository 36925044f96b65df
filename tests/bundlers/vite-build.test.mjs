// The built package through a bundler: a throwaway Vite app imports `createClient` from web/dist, `vite build`
// must emit the .wasm assets (found through `new URL('./tidewire_module.wasm', import.meta.url)` in
// web/src/module.ts and `new URL('./tidewire_state.wasm', …)` in web/src/state_module.ts) and reference them from
// the JS; then the real server serves the output and Chromium loads
// it, connects and receives a message.
//
//   node --test tests/bundlers/vite-build.test.mjs
//
// Needs a built web/dist, build/native/src/server/tidewire-server and /usr/bin/chromium (the browser part is
// skipped without it). The fixture lives in build/vite-fixture/ (recreated on every run).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startServer } from '../node/helpers/server.mjs';
import {
  browserSkipReason,
  launchChromium,
  repoRoot,
  screenshot,
  watchPage,
  withFailureScreenshots,
} from '../browser/helpers/browser.mjs';
import { connectRaw } from '../support/raw-client.mjs';

const distEntry = join(repoRoot, 'web/dist/index.js');
const DIST_WASM = ['tidewire_module', 'tidewire_state'];
const fixtureDir = join(repoRoot, 'build/vite-fixture');
const outDir = join(fixtureDir, 'dist');
const CHANNEL = 'room:vite';

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>tidewire in a Vite app</title><link rel="icon" href="data:,"></head>
<body data-state="idle">
  <p>State: <output id="state">idle</output></p>
  <ul id="messages"></ul>
  <script type="module" src="./main.js"></script>
</body>
</html>
`;

// Imported as a user would (the bare name `tidewire`, aliased to the built package in the Vite config).
const MAIN_JS = `import { createClient } from 'tidewire';

const params = new URLSearchParams(location.search);
const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
const client = createClient({ url: scheme + '//' + location.host + '/ws', token: params.get('token') ?? '' });
client.onStateChange(({ to }) => {
  document.body.dataset.state = to;
  document.getElementById('state').textContent = to;
});
const channel = client.channel(params.get('channel') ?? 'room:vite').subscribe();
channel.on('*', (message) => {
  const li = document.createElement('li');
  li.textContent = JSON.stringify(message.payload);
  document.getElementById('messages').append(li);
});
channel.whenSubscribed().then(() => {
  document.body.dataset.subscribed = 'true';
});
`;

/** Every file under `dir`, relative paths. */
function listFiles(dir, prefix = '') {
  const out = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

describe('bundlers: Vite', () => {
  let files = [];

  before(async () => {
    if (!existsSync(distEntry)) throw new Error(`${distEntry} is missing: build web/dist first (npm run build)`);
    rmSync(fixtureDir, { recursive: true, force: true });
    mkdirSync(fixtureDir, { recursive: true });
    writeFileSync(join(fixtureDir, 'index.html'), INDEX_HTML);
    writeFileSync(join(fixtureDir, 'main.js'), MAIN_JS);
  });

  test('vite build emits the .wasm assets and the JS references them', { timeout: 30000 }, async (t) => {
    const { build } = await import('vite');
    const started = Date.now();
    await build({
      root: fixtureDir,
      configFile: false,
      logLevel: 'warn',
      resolve: { alias: [{ find: /^tidewire$/, replacement: distEntry }] },
      build: { outDir, emptyOutDir: true, reportCompressedSize: false },
    });
    const ms = Date.now() - started;

    files = listFiles(outDir);
    const wasm = files.filter((f) => f.endsWith('.wasm'));
    const js = files.filter((f) => f.endsWith('.js'));
    assert.ok(files.includes('index.html'), `index.html in the output: ${files}`);
    assert.equal(wasm.length, DIST_WASM.length, `one asset per .wasm module in the output: ${files}`);
    assert.ok(js.length >= 1, `a JS chunk in the output: ${files}`);

    // Each asset is a module's bytes, under a hashed name, and the JS points at it by that name.
    const bundle = js.map((f) => readFileSync(join(outDir, f), 'utf8')).join('\n');
    for (const name of DIST_WASM) {
      const wasmFile = wasm.find((f) => new RegExp(`^assets/${name}-[\\w-]+\\.wasm$`).test(f));
      assert.ok(wasmFile, `${name}.wasm emitted: ${files}`);
      const distWasm = join(repoRoot, `web/dist/${name}.wasm`);
      assert.ok(readFileSync(join(outDir, wasmFile)).equals(readFileSync(distWasm)), `the emitted ${name}.wasm is web/dist's`);
      const wasmName = wasmFile.split('/').pop();
      assert.ok(bundle.includes(wasmName), `the JS references ${wasmName}`);
    }
    // Nothing of Node (ws, fs) leaked into the bundle.
    assert.doesNotMatch(bundle, /from\s*["'](ws|fs|node:[a-z]+)["']/, 'no Node imports in the browser bundle');
    t.diagnostic(`vite build: ${ms} ms; output: ${files.join(', ')}`);
  });

  describe('the built app in Chromium, served by the real server', { skip: browserSkipReason() }, () => {
    let server;
    let browser;

    before(async () => {
      assert.ok(existsSync(join(outDir, 'index.html')), 'vite build must have run first');
      server = await startServer({ args: ['--static-dir', outDir] });
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close().catch(() => undefined);
      await server?.stop();
    });

    test('the bundled module loads, connects and receives a message', { timeout: 30000 }, async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const problems = watchPage(page, 'vite app');
      const wasmRequests = [];
      page.on('response', (r) => {
        if (r.url().endsWith('.wasm')) wasmRequests.push(`${r.status()} ${r.headers()['content-type']}`);
      });
      let raw;
      try {
        await withFailureScreenshots([page], 'vite-app', async () => {
          const query = new URLSearchParams({ token: server.token('vite-user'), channel: CHANNEL });
          const response = await page.goto(`${server.httpUrl}/index.html?${query}`);
          assert.equal(response.status(), 200);
          await page.locator('body[data-state="connected"][data-subscribed="true"]').waitFor({ timeout: 10000 });
          assert.deepEqual(wasmRequests, ['200 application/wasm'], 'the hashed wasm asset was fetched once');

          raw = await connectRaw(server.wsUrl, server.token('node-publisher'));
          await raw.subscribe(CHANNEL);
          await raw.publish(CHANNEL, 'chat', { text: 'through vite' });
          const item = page.locator('#messages li').first();
          await item.waitFor({ timeout: 10000 });
          assert.deepEqual(JSON.parse(await item.textContent()), { text: 'through vite' });
          await screenshot(page, 'vite-app');
        });
        assert.deepEqual(problems, [], 'the page reported errors');
      } finally {
        raw?.close();
        await context.close();
      }
    });
  });
});
