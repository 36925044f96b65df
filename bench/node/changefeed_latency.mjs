// Database change feed (issue #16): insert → subscriber latency and the server's CPU per change.
//
//   node bench/node/changefeed_latency.mjs [--rate 1000] [--seconds 10] [--warmup 1] [--subscribers 10]
//        [--filtered 0] [--history-store sqlite|memory] [--browser] [--out FILE]
//
// A real Postgres (tests/node/helpers/postgres.mjs: initdb in a temp dir, wal_level=logical; fsync off as in the
// tests, but synchronous_commit on: with it off the WAL writer flushes every 200 ms and the walsender only sends
// flushed WAL, which would be the figure) and a real tidewire-server with --database and --changefeed-tables.
// The rows are written by Postgres itself: one CALL of a PL/pgSQL procedure inserts `rate` rows per second, one
// transaction each, paced on clock_timestamp(), each row carrying its insert time (sent_at, ms since the epoch,
// read right before the INSERT). --subscribers raw WebSocket clients (tests/support/raw-client.mjs) subscribe to
// db:public.bench_rows; the first --filtered of them with a filter (id=gt.0, which lets every row through, so they
// pay the per-subscriber filter and still count every row). Latency = receive time (performance.timeOrigin +
// performance.now(), the wall clock Postgres's clock_timestamp() also reads, on one machine) - sent_at, for
// every row after the warm-up, at every subscriber. Every subscriber must get every row once, in order.
// --browser: the subscribers are headless Chromium pages instead (default 1) running the real web package with
// client.channel('rows').on('postgres_changes', { event: 'INSERT', ... }) (bench/browser/changefeed_pages.mjs,
// Chromium over a bare CDP pipe); the receive time is taken in the callback, and the pages' main-thread CPU per
// change is reported too.
//
// CPU: the server's utime + stime from /proc/<pid>/stat over the measured window, divided by the rows inserted in
// it (per change, whatever the number of subscribers), and the machine's busy share (/proc/stat) to tell a busy
// host. Prints a summary and a JSON line; writes the JSON to test-results/bench/changefeed_latency[_browser].json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';

import { startPostgres } from '../../tests/node/helpers/postgres.mjs';
import { startServer } from '../../tests/node/helpers/server.mjs';
import { connectAuthed } from '../../tests/support/raw-client.mjs';
import { waitFor } from '../../tests/support/wait.mjs';
import { startBrowserSubscribers } from '../browser/changefeed_pages.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const { values: opts } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    subscribers: { type: 'string' }, // default 10, or 1 page with --browser
    browser: { type: 'boolean', default: false },
    filtered: { type: 'string', default: '0' },
    'history-store': { type: 'string', default: 'sqlite' },
    out: { type: 'string' },
  },
});
const RATE = Number(opts.rate);
const SECONDS = Number(opts.seconds);
const WARMUP = Number(opts.warmup);
const BROWSER = opts.browser;
const SUBSCRIBERS = Number(opts.subscribers ?? (BROWSER ? 1 : 10));
const FILTERED = Math.min(Number(opts.filtered), SUBSCRIBERS);
const OUT = opts.out ?? join(root, `test-results/bench/changefeed_latency${BROWSER ? '_browser' : ''}.json`);
const ROWS = Math.round(RATE * (SECONDS + WARMUP));
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const procCpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS; // utime + stime
};
const machineCpu = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
};
const now = () => performance.timeOrigin + performance.now();
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

// The raw WebSocket subscribers, with the interface of bench/browser/changefeed_pages.mjs's pages.
async function startNodeSubscribers({ server, count, filtered, rows, warmupRows }) {
  const latencies = [];
  const stats = [];
  const clients = [];
  const close = async () => {
    for (const c of clients) await c.close();
  };
  try {
    for (let i = 0; i < count; i++) {
      const c = await connectAuthed(server, `bench-${i}`);
      clients.push(c);
      const changes = i < filtered ? { filter: 'id=gt.0' } : undefined;
      const reply = await c.request({ type: 'subscribe', channel: 'db:public.bench_rows',
        ...(changes ? { changes } : {}) });
      if (reply.type !== 'subscribed') throw new Error(`subscribe failed: ${JSON.stringify(reply)}`);
      const s = { last: 0, count: 0, bad: 0 };
      stats.push(s);
      c.ws.on('message', () => {
        const t = now();
        for (const m of c.inbox.splice(0)) {
          if (m.type !== 'channel_message') continue;
          const row = m.payload.new;
          if (row.id !== s.last + 1) s.bad += 1;
          s.last = row.id;
          s.count += 1;
          if (row.id > warmupRows) latencies.push(t - row.sent_at);
        }
      });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    reached: (n, which, timeoutMs) => waitFor(
      () => (which === 'first' ? stats.slice(0, 1) : stats).every((s) => s.last >= n), timeoutMs,
      which === 'first' ? 'the warm-up' : 'every row at every subscriber', 5),
    cpuMs: async () => 0, // in this process: not measured
    results: async () => ({ latencies, wrong: stats.reduce((a, s) => a + s.bad + Math.abs(s.count - rows), 0) }),
    close,
  };
}

const pg = await startPostgres({ settings: { synchronous_commit: 'on' } });
const dataDir = mkdtempSync(join(tmpdir(), 'tw-cf-bench-'));
let server;
let subscribers;
try {
  const db = await pg.createDatabase();
  await db.psql(`
    CREATE TABLE bench_rows (id int PRIMARY KEY, user_id text NOT NULL, title text NOT NULL, done boolean NOT NULL,
                             sent_at double precision NOT NULL);
    CREATE PROCEDURE bench_fill(n int, rate int) LANGUAGE plpgsql AS $$
    DECLARE
      t0 double precision := extract(epoch FROM clock_timestamp());
      wait double precision;
    BEGIN
      FOR i IN 1..n LOOP
        wait := t0 + i::double precision / rate - extract(epoch FROM clock_timestamp());
        IF wait > 0 THEN PERFORM pg_sleep(wait); END IF;
        INSERT INTO bench_rows VALUES (i, 'user-' || (i % 100), 'a row written at a steady rate', i % 2 = 0,
                                       extract(epoch FROM clock_timestamp()) * 1000);
        COMMIT;
      END LOOP;
    END $$;`);
  server = await startServer({
    args: ['--data-dir', dataDir, '--history-store', opts['history-store'], '--database', db.url,
      '--changefeed-tables', 'public.bench_rows', '--log-level', 'warn'],
  });
  const metrics = async () => (await fetch(`${server.httpUrl}/metrics`)).text();
  await waitFor(async () => /^tidewire_changefeed_leader 1$/m.test(await metrics()), 15000, 'the feed leads');

  const warmupRows = Math.round(RATE * WARMUP);
  subscribers = BROWSER
    ? await startBrowserSubscribers({ server, count: SUBSCRIBERS, filtered: FILTERED, rows: ROWS, warmupRows })
    : await startNodeSubscribers({ server, count: SUBSCRIBERS, filtered: FILTERED, rows: ROWS, warmupRows });

  const pid = server.process.pid;
  const filling = db.psql(`CALL bench_fill(${ROWS}, ${RATE})`);
  const t0 = Date.now();
  await subscribers.reached(warmupRows, 'first', 30000);
  const cpu0 = procCpuMs(pid);
  const m0 = machineCpu();
  const c0 = await subscribers.cpuMs();
  const w0 = now();
  await filling;
  await subscribers.reached(ROWS, 'all', 60000);
  const cpu1 = procCpuMs(pid);
  const m1 = machineCpu();
  const window = (now() - w0) / 1000;
  const c1 = await subscribers.cpuMs();
  const { latencies, wrong, ...extra } = await subscribers.results();
  const measuredRows = ROWS - warmupRows;
  const achievedRate = ROWS / ((Date.now() - t0) / 1000);
  latencies.sort((a, b) => a - b);
  const result = {
    subscriber: BROWSER ? 'chromium' : 'node',
    rate: RATE,
    achievedRate: Math.round(achievedRate),
    seconds: SECONDS,
    subscribers: SUBSCRIBERS,
    filtered: FILTERED,
    historyStore: opts['history-store'],
    rows: ROWS,
    p50ms: pct(latencies, 50),
    p90ms: pct(latencies, 90),
    p99ms: pct(latencies, 99),
    maxms: latencies.at(-1),
    serverCpuUsPerChange: ((cpu1 - cpu0) * 1000) / measuredRows,
    serverCpuShare: (cpu1 - cpu0) / 1000 / window,
    machineBusy: (m1.busy - m0.busy) / (m1.total - m0.total),
    cores: cpus().length,
    outOfOrderOrMissing: wrong,
    ...(BROWSER ? { pageCpuUsPerChange: ((c1 - c0) * 1000) / measuredRows / SUBSCRIBERS, ...extra } : {}),
  };
  console.log(`insert -> ${BROWSER ? 'browser' : 'Node'} subscriber at ${RATE} rows/s ` +
    `(achieved ${result.achievedRate}), ${SUBSCRIBERS} subscribers ` +
    `(${FILTERED} filtered), history ${result.historyStore}: p50 ${result.p50ms.toFixed(2)} ms, ` +
    `p90 ${result.p90ms.toFixed(2)} ms, p99 ${result.p99ms.toFixed(2)} ms, max ${result.maxms.toFixed(1)} ms; ` +
    `server CPU ${result.serverCpuUsPerChange.toFixed(1)} µs per change ` +
    `(${(result.serverCpuShare * 100).toFixed(1)}% ` +
    `of a core); machine busy ${(result.machineBusy * 100).toFixed(0)}% of ${result.cores} cores; ` +
    `missing/out of order: ${result.outOfOrderOrMissing}` +
    (BROWSER ? `; page main-thread CPU ${result.pageCpuUsPerChange.toFixed(1)} µs per change per page` : ''));
  console.log(JSON.stringify(result));
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  if (result.outOfOrderOrMissing !== 0) process.exitCode = 1;
} finally {
  await subscribers?.close();
  await server?.stop();
  await pg.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
