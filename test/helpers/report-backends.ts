// Store tests run against SQLite and a real PostgreSQL. In CI a missing PostgreSQL fails the
// run; locally the PostgreSQL half is skipped with the reason.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReportStore } from '../../src/reports/store.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from './postgres.js';

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** Skip reason when unavailable locally (never in CI). */
  skip: string | undefined;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A URL/path for a new empty database. */
  newDatabase(): Promise<string>;
}

export function backends(): Backend[] {
  let dir = '';
  let n = 0;
  const sqlite: Backend = {
    name: 'sqlite',
    skip: undefined,
    async setup() {
      dir = await mkdtemp(join(tmpdir(), 'mta-sts-sqlite-'));
    },
    async teardown() {
      await rm(dir, { recursive: true, force: true });
    },
    async newDatabase() {
      return join(dir, `reports-${n++}.db`);
    },
  };
  let server: TestPostgres | undefined;
  const why = postgresUnavailable();
  const postgres: Backend = {
    name: 'postgres',
    skip: why && !process.env.CI ? why : undefined,
    async setup() {
      server = await startPostgres();
    },
    async teardown() {
      await server?.stop();
    },
    async newDatabase() {
      if (!server) throw new Error('PostgreSQL did not start');
      return server.createDatabase();
    },
  };
  return [sqlite, postgres];
}

export async function openFresh(backend: Backend) {
  return openReportStore(await backend.newDatabase());
}
