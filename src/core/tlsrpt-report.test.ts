import { describe, expect, it } from 'vitest';
import { parseTlsrptReport } from './tlsrpt-report.js';

const base = {
  'organization-name': 'Org',
  'date-range': { 'start-datetime': '2025-01-01T00:00:00Z', 'end-datetime': '2025-01-01T23:59:59Z' },
  'contact-info': 'a@b.example',
  'report-id': 'id-1',
  policies: [
    {
      policy: {
        'policy-type': 'sts',
        'policy-domain': 'Example.COM.',
        'policy-string': ['version: STSv1', 'mode: enforce'],
      },
      summary: { 'total-successful-session-count': 3, 'total-failure-session-count': 1 },
      'failure-details': [
        { 'result-type': 'certificate-expired', 'failed-session-count': 1, 'sending-mta-ip': '' },
      ],
    },
  ],
};

function parse(obj: unknown) {
  return parseTlsrptReport(JSON.stringify(obj));
}

function codes(obj: unknown): string[] {
  const r = parse(obj);
  if (!r.ok) throw new Error(r.findings[0]!.message);
  return r.findings.map((f) => f.code);
}

describe('parseTlsrptReport', () => {
  it('normalises a report', () => {
    const r = parse(base);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.policies[0]).toMatchObject({
      policyDomain: 'example.com',
      mode: 'enforce',
      successful: 3,
      failed: 1,
    });
    expect(r.value.policies[0]!.failureDetails[0]!.sendingMtaIp).toBeNull();
    expect(r.findings.map((f) => f.code)).toEqual(['tlsrpt-report.empty-ip']);
  });

  it('reads the schema placeholder names parsedmarc reads, but says so', () => {
    const obj = structuredClone(base) as any;
    obj.policies[0].policy['mx-host-pattern'] = ['*.example.com'];
    obj.policies[0]['failure-details'][0]['additional-info-uri'] = 'https://x.example/info';
    const r = parse(obj);
    if (!r.ok) throw new Error('failed');
    expect(r.value.policies[0]!.mxHosts).toEqual(['*.example.com']);
    expect(r.value.policies[0]!.failureDetails[0]!.additionalInformation).toBe('https://x.example/info');
    expect(r.findings.filter((f) => f.code === 'tlsrpt-report.alias-key')).toHaveLength(2);
  });

  it('notes oddities rather than dropping them', () => {
    expect(codes({ ...base, extra: 1 })).toContain('tlsrpt-report.unknown-key');
    expect(codes({ ...base, 'contact-info': null })).toContain('tlsrpt-report.contact-missing');
    expect(codes({ ...base, 'report-id': 'x+' })).toContain('tlsrpt-report.report-id-truncated');
    expect(codes({ ...base, 'report-id': 12345 })).toContain('tlsrpt-report.coerced');
    const s = structuredClone(base) as any;
    s.policies[0].summary['total-failure-session-count'] = '7';
    expect(codes(s)).toEqual(
      expect.arrayContaining(['tlsrpt-report.coerced', 'tlsrpt-report.summary-mismatch']),
    );
    const m = structuredClone(base) as any;
    m.policies[0].policy['mx-host'] = 'mx.example.com';
    expect(codes(m)).toContain('tlsrpt-report.mx-host-string');
    const d = structuredClone(base) as any;
    d['date-range'] = { 'start-datetime': '2025-01-01T01:00:00+01:00', 'end-datetime': '2025-01-02' };
    const r = parse(d);
    if (!r.ok) throw new Error('failed');
    expect(r.value.start).toBe('2025-01-01T00:00:00Z');
    expect(r.value.end).toBe('2025-01-02T00:00:00Z');
    expect(r.findings.map((f) => f.code)).toContain('tlsrpt-report.datetime-date-only');
  });

  it('refuses what cannot be a report, naming the place', () => {
    const bad = (obj: unknown) => {
      const r = typeof obj === 'string' ? parseTlsrptReport(obj) : parse(obj);
      expect(r.ok).toBe(false);
      return r.ok ? '' : r.findings[0]!.message;
    };
    expect(bad('[1,2]')).toMatch(/must be a JSON object/);
    expect(
      bad({
        ...base,
        'date-range': { 'start-datetime': '2025-02-30T00:00:00Z', 'end-datetime': '2025-03-01T00:00:00Z' },
      }),
    ).toMatch(/not a valid date/);
    const f = structuredClone(base) as any;
    delete f.policies[0]['failure-details'][0]['failed-session-count'];
    expect(bad(f)).toMatch(/policies\[0\]\.failure-details\[0\]: "failed-session-count" is missing/);
    expect(bad('\u0000')).toMatch(/invalid JSON/);
    expect(parseTlsrptReport(new Uint8Array([0x7b, 0xff, 0x7d])).ok).toBe(false);
    expect(parseTlsrptReport(JSON.stringify(base), { ...defaultLimits(), maxBytes: 10 }).ok).toBe(false);
  });
});

function defaultLimits() {
  return {
    maxBytes: 1e9,
    maxDepth: 12,
    maxPolicies: 1000,
    maxFailureDetails: 1000,
    maxPolicyLines: 1000,
    maxStringLength: 65536,
  };
}
