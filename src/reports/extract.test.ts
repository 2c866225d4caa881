import { describe, expect, it } from 'vitest';
import { generateDemoReports } from './demo-reports.js';
import { extractReports, splitMbox } from './extract.js';

const report = JSON.stringify({ 'organization-name': 'O', 'report-id': 'r', policies: [] });

function email(headers: string, body: string): string {
  return `${headers}\r\n\r\n${body}`;
}

describe('extractReports', () => {
  it('splits an mbox and unescapes >From lines', () => {
    const mbox = `From a@b Mon Jan 1 00:00:00 2024\nSubject: one\n\n>From here\n\nFrom c@d Mon Jan 1 00:00:00 2024\nSubject: two\n\nbody\n`;
    const parts = splitMbox(Buffer.from(mbox)).map((b) => b.toString());
    expect(parts).toHaveLength(2);
    expect(parts[0]).toContain('\nFrom here');
    expect(parts[1]).toMatch(/^Subject: two/);
  });

  it('takes an application/tlsrpt+json part and skips a DMARC report', async () => {
    const tlsrpt = email(
      'From: r@x.example\r\nSubject: Report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=tlsrpt; boundary="b"',
      `--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/tlsrpt+json\r\nContent-Disposition: attachment; filename="r.json"\r\n\r\n${report}\r\n--b--\r\n`,
    );
    const got = await extractReports(Buffer.from(tlsrpt), 'm.eml');
    expect(got).toHaveLength(1);
    expect('json' in got[0]! && got[0].json.toString()).toBe(report);
    const dmarc = email(
      'From: r@x.example\r\nSubject: Report domain: x.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"',
      `--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename="x.example!y.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\r\n--b--\r\n`,
    );
    const skipped = await extractReports(Buffer.from(dmarc), 'd.eml');
    expect(skipped).toEqual([{ source: 'd.eml', status: 'skipped', reason: expect.stringMatching(/DMARC/) }]);
    const declaredEmpty = email(
      'From: r@x.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=tlsrpt; boundary="b"',
      '--b\r\nContent-Type: text/plain\r\n\r\nno report here\r\n--b--\r\n',
    );
    expect((await extractReports(Buffer.from(declaredEmpty), 'e.eml'))[0]).toMatchObject({
      status: 'invalid',
    });
  });
});

describe('generateDemoReports', () => {
  it('is deterministic and reports failures for the failing MX only', () => {
    const opts = {
      domains: [
        {
          domain: 'd.test',
          mode: 'enforce',
          mx: ['a.d.test', 'b.d.test'],
          failingMx: { host: 'b.d.test', resultType: 'certificate-expired' },
        },
      ],
      start: new Date('2026-03-01T00:00:00Z'),
      days: 2,
    };
    const a = generateDemoReports(opts);
    expect(JSON.stringify(a)).toBe(JSON.stringify(generateDemoReports(opts)));
    expect(a.length).toBe(8);
    for (const r of a as any[]) {
      expect(r.policies[0]['failure-details'][0]['receiving-mx-hostname']).toBe('b.d.test');
      expect(r.policies[0].summary['total-failure-session-count']).toBeGreaterThan(0);
    }
  });
});

describe('zip expansion budget', () => {
  it('refuses an archive whose entries together expand beyond the total limit, each entry within it', async () => {
    const { zipSync } = await import('fflate');
    const limits = { maxReportBytes: 1000, maxInputBytes: 2000, maxZipEntries: 100, maxAttachments: 50 };
    const entry = new TextEncoder().encode(`{"pad":"${'x'.repeat(900)}"}`);
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 10; i++) files[`r${i}.json`] = entry;
    const out = await extractReports(zipSync(files), 'bomb.zip', limits);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ status: 'invalid' });
    expect((out[0] as { reason: string }).reason).toMatch(/in total/);
    // Within the budget, every entry is read.
    const small = await extractReports(zipSync({ 'a.json': entry, 'b.json': entry }), 'ok.zip', limits);
    expect(small.filter((x) => 'json' in x)).toHaveLength(2);
  });
});
