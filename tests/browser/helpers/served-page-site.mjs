// For a describe() block (or a whole file) of browser tests on test pages the real server serves: before the
// tests, writes a page site (pageSite: build/site's tidewire/ plus `pages`), starts tidewire-server on it with
// the development token endpoint and launches headless Chromium; after them, closes the browser, stops the
// server and removes the site.
//
//   const site = servedPageSite({ 'x.html': PAGE }, { prefix: 'tidewire-x-site-' });
//   test('…', async () => {
//     const page = await (await site.browser.newContext()).newPage();
//     await page.goto(`${site.server.httpUrl}/x.html`);
//   });
import { rmSync } from 'node:fs';
import { after, before } from 'node:test';

import { startServer } from '../../node/helpers/server.mjs';
import { browserSkipReason, launchChromium, pageSite } from './browser.mjs';

/**
 * pages: { 'name.html': html }. options.prefix: the temporary dir's name prefix; options.serverArgs: flags added
 * after `--static-dir <site> --dev-tokens`; options.prepare(dir): changes the site (synchronously) before the
 * server starts. Returns { dir, server, browser }, set once the `before` hook has run. Nothing starts where
 * browser tests cannot run (browserSkipReason()).
 */
export function servedPageSite(pages, { prefix, serverArgs = [], prepare } = {}) {
  const site = { dir: undefined, server: undefined, browser: undefined };
  before(async () => {
    if (browserSkipReason()) return;
    site.dir = pageSite(pages, prefix);
    prepare?.(site.dir);
    site.server = await startServer({ args: ['--static-dir', site.dir, '--dev-tokens', ...serverArgs] });
    site.browser = await launchChromium();
  });
  after(async () => {
    await site.browser?.close().catch(() => undefined);
    await site.server?.stop();
    if (site.dir) rmSync(site.dir, { recursive: true, force: true });
  });
  return site;
}
