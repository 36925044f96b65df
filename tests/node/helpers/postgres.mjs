// A real Postgres for the tests (issue #16): a fresh cluster made with initdb in a temporary directory, on a free
// port, with wal_level=logical (the change feed), run by pg_ctl as the `postgres` user (Postgres refuses root).
//
//   const pg = await startPostgres();      // pg.url: postgres://postgres@127.0.0.1:<port>/postgres
//   await pg.psql('CREATE TABLE t (id int primary key)');   // runs psql, resolves with its stdout
//   const db = await pg.createDatabase();  // a fresh database on the same cluster: { url, name, psql }
//   await pg.pause();                      // pg_ctl stop -m fast: an outage (the cluster and its data stay)
//   await pg.resume();                     // pg_ctl start again on the same directory and port
//   await pg.stop();                       // pg_ctl stop -m immediate, removes the directory
//
// `missingPostgres()` says what is not installed (scripts/setup.sh installs postgresql-15 and wal2json).
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { freePort } from './cluster.mjs';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

/** What is missing to run a test Postgres ('' when nothing is). */
export function missingPostgres() {
  if (!existsSync(join(BIN, 'initdb'))) return 'postgresql-15 (initdb)';
  if (!existsSync('/usr/lib/postgresql/15/lib/wal2json.so')) return 'postgresql-15-wal2json';
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) return 'the postgres user (postgresql-15 creates it)';
  return '';
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a Postgres program as the postgres user (via runuser when we are root). */
function pgRun(cmd, args, options = {}) {
  return asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args], options) : run(cmd, args, options);
}

/**
 * Starts a fresh cluster. `settings` adds `-c name=value` server settings (e.g. { max_slot_wal_keep_size: '64MB' }).
 */
export async function startPostgres({ settings = {} } = {}) {
  const missing = missingPostgres();
  if (missing) throw new Error(`Postgres tests need ${missing}: run scripts/setup.sh as root`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tw-pg-'));
  chmodSync(dir, 0o700);
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString());
    const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  await pgRun(join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync',
    '--locale=C']);
  const all = {
    port: String(port),
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    wal_level: 'logical',
    max_replication_slots: '10',
    max_wal_senders: '10',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...settings,
  };
  const opts = Object.entries(all).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  const start = () =>
    pgRun(join(BIN, 'pg_ctl'), ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '30', 'start']);
  await start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const psqlAt = (database) => async (sql) => {
    const { stdout } = await run('psql', ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p',
      String(port), '-U', 'postgres', '-d', database, '-c', sql]);
    return stdout;
  };
  let databases = 0;
  const pg = {
    port,
    dir,
    url,
    psql: psqlAt('postgres'),
    /** A fresh, empty database on this cluster (so tests need not share tables). */
    async createDatabase() {
      const name = `tw_${process.pid}_${++databases}`;
      await pg.psql(`CREATE DATABASE ${name}`);
      return { name, url: `postgres://postgres@127.0.0.1:${port}/${name}`, psql: psqlAt(name) };
    },
    /** Stops the server (fast shutdown: its connections are ended), keeping the cluster for resume(). */
    async pause() {
      await pgRun(join(BIN, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    /** Starts the paused server again, same directory and port. */
    async resume() {
      await start();
    },
    async stop() {
      try {
        await pgRun(join(BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
  return pg;
}
