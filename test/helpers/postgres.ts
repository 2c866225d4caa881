// A throw-away PostgreSQL server for tests: initdb into a temp dir, listen on 127.0.0.1 only,
// stop and delete on the way out. Or reuse the server in MTA_STS_TEST_PG_URL.
// In CI (process.env.CI set) a missing PostgreSQL is an error, never a silent skip.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface TestPostgres {
  /** A fresh, empty database on the server; returns its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function findBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : undefined;
}

/** Why PostgreSQL is not available here, or undefined when it is. */
export function postgresUnavailable(): string | undefined {
  if (process.env.MTA_STS_TEST_PG_URL) return undefined;
  return findBin() ? undefined : 'PostgreSQL is not installed (apt-get install postgresql)';
}

let counter = 0;

function databaseCreator(adminUrl: string): () => Promise<string> {
  return async () => {
    const name = `mta_sts_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    return u.toString();
  };
}

export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.MTA_STS_TEST_PG_URL;
  if (external) return { createDatabase: databaseCreator(external), stop: async () => {} };
  const bin = findBin();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const dir = await mkdtemp(join(tmpdir(), 'mta-sts-pg-'));
  const data = join(dir, 'data');
  // initdb refuses to run as root: run the server as the postgres system user then.
  const asRoot = process.getuid?.() === 0;
  const wrap = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const port = await freePort();
  await run(
    ...wrap(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']),
  );
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c full_page_writes=off',
    '-c synchronous_commit=off',
  ].join(' ');
  // pg_ctl -w returns once the server accepts connections: no polling here.
  await run(
    ...wrap(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-w',
      '-t',
      '60',
      '-l',
      join(dir, 'log'),
      '-o',
      options,
      'start',
    ]),
  );
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    createDatabase: databaseCreator(adminUrl),
    async stop() {
      await run(...wrap(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
