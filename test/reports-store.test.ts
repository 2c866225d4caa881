// Every real sample, the broken-input corpus, duplicates and the counting rule, against
// SQLite and a real PostgreSQL.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoReports } from '../src/reports/demo-reports.js';
import { ingestPaths, ingestReportObjects } from '../src/reports/ingest.js';
import type { KyselyReportStore } from '../src/reports/store.js';
import { backends, openFresh } from './helpers/report-backends.js';
import { TLSRPT_FIXTURES } from './helpers/shared.js';

const FIXTURES = TLSRPT_FIXTURES;

interface Expected {
  file: string;
  organization: string;
  domain: string;
  /** policy types in order, with their successful/failed counts */
  policies: Array<[type: string, mode: string | null, successful: number, failed: number, counted: boolean]>;
  resultTypes?: Record<string, number>;
  notes?: string[];
  contact?: string | null;
  mxHosts?: string[];
  start?: string;
  end?: string;
}

const EXPECTED: Expected[] = [
  {
    file: 'google-1.eml',
    organization: 'Google Inc.',
    domain: 'krvtz.net',
    policies: [['sts', 'enforce', 1, 0, true]],
    mxHosts: ['carp-20.krvtz.net'],
  },
  {
    file: 'google-2.eml',
    organization: 'Google Inc.',
    domain: 'krvtz.net',
    policies: [['sts', 'enforce', 2, 0, true]],
  },
  {
    file: 'google-3.eml',
    organization: 'Google Inc.',
    domain: 'cardinalhealth.ca',
    policies: [['no-policy-found', null, 48, 0, true]],
  },
  {
    file: 'google-4.json',
    organization: 'Google Inc.',
    domain: 'foo-bar.io',
    policies: [['sts', 'enforce', 1, 0, true]],
    mxHosts: ['*.foo-bar.io'],
  },
  {
    file: 'google-5.json',
    organization: 'Google Inc.',
    domain: 'example.com',
    policies: [['sts', 'enforce', 53, 0, true]],
  },
  {
    file: 'google-no-policy.json',
    organization: 'Google Inc.',
    domain: 'foo-bar.io',
    policies: [['no-policy-found', null, 1, 0, true]],
  },
  {
    file: 'google-validation-failure.json',
    organization: 'Example Inc.',
    domain: 'example.com',
    policies: [['sts', 'testing', 0, 3, true]],
    resultTypes: { 'validation-failure': 3 },
  },
  {
    file: 'mailru-1.eml',
    organization: 'Mail.ru',
    domain: 'krvtz.net',
    policies: [['sts', null, 0, 1, true]],
    resultTypes: { 'sts-policy-fetch-error': 1 },
    notes: ['tlsrpt-report.end-next-midnight', 'tlsrpt-report.policy-string-missing'],
    start: '2023-01-25T00:00:00Z',
    end: '2023-01-26T00:00:00Z',
  },
  {
    file: 'mailru-2.json',
    organization: 'Mail.ru',
    domain: 'example.com',
    policies: [['sts', null, 0, 1, true]],
    resultTypes: { 'sts-policy-fetch-error': 2 },
    notes: ['tlsrpt-report.summary-mismatch', 'tlsrpt-report.end-next-midnight'],
  },
  {
    file: 'microsoft-1.eml',
    organization: 'Microsoft Corporation',
    domain: 'krvtz.net',
    policies: [
      ['sts', 'enforce', 2, 0, false],
      ['tlsa', null, 2, 0, true],
    ],
    notes: ['tlsrpt-report.policy-string-json', 'tlsrpt-report.overlapping-policies'],
  },
  {
    file: 'microsoft-2.json',
    organization: 'Microsoft Corporation',
    domain: 'random.net',
    policies: [
      ['sts', 'enforce', 2, 0, false],
      ['tlsa', null, 2, 0, true],
    ],
    notes: ['tlsrpt-report.policy-string-json', 'tlsrpt-report.overlapping-policies'],
    mxHosts: [],
  },
  {
    file: 'microsoft-3.json',
    organization: 'Microsoft Corporation',
    domain: 'example.com',
    policies: [['sts', 'enforce', 7, 0, true]],
    notes: ['tlsrpt-report.datetime-no-zone'],
    start: '2024-03-26T00:00:00Z',
    end: '2024-03-26T23:59:59Z',
  },
  {
    file: 'microsoft-fetch-error-no-ip.json',
    organization: 'Microsoft Corporation',
    domain: 'xxxxxxxx.xx',
    policies: [['sts', null, 0, 3, true]],
    resultTypes: { 'sts-policy-fetch-error': 3 },
    notes: ['tlsrpt-report.report-id-truncated'],
  },
  {
    file: 'rfc8460-errata-6241.json',
    organization: 'Company-X',
    domain: 'company-y.example',
    policies: [['sts', 'testing', 5326, 303, true]],
    resultTypes: { 'certificate-expired': 100, 'starttls-not-supported': 200, 'validation-failure': 3 },
    mxHosts: ['*.mail.company-y.example'],
  },
  {
    file: 'third-party-no-contact.json',
    organization: 'server.com',
    domain: 'server.com',
    policies: [['sts', 'enforce', 1, 0, true]],
    contact: null,
    mxHosts: ['mx.server.com'],
    notes: [
      'tlsrpt-report.contact-missing',
      'tlsrpt-report.mx-host-prefixed',
      'tlsrpt-report.end-next-midnight',
    ],
  },
];

let work = '';
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mta-sts-reports-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function brokenCorpus(): Promise<string> {
  const dir = join(work, `broken-${Math.random().toString(36).slice(2)}`);
  await mkdir(dir);
  const good = {
    'organization-name': 'Good Org',
    'date-range': { 'start-datetime': '2025-01-01T00:00:00Z', 'end-datetime': '2025-01-01T23:59:59Z' },
    'contact-info': 'x@good.example',
    'report-id': 'good-1',
    policies: [
      {
        policy: {
          'policy-type': 'sts',
          'policy-domain': 'good.example',
          'policy-string': ['version: STSv1', 'mode: enforce', 'mx: mx.good.example', 'max_age: 86400'],
        },
        summary: { 'total-successful-session-count': 10, 'total-failure-session-count': 0 },
      },
    ],
  };
  const gz = gzipSync(JSON.stringify(good));
  const files: Record<string, Uint8Array | string> = {
    'a-good.json.gz': gz,
    'b-truncated.json.gz': gz.subarray(0, gz.length - 12),
    // 64 MiB of spaces gzip to ~64 KiB: stopped at the 20 MiB cap.
    'c-bomb.json.gz': gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)),
    'd-invalid.json': '{"organization-name": "X", "policies": [',
    'e-not-a-report.json': '{"hello": "world", "list": [1, 2, 3]}',
    'f-huge-array.json': JSON.stringify({
      ...good,
      'report-id': 'huge',
      policies: Array.from({ length: 1001 }, () => good.policies[0]),
    }),
    'g-wrong-types.json': JSON.stringify({ ...good, 'report-id': 'wrong', policies: 'sts' }),
    'h-wrong-count.json': JSON.stringify({
      ...good,
      'report-id': 'neg',
      policies: [
        {
          ...good.policies[0],
          summary: { 'total-successful-session-count': -5, 'total-failure-session-count': 0 },
        },
      ],
    }),
    'i-deep.json': `${'['.repeat(5000)}${']'.repeat(5000)}`,
    'j-bad-date.json': JSON.stringify({
      ...good,
      'report-id': 'date',
      'date-range': { 'start-datetime': 'yesterday', 'end-datetime': 'today' },
    }),
    'k-empty.json.gz': new Uint8Array(0),
    'l-zip-bomb.zip': zipSync({ 'big.json': new Uint8Array(30 * 1024 * 1024).fill(0x20) }),
    'm-dmarc.xml': '<?xml version="1.0"?><feedback><report_metadata/></feedback>',
    'n-good-2.zip': zipSync({ 'r.json': Buffer.from(JSON.stringify({ ...good, 'report-id': 'good-2' })) }),
    'o-binary.bin': new Uint8Array([0, 1, 2, 3, 255, 254]),
    'p-missing-org.json': JSON.stringify({ ...good, 'organization-name': undefined }),
  };
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
  return dir;
}

for (const backend of backends()) {
  describe.skipIf(backend.skip !== undefined)(`reports store on ${backend.name}`, () => {
    let store: KyselyReportStore;
    beforeAll(async () => {
      await backend.setup();
    });
    afterAll(async () => {
      await backend.teardown();
    });

    it('ingests every real sample with the values a reader of the JSON expects', async () => {
      store = await openFresh(backend);
      try {
        const out = await ingestPaths([FIXTURES], store);
        const bySource = (file: string) => out.items.filter((i) => i.source.startsWith(join(FIXTURES, file)));
        const skipped = bySource('empty-no-report.eml');
        expect(skipped).toHaveLength(1);
        expect(skipped[0]!.status).toBe('skipped');
        expect(skipped[0]!.reason).toMatch(/not a TLS report/);
        expect(bySource('PROVENANCE.md')[0]!.status).toBe('skipped');

        for (const e of EXPECTED) {
          const items = bySource(e.file);
          expect(items, e.file).toHaveLength(1);
          const item = items[0]!;
          expect(item.status, e.file).toBe('ingested');
          expect(item.organization, e.file).toBe(e.organization);
          const [stored] = await store.show(item.id!);
          expect(stored, e.file).toBeDefined();
          expect(stored!.organization).toBe(e.organization);
          expect(stored!.policyDomains, e.file).toEqual([e.domain]);
          expect(
            stored!.policies.map((p) => [p.policyType, p.mode, p.successful, p.failed, p.countedInTotals]),
            e.file,
          ).toEqual(e.policies);
          const results: Record<string, number> = {};
          for (const p of stored!.policies) {
            for (const d of p.failureDetails)
              results[d.resultType] = (results[d.resultType] ?? 0) + d.failedSessions;
          }
          expect(results, e.file).toEqual(e.resultTypes ?? {});
          const codes = stored!.notes.map((n) => n.code);
          for (const n of e.notes ?? []) expect(codes, e.file).toContain(n);
          if (!e.notes) expect(codes, e.file).toEqual([]);
          if (e.contact !== undefined) expect(stored!.contact).toBe(e.contact);
          if (e.mxHosts) expect(stored!.policies[0]!.mxHosts).toEqual(e.mxHosts);
          if (e.start) expect(stored!.start).toBe(e.start);
          if (e.end) expect(stored!.end).toBe(e.end);
          expect(JSON.parse(stored!.rawJson)['organization-name']).toBe(e.organization);
        }
        // Same organization, report-id and dates as the errata version: the later one is a duplicate.
        const dup = bySource('rfc8460-example.json');
        expect(dup[0]!.status).toBe('duplicate');
        expect(out.counts).toEqual({ ingested: 15, duplicate: 1, skipped: 2, invalid: 0, total: 18 });

        // Microsoft's TLSA policy-string: one JSON-encoded string, decoded into 13 records.
        const ms = out.items.find((i) => i.source.includes('microsoft-1.eml'))!;
        const [msReport] = await store.show(ms.id!);
        expect(msReport!.policies[1]!.policyStrings).toHaveLength(13);
        expect(msReport!.policies[1]!.policyStrings[0]).toMatch(/^2 1 1 [0-9A-F]{64}$/);

        const summary = await store.summary();
        expect(summary.reports).toBe(15);
        // Microsoft's sts+tlsa sessions count once: 5444 = 1+2+48+1+53+1+0+0+0+2+2+7+0+5326+1
        expect(summary.totals.successful).toBe(5444);
        expect(summary.totals.failed).toBe(311);
        expect(summary.byOrganization['Microsoft Corporation']).toMatchObject({ successful: 11, failed: 3 });
        expect(summary.byResultType).toEqual({
          'certificate-expired': 100,
          'starttls-not-supported': 200,
          'sts-policy-fetch-error': 6,
          'validation-failure': 6,
        });
        expect(summary.byPolicy['sts/enforce']).toMatchObject({
          successful: 69,
          failed: 0,
          excludedFromTotals: { successful: 4, failed: 0 },
        });
        expect(summary.byPolicy.tlsa).toMatchObject({ successful: 4, excludedFromTotals: { successful: 0 } });

        const failures = await store.failures({ domain: 'company-y.example' });
        expect(failures.map((f) => [f.resultType, f.failedSessions, f.receivingMxHostname])).toEqual([
          ['starttls-not-supported', 200, 'mx2.mail.company-y.example'],
          ['certificate-expired', 100, 'mx1.mail.company-y.example'],
          ['validation-failure', 3, 'mx-backup.mail.company-y.example'],
        ]);
        const krvtz = await store.summary({ domain: 'KRVTZ.net', since: '2024-09-14' });
        expect(krvtz.reports).toBe(2);
        expect(krvtz.totals).toMatchObject({ successful: 3, failed: 0 });
        const mailru = await store.summary({ organization: 'Mail.ru', until: '2024-12-31' });
        expect(mailru.reports).toBe(2);
        expect(mailru.totals).toMatchObject({ successful: 0, failed: 2 });
        expect(mailru.byResultType).toEqual({ 'sts-policy-fetch-error': 3 });
        const since2025 = await store.summary({ since: '2025-01-01' });
        expect(since2025.reports).toBe(5);
        expect(Object.keys(since2025.byDay)).toEqual([
          '2025-03-27',
          '2025-05-22',
          '2025-05-23',
          '2025-06-14',
          '2026-01-11',
        ]);
        const list = await store.list({ organization: 'Mail.ru' });
        expect(list.map((r) => r.reportId).sort()).toEqual([
          'b28254de-7b2e-be36-bb5c-4c3b92da8b25@mail.ru',
          'c96d67df-0440-57f7-6e96-c83824d0fdf2@mail.ru',
        ]);

        // The whole directory again: all duplicates, nothing doubled.
        const again = await ingestPaths([FIXTURES], store);
        expect(again.counts).toMatchObject({ ingested: 0, duplicate: 16, skipped: 2 });
        expect((await store.summary()).totals.successful).toBe(5444);
      } finally {
        await store.close();
      }
    });

    it('counts sessions listed under sts and tlsa once, and disjoint entries of one type in full', async () => {
      store = await openFresh(backend);
      try {
        const base = {
          'organization-name': 'Microsoft Corporation',
          'date-range': { 'start-datetime': '2025-05-23T00:00:00Z', 'end-datetime': '2025-05-23T23:59:59Z' },
          'contact-info': 'tlsrpt-noreply@microsoft.com',
        };
        const entry = (type: string, domain: string, s: number, f: number, details: object[] = []) => ({
          policy: {
            'policy-type': type,
            'policy-domain': domain,
            ...(type === 'sts' ? { 'policy-string': ['mode: testing'] } : {}),
          },
          summary: { 'total-successful-session-count': s, 'total-failure-session-count': f },
          'failure-details': details,
        });
        const out = await ingestReportObjects(
          [
            // same 10 sessions under both: counted once (tie -> tlsa, RFC 8461 §2)
            {
              ...base,
              'report-id': 'r1',
              policies: [entry('sts', 'a.example', 10, 0), entry('tlsa', 'a.example', 10, 0)],
            },
            // the tlsa view covers fewer sessions than sts: the sts view is counted, with its failures
            {
              ...base,
              'report-id': 'r2',
              policies: [
                entry('sts', 'b.example', 6, 2, [
                  { 'result-type': 'sts-webpki-invalid', 'failed-session-count': 2 },
                ]),
                entry('tlsa', 'b.example', 3, 0),
              ],
            },
            // two sts entries (the policy changed mid-day): disjoint, both counted; plus another domain
            {
              ...base,
              'report-id': 'r3',
              policies: [
                entry('sts', 'c.example', 4, 0),
                entry('sts', 'c.example', 5, 1, [
                  { 'result-type': 'certificate-expired', 'failed-session-count': 1 },
                ]),
                entry('no-policy-found', 'd.example', 7, 0),
              ],
            },
          ],
          store,
        );
        expect(out.counts.ingested).toBe(3);
        const s = await store.summary();
        expect(s.totals).toMatchObject({ successful: 10 + 6 + 4 + 5 + 7, failed: 2 + 1 });
        expect(s.byResultType).toEqual({ 'sts-webpki-invalid': 2, 'certificate-expired': 1 });
        expect(s.byPolicy.tlsa).toMatchObject({
          successful: 13,
          excludedFromTotals: { successful: 3, failed: 0 },
        });
        expect(s.byPolicy['sts/testing']).toMatchObject({
          successful: 25,
          failed: 3,
          excludedFromTotals: { successful: 10, failed: 0 },
        });
        const a = await store.summary({ domain: 'a.example' });
        expect(a.totals).toMatchObject({ successful: 10, failed: 0 });
        const list = await store.list();
        expect(list.find((r) => r.reportId === 'r1')).toMatchObject({ successful: 10, failed: 0 });
        // failures lists every failure detail, with its policy type, counted or not
        expect((await store.failures()).map((f) => f.resultType).sort()).toEqual([
          'certificate-expired',
          'sts-webpki-invalid',
        ]);
      } finally {
        await store.close();
      }
    });

    it('marks each broken input invalid with a reason and ingests the rest of the batch', async () => {
      store = await openFresh(backend);
      try {
        const dir = await brokenCorpus();
        const out = await ingestPaths([dir], store);
        const status = Object.fromEntries(
          out.items.map((i) => [i.source.slice(dir.length + 1), [i.status, i.reason ?? '']]),
        );
        expect(status['a-good.json.gz']![0]).toBe('ingested');
        expect(status['n-good-2.zip!r.json']![0]).toBe('ingested');
        const invalid: Record<string, RegExp> = {
          'b-truncated.json.gz': /gzip data is truncated/,
          'c-bomb.json.gz': /expands beyond the 20 MiB limit/,
          'd-invalid.json': /invalid JSON/,
          'e-not-a-report.json': /not a TLS report/,
          'f-huge-array.json': /policies has 1001 entries, above the limit of 1000/,
          'g-wrong-types.json': /policies: must be an array/,
          'h-wrong-count.json': /total-successful-session-count.*non-negative integer/,
          'i-deep.json': /nesting deeper than/,
          'j-bad-date.json': /start-datetime.*not an RFC 3339 date-time/,
          'k-empty.json.gz': /empty/,
          'l-zip-bomb.zip': /expands beyond/,
          'p-missing-org.json': /organization-name.*missing/,
        };
        for (const [name, re] of Object.entries(invalid)) {
          expect(status[name], name).toBeDefined();
          expect(status[name]![0], name).toBe('invalid');
          expect(status[name]![1], name).toMatch(re);
        }
        expect(status['m-dmarc.xml']).toEqual(['skipped', expect.stringMatching(/DMARC/)]);
        expect(status['o-binary.bin']![0]).toBe('skipped');
        expect(out.counts).toMatchObject({ ingested: 2, invalid: 12, skipped: 2 });
        expect((await store.summary()).totals.successful).toBe(20);
      } finally {
        await store.close();
      }
    });

    it('reads a Maildir, an mbox and standard input', async () => {
      store = await openFresh(backend);
      try {
        const maildir = join(work, `Maildir-${backend.name}`);
        for (const d of ['cur', 'new', 'tmp']) await mkdir(join(maildir, d), { recursive: true });
        await writeFile(
          join(maildir, 'new', '1700000000.1.host'),
          await readFile(join(FIXTURES, 'google-1.eml')),
        );
        await writeFile(
          join(maildir, 'cur', '1700000000.2.host:2,S'),
          await readFile(join(FIXTURES, 'microsoft-1.eml')),
        );
        // A delivery still being written: never read.
        await writeFile(join(maildir, 'tmp', '1700000000.3.host'), 'partial');
        const mbox = join(work, `reports-${backend.name}.mbox`);
        await writeFile(
          mbox,
          Buffer.concat([
            Buffer.from('From noreply@corp.mail.ru Thu Jan 26 00:10:45 2023\n'),
            await readFile(join(FIXTURES, 'mailru-1.eml')),
            Buffer.from('\nFrom noreply@google.com Thu Sep 19 11:08:55 2024\n'),
            await readFile(join(FIXTURES, 'google-2.eml')),
          ]),
        );
        const stdin = Readable.from([await readFile(join(FIXTURES, 'google-4.json'))]);
        const out = await ingestPaths([maildir, mbox, '-'], store, { stdin });
        expect(out.items.map((i) => [i.status, i.organization])).toEqual([
          ['ingested', 'Microsoft Corporation'],
          ['ingested', 'Google Inc.'],
          ['ingested', 'Mail.ru'],
          ['ingested', 'Google Inc.'],
          ['ingested', 'Google Inc.'],
        ]);
        expect(out.items[2]!.source).toMatch(/\.mbox#1#/);
        expect(out.items[4]!.source).toBe('stdin');
      } finally {
        await store.close();
      }
    });

    it('stores generated demo reports with failures on the broken MX', async () => {
      store = await openFresh(backend);
      try {
        const reports = generateDemoReports({
          domains: [
            {
              domain: 'example.test',
              mode: 'testing',
              mx: ['mx1.example.test', 'mx2.example.test'],
              failingMx: { host: 'mx2.example.test', resultType: 'certificate-expired' },
            },
            { domain: 'ok.test', mode: 'enforce', mx: ['mx.ok.test'] },
          ],
          start: new Date('2026-01-01T12:00:00Z'),
          days: 3,
        });
        const out = await ingestReportObjects(reports, store);
        expect(out.counts).toMatchObject({ ingested: reports.length, invalid: 0 });
        const s = await store.summary();
        expect(Object.keys(s.byOrganization).length).toBeGreaterThanOrEqual(3);
        expect(Object.keys(s.byDay)).toEqual(['2026-01-01', '2026-01-02', '2026-01-03']);
        expect(Object.keys(s.byResultType)).toEqual(['certificate-expired']);
        const f = await store.failures();
        expect(new Set(f.map((r) => r.receivingMxHostname))).toEqual(new Set(['mx2.example.test']));
        expect((await store.summary({ domain: 'ok.test' })).totals.failed).toBe(0);
      } finally {
        await store.close();
      }
    });
  });
}
