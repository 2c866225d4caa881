import { describe, expect, it } from 'vitest';
import { parseDomainList, summarizeScan } from './scan.js';

describe('parseDomainList', () => {
  it('reads one domain per line, skips comments, blanks and duplicates', () => {
    const r = parseDomainList(
      '# list\r\nexample.com\n\n  example.net  # second\nEXAMPLE.com.\nexample.org, example.info\n',
    );
    expect(r.domains).toEqual(['example.com', 'example.net', 'example.org', 'example.info']);
    expect(r.duplicates).toBe(1);
  });
});

describe('summarizeScan', () => {
  it('counts verdicts, modes and the domains behind each code', () => {
    const s = summarizeScan([
      { domain: 'a', verdict: 'ok', mode: 'enforce', errors: [], warnings: [] },
      {
        domain: 'b',
        verdict: 'fail',
        mode: 'testing',
        errors: ['smtp.cert-expired'],
        warnings: ['policy.mode-testing'],
      },
      { domain: 'c', verdict: 'fail', errors: ['smtp.cert-expired', 'policy.http-status'], warnings: [] },
      { domain: 'd', verdict: 'none', errors: [], warnings: ['tlsrpt-record.absent'] },
    ]);
    expect(s.byVerdict).toEqual({ ok: 1, warn: 0, fail: 2, none: 1 });
    expect(s.byMode).toEqual({ enforce: 1, testing: 1, 'unusable policy': 1, 'no MTA-STS': 1 });
    expect(s.byCode['smtp.cert-expired']).toEqual({ severity: 'error', domains: 2 });
  });
});
