// IMAP ingestion against a real Dovecot over IMAPS: the real sample e-mails are appended,
// ingested by the CLI, then moved (or marked seen), so a second run finds nothing to do.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReportStore } from '../src/reports/store.js';
import { dovecotUnavailable, startDovecot, type TestDovecot } from './helpers/dovecot.js';
import { backends } from './helpers/report-backends.js';
import { TLSRPT_FIXTURES } from './helpers/shared.js';

const FIXTURES = TLSRPT_FIXTURES;
const EMAILS = [
  'google-1.eml',
  'google-2.eml',
  'google-3.eml',
  'mailru-1.eml',
  'microsoft-1.eml',
  'empty-no-report.eml',
];

const dovecotMissing = dovecotUnavailable();
const skipDovecot = dovecotMissing !== undefined && !process.env.CI;

function runCli(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
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
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const backend of backends()) {
  describe.skipIf(skipDovecot || backend.skip !== undefined)(
    `IMAP ingestion (Dovecot) into ${backend.name}`,
    { timeout: 180_000 },
    () => {
      let dovecot: TestDovecot;
      let client: ImapFlow;

      beforeAll(async () => {
        await backend.setup();
        dovecot = await startDovecot();
        client = new ImapFlow({
          host: dovecot.host,
          port: dovecot.port,
          secure: true,
          auth: { user: dovecot.user, pass: dovecot.password },
          tls: { ca: dovecot.caPem },
          logger: false,
        });
        await client.connect();
      });
      afterAll(async () => {
        await client?.logout().catch(() => {});
        await dovecot?.stop();
        await backend.teardown();
      });

      async function appendSamples(mailbox: string): Promise<void> {
        if (mailbox !== 'INBOX') await client.mailboxCreate(mailbox).catch(() => {});
        for (const f of EMAILS) await client.append(mailbox, await readFile(`${FIXTURES}/${f}`));
      }

      async function count(mailbox: string, query: Record<string, boolean>): Promise<number> {
        const st = await client.mailboxOpen(mailbox);
        const found = st.exists === 0 ? [] : await client.search(query, { uid: true });
        await client.mailboxClose();
        return (found || []).length;
      }

      it('ingests over IMAPS and moves processed messages, once', async () => {
        await appendSamples('INBOX');
        const db = await backend.newDatabase();
        const url = `imaps://${dovecot.user}@127.0.0.1:${dovecot.port}/INBOX`;
        const env = { MTA_STS_IMAP_PASSWORD: dovecot.password };
        const args = [
          'reports',
          'ingest',
          '--imap',
          url,
          '--ca-file',
          dovecot.caFile,
          '--move-to',
          'Processed',
          '--db',
          db,
          '--json',
        ];
        const first = await runCli(args, env);
        expect(first.code, first.stderr).toBe(0);
        const out = JSON.parse(first.stdout);
        expect(out.counts).toEqual({ ingested: 5, duplicate: 0, skipped: 1, invalid: 0, total: 6 });
        const skipped = out.items.find((i: { status: string }) => i.status === 'skipped');
        expect(skipped.reason).toMatch(/not a TLS report/);
        expect(
          out.items
            .map((i: { organization?: string }) => i.organization)
            .filter(Boolean)
            .sort(),
        ).toEqual(['Google Inc.', 'Google Inc.', 'Google Inc.', 'Mail.ru', 'Microsoft Corporation']);
        expect(await count('INBOX', { all: true })).toBe(0);
        expect(await count('Processed', { all: true })).toBe(6);

        const second = await runCli(args, env);
        expect(second.code, second.stderr).toBe(0);
        expect(JSON.parse(second.stdout).counts.total).toBe(0);

        const store = await openReportStore(db);
        try {
          const s = await store.summary({ domain: 'krvtz.net' });
          // google-1 (1) + google-2 (2) + microsoft-1 (2, sts and tlsa counted once) ; mail.ru 1 failed
          expect(s.totals).toMatchObject({ successful: 5, failed: 1 });
          expect(s.byResultType).toEqual({ 'sts-policy-fetch-error': 1 });
        } finally {
          await store.close();
        }
      });

      it('marks messages seen without --move-to, and a wrong password is an operational error', async () => {
        await appendSamples('Reports');
        const db = await backend.newDatabase();
        const url = `imaps://${dovecot.user}@127.0.0.1:${dovecot.port}/Reports`;
        const args = ['reports', 'ingest', '--imap', url, '--ca-file', dovecot.caFile, '--db', db, '--json'];
        const first = await runCli(args, { MTA_STS_IMAP_PASSWORD: dovecot.password });
        expect(first.code, first.stderr).toBe(0);
        expect(JSON.parse(first.stdout).counts).toMatchObject({ ingested: 5, skipped: 1 });
        expect(await count('Reports', { seen: true })).toBe(6);
        const second = await runCli(args, { MTA_STS_IMAP_PASSWORD: dovecot.password });
        expect(JSON.parse(second.stdout).counts.total).toBe(0);

        const wrong = await runCli(args, { MTA_STS_IMAP_PASSWORD: 'nope' });
        expect(wrong.code).toBe(2);
        expect(wrong.stderr).toMatch(/IMAP 127\.0\.0\.1/);
        const noPassword = await runCli(args, { MTA_STS_IMAP_PASSWORD: '' });
        expect(noPassword.code).toBe(2);
        expect(noPassword.stderr).toMatch(/MTA_STS_IMAP_PASSWORD/);
      });
    },
  );
}
