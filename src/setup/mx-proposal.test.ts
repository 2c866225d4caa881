import { describe, expect, it } from 'vitest';
import { proposeMxPatterns } from './mx-proposal.js';

const ok = (records: Array<{ exchange: string; priority: number }>) => ({
  status: 'ok' as const,
  records,
  cnameChain: [],
});

describe('proposeMxPatterns', () => {
  it('lists exact names by priority and only suggests a wildcard', () => {
    const p = proposeMxPatterns(
      'example.com',
      ok([
        { exchange: 'MX2.example.com.', priority: 20 },
        { exchange: 'mx1.example.com.', priority: 10 },
        { exchange: 'mx.other.net', priority: 30 },
      ]),
    );
    expect(p.patterns).toEqual(['mx1.example.com', 'mx2.example.com', 'mx.other.net']);
    expect(p.findings.map((f) => f.code)).toEqual(['setup.mx-wildcard-possible']);
    expect(p.findings[0]!.hint).toContain("--add-mx '*.example.com'");
  });

  it('does not suggest a wildcard for a lone host or a top-level parent', () => {
    expect(
      proposeMxPatterns('example.com', ok([{ exchange: 'mail.example.com', priority: 10 }])).findings,
    ).toEqual([]);
    expect(
      proposeMxPatterns(
        'a.com',
        ok([
          { exchange: 'a.com', priority: 1 },
          { exchange: 'b.com', priority: 2 },
        ]),
      ).findings,
    ).toEqual([]);
  });

  it('fails clearly on no MX, a null MX and a failed lookup', () => {
    expect(proposeMxPatterns('example.com', { status: 'nodata', cnameChain: [] }).findings[0]!.code).toBe(
      'setup.no-mx',
    );
    expect(proposeMxPatterns('example.com', { status: 'nxdomain', cnameChain: [] }).findings[0]!.code).toBe(
      'setup.no-mx',
    );
    expect(proposeMxPatterns('example.com', ok([{ exchange: '.', priority: 0 }])).findings[0]!.code).toBe(
      'setup.null-mx',
    );
    const failed = proposeMxPatterns('example.com', {
      status: 'error',
      error: 'servfail',
      detail: 'SERVFAIL from 127.0.0.1',
    });
    expect(failed.findings[0]!.code).toBe('setup.mx-lookup-failed');
    expect(failed.patterns).toEqual([]);
  });
});
