import { describe, expect, it } from 'vitest';
import type { DomainState } from './model.js';
import {
  formatRecordsTable,
  formatZone,
  plannedRecords,
  verifyCname,
  verifyPolicyHostAddresses,
  verifyStsTxt,
  verifyTlsrptTxt,
  zoneTxtValue,
} from './records.js';

const state: DomainState = {
  domain: 'example.com',
  mode: 'enforce',
  mx: ['mx1.example.com'],
  maxAge: 604800,
  rua: ['mailto:tlsrpt@reports.example.net'],
  pagesHost: 'octocat.github.io',
  id: '20261130120000Z',
  idSetAt: '2026-11-30T12:00:00Z',
  modeSince: '2026-11-30T12:00:00Z',
};
const plan = plannedRecords(state, 'github-pages', 300);
const [cname, sts, tlsrpt] = plan.records;
const txt = (...records: string[][]) => ({ status: 'ok' as const, records, cnameChain: [] });

describe('plannedRecords', () => {
  it('plans the CNAME, the _mta-sts TXT with the current id and the TLS-RPT TXT', () => {
    expect(plan.records.map((r) => [r.name, r.type, r.value, r.ttl])).toEqual([
      ['mta-sts.example.com', 'CNAME', 'octocat.github.io', 300],
      ['_mta-sts.example.com', 'TXT', 'v=STSv1; id=20261130120000Z', 300],
      ['_smtp._tls.example.com', 'TXT', 'v=TLSRPTv1; rua=mailto:tlsrpt@reports.example.net', 300],
    ]);
    expect(formatRecordsTable([plan]).split('\n')[0]).toMatch(/^#HOST\s+#TTL\s+#TYPE\s+#VALUE$/);
  });

  it('leaves the host to a note for other targets and skips TLS-RPT without rua', () => {
    const nginx = plannedRecords({ ...state, rua: [] }, 'nginx');
    expect(nginx.records.map((r) => r.purpose)).toEqual(['mta-sts']);
    expect(nginx.notes[0]).toContain('A (and AAAA)');
  });
});

describe('zone output', () => {
  it('quotes, escapes and splits TXT strings at 255 bytes', () => {
    expect(zoneTxtValue('a "b" \\c')).toBe('"a \\"b\\" \\\\c"');
    const long = zoneTxtValue('x'.repeat(300));
    expect(long).toBe(`"${'x'.repeat(255)}" "${'x'.repeat(45)}"`);
    expect(formatZone([plan])).toContain(
      '_mta-sts.example.com.   300 IN TXT   "v=STSv1; id=20261130120000Z"',
    );
  });
});

describe('verify', () => {
  it('tells published, missing, different and could-not-tell apart for the _mta-sts record', () => {
    expect(verifyStsTxt(sts!, txt(['v=STSv1; id=20261130120000Z']), state.id).status).toBe('published');
    expect(verifyStsTxt(sts!, txt(['v=STSv1; ', 'id=20261130120000Z;']), state.id).status).toBe('published');
    expect(verifyStsTxt(sts!, { status: 'nxdomain', cnameChain: [] }, state.id).status).toBe('missing');
    expect(verifyStsTxt(sts!, txt(['v=spf1 -all']), state.id).status).toBe('missing');
    const stale = verifyStsTxt(sts!, txt(['v=STSv1; id=20250101000000Z']), state.id);
    expect(stale.status).toBe('different');
    expect(stale.detail).toContain('20250101000000Z');
    expect(stale.fix).toContain('"v=STSv1; id=20261130120000Z"');
    expect(stale.fix).toContain('once https://mta-sts.example.com/.well-known/mta-sts.txt serves');
    expect(verifyStsTxt(sts!, txt(['v=STSv1; id=a'], ['v=STSv1; id=b']), state.id).status).toBe('different');
    expect(verifyStsTxt(sts!, { status: 'error', error: 'servfail', detail: 'x' }, state.id).status).toBe(
      'lookup-failed',
    );
  });

  it('compares the CNAME target and the TLS-RPT addresses', () => {
    const c = (records: string[]) => ({ status: 'ok' as const, records, cnameChain: [] });
    expect(verifyCname(cname!, c(['OctoCat.github.io.'])).status).toBe('published');
    expect(verifyCname(cname!, c(['other.github.io'])).status).toBe('different');
    expect(verifyCname(cname!, { status: 'nodata', cnameChain: [] }, c(['192.0.2.1'])).status).toBe(
      'different',
    );
    expect(verifyCname(cname!, { status: 'nxdomain', cnameChain: [] }).status).toBe('missing');
    expect(verifyTlsrptTxt(tlsrpt!, txt(['v=TLSRPTv1; rua=mailto:tlsrpt@reports.example.net'])).status).toBe(
      'published',
    );
    expect(verifyTlsrptTxt(tlsrpt!, txt(['v=TLSRPTv1; rua=mailto:other@reports.example.net'])).status).toBe(
      'different',
    );
    expect(verifyTlsrptTxt(tlsrpt!, { status: 'nodata', cnameChain: [] }).status).toBe('missing');
    expect(
      verifyPolicyHostAddresses(
        'mta-sts.example.com',
        { status: 'nodata', cnameChain: [] },
        { status: 'error', error: 'timeout', detail: 't' },
      ).status,
    ).toBe('lookup-failed');
  });
});
