// A process killed in the middle of a batch (SIGKILL half-way through writing a report) leaves
// every stored report whole; running the batch again stores the rest and calls the others duplicates.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoReports } from '../src/reports/demo-reports.js';
import { openReportStore } from '../src/reports/store.js';
import { backends } from './helpers/report-backends.js';

function runCli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', ...args], {
        env: { ...process.env, NO_COLOR: '1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    },
  );
}

let dir = '';
const reports = generateDemoReports({
  domains: [
    {
      domain: 'crash.test',
      mode: 'testing',
      mx: ['mx1.crash.test', 'mx2.crash.test'],
      failingMx: { host: 'mx2.crash.test', resultType: 'starttls-not-supported' },
    },
  ],
  start: new Date('2026-02-01T00:00:00Z'),
  days: 3,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mta-sts-crash-'));
  for (const [i, r] of reports.entries()) {
    await writeFile(join(dir, `r${String(i).padStart(3, '0')}.json.gz`), gzipSync(JSON.stringify(r)));
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

for (const backend of backends()) {
  describe.skipIf(backend.skip !== undefined)(
    `crash mid-batch on ${backend.name}`,
    { timeout: 180_000 },
    () => {
      beforeAll(() => backend.setup());
      afterAll(() => backend.teardown());

      it('keeps every stored report whole and finishes on the rerun', async () => {
        const db = await backend.newDatabase();
        const crashAfter = 5;
        let storedBeforeCrash = 0;
        // The hook kills the process inside the 6th report's transaction, after its first row.
        const killed = await runCli(['reports', 'ingest', dir, '--db', db, '--json'], {
          MTA_STS_TEST_CRASH_AFTER: String(crashAfter),
          // SQLite commits a batch in groups (each report in its own savepoint): groups of 2 here.
          MTA_STS_INGEST_GROUP: '2',
        });
        expect(killed.signal, killed.stderr).toBe('SIGKILL');

        const store = await openReportStore(db);
        try {
          const stored = await store.list({ limit: 1000 });
          // SQLite loses the open group (the 5th report); PostgreSQL keeps a few writes in
          // flight, so one or two more than 5 may have committed there.
          storedBeforeCrash = stored.length;
          expect(storedBeforeCrash).toBeGreaterThanOrEqual(
            backend.name === 'sqlite' ? crashAfter - 1 : crashAfter,
          );
          expect(storedBeforeCrash).toBeLessThan(reports.length);
          let successful = 0;
          let failed = 0;
          for (const item of stored) {
            const [r] = await store.show(item.id);
            const original = reports.find(
              (o) => (o as Record<string, unknown>)['report-id'] === r!.reportId,
            ) as Record<string, any>;
            expect(original).toBeDefined();
            const summary = original.policies[0].summary;
            expect(r!.policies).toHaveLength(1);
            expect(r!.policies[0]!.successful).toBe(summary['total-successful-session-count']);
            expect(r!.policies[0]!.failed).toBe(summary['total-failure-session-count']);
            expect(r!.policies[0]!.failureDetails).toHaveLength(
              original.policies[0]['failure-details']?.length ?? 0,
            );
            successful += r!.policies[0]!.successful;
            failed += r!.policies[0]!.failed;
          }
          // The roll-ups written in the same transactions agree with the stored reports.
          const s = await store.summary();
          expect(s.reports).toBe(storedBeforeCrash);
          expect(s.totals).toMatchObject({ successful, failed });
        } finally {
          await store.close();
        }

        const rerun = await runCli(['reports', 'ingest', dir, '--db', db, '--json']);
        expect(rerun.code, rerun.stderr).toBe(0);
        const out = JSON.parse(rerun.stdout);
        expect(out.counts).toEqual({
          ingested: reports.length - storedBeforeCrash,
          duplicate: storedBeforeCrash,
          skipped: 0,
          invalid: 0,
          total: reports.length,
        });
        const after = await openReportStore(db);
        try {
          const s = await after.summary();
          expect(s.reports).toBe(reports.length);
          const expected = reports.reduce(
            (a: number, r) => a + (r as any).policies[0].summary['total-successful-session-count'],
            0,
          );
          expect(s.totals.successful).toBe(expected);
        } finally {
          await after.close();
        }
      });

      it('never prints "ingested" for a report the crash lost', async () => {
        const db = await backend.newDatabase();
        const killed = await runCli(['reports', 'ingest', dir, '--db', db], {
          MTA_STS_TEST_CRASH_AFTER: '5',
          MTA_STS_INGEST_GROUP: '2',
        });
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        const announced = killed.stdout.split('\n').filter((l) => l.startsWith('ingested'));
        const store = await openReportStore(db);
        try {
          const stored = new Set((await store.list({ limit: 1000 })).map((r) => r.reportId));
          for (const line of announced) {
            const reportId = line.trim().split(' ').pop()!;
            expect(stored.has(reportId), line).toBe(true);
          }
        } finally {
          await store.close();
        }
      });
    },
  );
}
