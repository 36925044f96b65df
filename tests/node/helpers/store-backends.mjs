// The chat/sync store backends a suite runs against (issue #16): SQLite (the embedded default, in memory here)
// and Postgres (`--database`), so the same chat and sync tests pass on both. One Postgres cluster per test file,
// started on first use and stopped after the file's tests; each server gets a fresh database.
//
//   const stores = storeBackends();                 // at the top level of the test file
//   for (const backend of stores.names) describe(`... (${backend})`, () => {
//     before(async () => { server = await startServer({ args: await stores.serverArgs(backend) }); });
//   });
//
// Postgres missing is a failure with the setup hint (scripts/setup.sh), never a silent skip.
import { after } from 'node:test';

import { startPostgres } from './postgres.mjs';

export function storeBackends() {
  let cluster = null;
  after(async () => {
    if (cluster) await (await cluster).stop();
  });
  return {
    names: ['sqlite', 'postgres'],
    /** The Postgres cluster of this file (started on first use). */
    postgres() {
      cluster ??= startPostgres();
      return cluster;
    },
    /** Server flags for `backend`: none for SQLite; `--database <a fresh database>` for Postgres. */
    async serverArgs(backend) {
      if (backend === 'sqlite') return [];
      const db = await (await this.postgres()).createDatabase();
      return ['--database', db.url];
    },
  };
}
