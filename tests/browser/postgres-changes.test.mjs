// Database changes in Chromium (issue #16): rows written by psql reach a page through the real stack (Postgres
// logical decoding -> tidewire-server -> the wasm client in the browser). Two pages, served by the server from a
// temporary static dir: a plain-API page (tests/browser/fixtures/postgres-plain.html, no bundler) and a React page
// using usePostgresChanges (fixtures/postgres-react.jsx, bundled here with esbuild as an app's bundler would),
// whose `fetch` is the test answering from Postgres.
//
//   node --test tests/browser/postgres-changes.test.mjs
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { build } from 'esbuild';

import { missingPostgres, startPostgres } from '../node/helpers/postgres.mjs';
import { startServer } from '../node/helpers/server.mjs';
import { waitFor } from '../support/wait.mjs';
import { WASM_FILES } from '../../scripts/wasm-files.mjs';
import { browserSkipReason, launchChromium, repoRoot, watchPage, withFailureScreenshots } from './helpers/browser.mjs';

const skip = browserSkipReason() ?? (missingPostgres() || false);
const TIMEOUT = 30_000;
const dist = join(repoRoot, 'web/dist');

/** The static dir the server serves: the package under tidewire/, the plain page, the bundled React page. */
async function makeSite() {
  const dir = mkdtempSync(join(tmpdir(), 'tw-pg-site-'));
  cpSync(dist, join(dir, 'tidewire'), { recursive: true });
  copyFileSync(join(repoRoot, 'tests/browser/fixtures/postgres-plain.html'), join(dir, 'plain.html'));
  await build({
    entryPoints: [join(repoRoot, 'tests/browser/fixtures/postgres-react.jsx')],
    outfile: join(dir, 'react-app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    alias: { 'tidewire/react': join(dist, 'react/index.js'), tidewire: join(dist, 'index.js') },
    nodePaths: [join(repoRoot, 'node_modules')],
    logLevel: 'warning',
  });
  for (const name of WASM_FILES) copyFileSync(join(dist, name), join(dir, name)); // beside the bundle
  writeFileSync(
    join(dir, 'react.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">' +
      '<title>usePostgresChanges</title></head>' +
      '<body><div id="root"></div><script type="module" src="react-app.js"></script></body></html>',
  );
  return dir;
}

describe('browser: postgres_changes', { skip }, () => {
  let pg;
  let db;
  let server;
  let browser;
  let site;

  before(async () => {
    [pg, site] = await Promise.all([startPostgres(), makeSite()]);
    db = await pg.createDatabase();
    await db.psql('CREATE TABLE todos (id int PRIMARY KEY, title text, done boolean NOT NULL DEFAULT false)');
    server = await startServer({ args: ['--static-dir', site, '--database', db.url, '--changefeed-tables', 'public.todos'] });
    await waitFor(async () => /^tidewire_changefeed_leader 1$/m.test(await (await fetch(`${server.httpUrl}/metrics`)).text()), 10000, 'the feed to lead');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await pg?.stop();
    if (site) rmSync(site, { recursive: true, force: true });
  });

  test('a plain-API page receives rows inserted, updated and deleted by psql, filtered', { timeout: TIMEOUT }, async () => {
    const page = await (await browser.newContext()).newPage();
    const problems = watchPage(page, 'plain.html');
    await withFailureScreenshots([page], 'postgres-plain', async () => {
      const query = new URLSearchParams({ token: server.token('ann'), filter: 'id=lt.100' });
      await page.goto(`${server.httpUrl}/plain.html?${query}`);
      await page.locator('body[data-subscribed="true"]').waitFor({ timeout: 10000 });
      await db.psql(`INSERT INTO todos (id, title) VALUES (1, 'one'), (500, 'filtered out'), (2, 'two')`);
      await db.psql(`UPDATE todos SET title = 'ONE' WHERE id = 1`);
      await db.psql(`DELETE FROM todos WHERE id = 2`);
      await page.locator('#changes li').nth(3).waitFor({ timeout: 10000 });
      assert.deepEqual(await page.locator('#changes li').allTextContents(), [
        'INSERT 1 one number ts',
        'INSERT 2 two number ts',
        'UPDATE 1 ONE number ts',
        'DELETE 2  number ts',
      ]);
      assert.equal(await page.locator('body').getAttribute('data-error'), null);
    });
    assert.deepEqual(problems, []);
  });

  test('usePostgresChanges renders the fetched rows and keeps them current', { timeout: TIMEOUT }, async () => {
    await db.psql(`DELETE FROM todos; INSERT INTO todos (id, title, done) VALUES (10, 'ten', false), (11, 'eleven', true)`);
    const context = await browser.newContext();
    let fetches = 0;
    let releaseFetch;
    const fetchGate = new Promise((resolve) => (releaseFetch = resolve));
    // The app's endpoint: the rows the filter selects, read from Postgres when the page asks (after subscribing).
    await context.exposeFunction('fetchTodos', async () => {
      fetches += 1;
      const rows = JSON.parse(await db.psql(`SELECT coalesce(json_agg(t ORDER BY id), '[]') FROM todos t WHERE NOT done`));
      await fetchGate; // a change committed while the fetch is in flight must not be lost
      return rows;
    });
    const page = await context.newPage();
    const problems = watchPage(page, 'react.html');
    await withFailureScreenshots([page], 'postgres-react', async () => {
      await page.goto(`${server.httpUrl}/react.html?${new URLSearchParams({ token: server.token('ann') })}`);
      await waitFor(() => fetches === 1, 10000, 'the fetch (after the subscription)');
      await db.psql(`INSERT INTO todos (id, title) VALUES (12, 'twelve')`); // after the fetch read: buffered
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await page.locator('#status').textContent(), 'loading');
      releaseFetch();
      await page.locator('#rows[data-ready="true"] li').nth(1).waitFor({ timeout: 10000 });
      assert.deepEqual(await page.locator('#rows li').allTextContents(), ['10:ten', '12:twelve']);
      await db.psql(`UPDATE todos SET title = 'TEN' WHERE id = 10`);
      await db.psql(`INSERT INTO todos (id, title, done) VALUES (13, 'done already', true), (14, 'fourteen', false)`);
      await db.psql(`DELETE FROM todos WHERE id = 12`); // old holds only the key: removed all the same
      await db.psql(`UPDATE todos SET done = true WHERE id = 14`); // out of the filter: leaves the list
      await db.psql(`UPDATE todos SET done = false WHERE id = 11`); // into it: joins
      await waitFor(async () => (await page.locator('#rows li').allTextContents()).join() === '10:TEN,11:eleven', 10000, 'the live changes');
      assert.equal(fetches, 1);
    });
    assert.deepEqual(problems, []);
  });
});
