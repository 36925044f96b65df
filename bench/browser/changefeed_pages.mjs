// The browser subscribers of the change-feed latency bench (bench/node/changefeed_latency.mjs --browser): headless
// Chromium over a bare CDP pipe (bench/browser/cdp_pipe.mjs, no Playwright), one page per subscriber, each in its
// own browser context, loading the real web package (web/dist) from a small static server on another port and
// subscribing with the public API:
//   client.channel('rows').on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'bench_rows' }, cb)
// The callback takes its receive time (performance.timeOrigin + performance.now(), the machine's wall clock, as
// the Node subscribers do) and keeps receive - sent_at for every row after the warm-up in the page; the bench reads
// them at the end. The page also counts the rows and checks they come once each, in order (id = last + 1).
// Main-thread CPU of the pages (CDP Performance.getMetrics ThreadTime) is reported beside the server's.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve } from 'node:path';

import { repoRoot } from '../../tests/browser/helpers/browser.mjs';
import { launchChromiumPipe } from './cdp_pipe.mjs';

// ?url=&token=&rows=&warmup=[&filter=]. window.ready resolves once subscribed (rejects on a load error);
// bench.reach(n) resolves once row n has arrived; bench.results() returns what the page measured.
const page = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>changefeed bench</title>
<script>window.bench = {}; window.ready = new Promise((r, j) => { bench.ready = r; bench.fail = j; });</script>
<script type="module">
try {
  const q = new URLSearchParams(location.search);
  const ROWS = Number(q.get('rows')), WARMUP = Number(q.get('warmup'));
  const latencies = new Float64Array(ROWS);
  let last = 0, count = 0, bad = 0, measured = 0, error;
  let waiters = [];
  bench.reach = (n) => (last >= n ? Promise.resolve(last) : new Promise((r) => waiters.push([n, r])));
  bench.results = () => ({ count, bad, last, error, latencies: Array.from(latencies.subarray(0, measured)),
    clockGapMs: Date.now() - (performance.timeOrigin + performance.now()) });
  const { createClient, loadModule } = await import('/tidewire/index.js');
  await loadModule();
  const client = createClient({ url: q.get('url'), token: q.get('token') });
  client.onError((e) => (error = e.code));
  const filter = q.get('filter') ?? undefined;
  const channel = client
    .channel('rows')
    .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'bench_rows', filter }, (p) => {
      const t = performance.timeOrigin + performance.now();
      const row = p.new;
      if (row.id !== last + 1) bad += 1;
      last = row.id;
      count += 1;
      if (row.id > WARMUP && measured < ROWS) latencies[measured++] = t - row.sent_at;
      if (waiters.length && waiters.some(([n]) => last >= n)) {
        for (const [n, r] of waiters) if (last >= n) r(last);
        waiters = waiters.filter(([n]) => last < n);
      }
    })
    .subscribe();
  await channel.whenSubscribed();
  bench.ready();
} catch (e) {
  bench.fail(String(e?.stack ?? e));
}
</script>`;

const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };

/** Serves the page at /changefeed.html and the web package under /tidewire/. Resolves to { url, close() }. */
async function serveSite(dist) {
  if (!existsSync(join(dist, 'index.js'))) throw new Error(`no web package at ${dist} (npm run build)`);
  const http = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/changefeed.html') return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    const file = path.startsWith('/tidewire/') ? resolve(dist, path.slice('/tidewire/'.length)) : undefined;
    if (!file || !file.startsWith(dist + '/') || !existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${http.address().port}`, close: () => new Promise((r) => http.close(r)) };
}

/**
 * Opens `count` pages subscribed to public.bench_rows on `server` (the first `filtered` with id=gt.0, which lets
 * every row through). Resolves once every page is subscribed, to the subscriber interface of the bench:
 *   reached(n, 'first' | 'all', timeoutMs)  resolves once row n has reached the first / every page
 *   results()   { latencies (ms, after the warm-up, every page), wrong (missing + duplicate + out of order), ... }
 *   cpuMs()     the pages' main-thread CPU so far (ms, summed)
 *   close()
 */
export async function startBrowserSubscribers({ server, count, filtered = 0, rows, warmupRows,
  dist = join(repoRoot, 'web/dist') }) {
  const site = await serveSite(resolve(dist));
  const cdp = await launchChromiumPipe();
  const tabs = [];
  const evaluate = async (s, expression, timeoutMs = 60_000) => {
    const call = cdp.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, s);
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`page: no answer to ${expression} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const r = await Promise.race([call, timeout]);
      const thrown = r.exceptionDetails;
      if (thrown) throw new Error(`page: ${expression}: ${thrown.exception?.value ?? thrown.text}`);
      return r.result.value;
    } finally {
      clearTimeout(timer);
    }
  };
  const close = async () => {
    for (const t of tabs) await t.close().catch(() => {});
    await cdp.close();
    await site.close();
  };
  try {
    for (let i = 0; i < count; i += 1) {
      const tab = await cdp.newPage();
      tabs.push(tab);
      await cdp.send('Performance.enable', {}, tab.sessionId);
      const token = server.token(`bench-${i}`);
      const query = new URLSearchParams({ url: server.wsUrl, token, rows, warmup: warmupRows });
      if (i < filtered) query.set('filter', 'id=gt.0');
      await cdp.send('Page.navigate', { url: `${site.url}/changefeed.html?${query}` }, tab.sessionId);
    }
    for (const t of tabs) await evaluate(t.sessionId, 'window.ready', 20_000);
  } catch (e) {
    await close();
    throw e;
  }
  return {
    async reached(n, which, timeoutMs) {
      const targets = which === 'first' ? tabs.slice(0, 1) : tabs;
      await Promise.all(targets.map((t) => evaluate(t.sessionId, `bench.reach(${n})`, timeoutMs)));
    },
    async cpuMs() {
      let total = 0;
      for (const t of tabs) {
        const { metrics } = await cdp.send('Performance.getMetrics', {}, t.sessionId);
        total += (metrics.find((m) => m.name === 'ThreadTime')?.value ?? NaN) * 1000;
      }
      return total;
    },
    async results() {
      const latencies = [];
      let wrong = 0;
      const gaps = [];
      const errors = [];
      for (const t of tabs) {
        const r = await evaluate(t.sessionId, 'bench.results()');
        for (const x of r.latencies) latencies.push(x);
        wrong += r.bad + Math.abs(r.count - rows);
        gaps.push(r.clockGapMs);
        if (r.error) errors.push(r.error);
      }
      return { latencies, wrong, clockGapMs: gaps, errors };
    },
    close,
  };
}
