// Real-browser helpers: Debian's Chromium driven by playwright-core (no browser downloads here).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const siteDir = join(repoRoot, 'build/site');
export const resultsDir = join(repoRoot, 'test-results/browser');

export const chromiumPath = process.env.TIDEWIRE_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Why browser tests cannot run here, or undefined when they can (pass to node:test's `skip`). */
export function browserSkipReason() {
  if (!existsSync(chromiumPath)) return `no Chromium at ${chromiumPath} (apt-get install chromium, or set TIDEWIRE_CHROMIUM)`;
  return undefined;
}

/** Launches headless Chromium; playwright gives it a fresh temporary user data dir. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, timeout: 15000 });
}

/**
 * (Re)builds build/site: scripts/assemble-site.mjs (web/demo and web/dist) then scripts/build-demo.mjs (the React
 * demo app bundled into app.js). Both are fast and idempotent.
 */
export function assembleSite() {
  for (const script of ['scripts/assemble-site.mjs', 'scripts/build-demo.mjs']) {
    try {
      execFileSync(process.execPath, [join(repoRoot, script)], { stdio: 'pipe' });
    } catch (e) {
      throw new Error(`${script} failed:\n${e.stderr?.toString() ?? e.message}`);
    }
  }
}

/**
 * Collects what goes wrong in a page: uncaught exceptions, console errors, failed requests.
 * Returns the live array; assert it is empty at the end of a test.
 */
export function watchPage(page, label = 'page') {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`${label}: uncaught ${e.stack ?? e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${label}: console.error: ${m.text()}`);
  });
  page.on('requestfailed', (r) => {
    const failure = r.failure()?.errorText ?? '';
    if (failure === 'net::ERR_ABORTED') return; // navigations and page closes abort pending requests
    problems.push(`${label}: request failed: ${r.url()} ${failure}`);
  });
  return problems;
}

/** Saves a full-page PNG under test-results/browser/ and returns its path. */
export async function screenshot(page, name) {
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, name.endsWith('.png') ? name : `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Runs `fn`; if it throws, saves `<name>-failure.png` of each page first (best effort) and rethrows. */
export async function withFailureScreenshots(pages, name, fn) {
  if (existsSync(resultsDir)) {
    for (const f of readdirSync(resultsDir)) if (f.startsWith(`${name}-failure-`)) rmSync(join(resultsDir, f));
  }
  try {
    return await fn();
  } catch (e) {
    for (const [i, page] of pages.entries()) {
      await screenshot(page, `${name}-failure-${i}`).catch(() => undefined);
    }
    throw e;
  }
}

/**
 * A static dir for `tidewire-server --static-dir`: a copy of build/site/tidewire/ (assembled first) and `pages`
 * ({ 'name.html': html }). The server serves the pages itself, so they load /tidewire/index.js like any app (a
 * page fulfilled by page.route would count as a public address for Chromium's local network access checks,
 * which then block its WebSocket to 127.0.0.1). Remove the dir (rmSync, recursive) when done.
 */
export function pageSite(pages, prefix = 'tidewire-site-') {
  assembleSite();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(siteDir, 'tidewire'), join(dir, 'tidewire'), { recursive: true });
  for (const [name, html] of Object.entries(pages)) writeFileSync(join(dir, name), html);
  return dir;
}

/**
 * Collects a page's uncaught exceptions and console errors into `problems`, except console errors matching
 * `allowed` (what the test causes on purpose: refused connections, aborted fetches).
 */
export function watchPageExcept(page, label, allowed, problems) {
  page.on('pageerror', (e) => problems.push(`${label}: uncaught ${e.stack ?? e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !allowed.test(m.text())) problems.push(`${label}: console.error: ${m.text()}`);
  });
  return problems;
}

/** The two ways tabs share a connection (createSharedClient): a SharedWorker, or leader election without one. */
export const SHARE_MODES = ['SharedWorker', 'leader election'];

/** A browser context in `mode`: for leader election, SharedWorker is removed before any page script runs. */
export async function shareModeContext(browser, mode) {
  const context = await browser.newContext();
  if (mode === 'leader election') await context.addInitScript(() => delete window.SharedWorker);
  return context;
}
