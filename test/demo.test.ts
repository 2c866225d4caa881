// `mta-sts demo` end to end, as the README's "run it" command: it must tell each story.
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

describe('mta-sts demo', () => {
  it('checks the three simulated domains and summarises their TLS reports, offline', async () => {
    const r = await runCli(['demo', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const verdicts = Object.fromEntries(
      j.checks.map((c: { domain: string; verdict: string }) => [c.domain, c.verdict]),
    );
    expect(verdicts).toEqual({ 'healthy.example': 'ok', 'testing.example': 'fail', 'stale.example': 'fail' });
    const codes = (d: string) =>
      j.checks.find((c: { domain: string }) => c.domain === d).findings.map((f: { code: string }) => f.code);
    expect(codes('testing.example')).toContain('smtp.cert-name-mismatch');
    expect(codes('stale.example')).toEqual(
      expect.arrayContaining(['mx.not-covered', 'tlsrpt-record.rua-self-domain']),
    );
    // The set-up story: the healthy domain serves exactly the site `init` generated, under its id.
    const healthy = j.checks.find((c: { domain: string }) => c.domain === 'healthy.example');
    expect(j.setup.files).toContain('.well-known/mta-sts.txt');
    expect(healthy.record.value.id).toBe(j.setup.id);
    expect(healthy.policy.text).toBe(j.setup.policy);
    expect(j.setup.id).toMatch(/^\d{14}Z$/);
    expect(j.reports.ingested).toBeGreaterThan(0);
    expect(j.reports.byDomain['healthy.example'].failed).toBe(0);
    expect(j.reports.byDomain['testing.example'].failed).toBeGreaterThan(0);
    expect(j.reports.summary.byResultType['certificate-host-mismatch']).toBeGreaterThan(0);
  });

  it('human output walks through the steps', async () => {
    const r = await runCli(['demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1\. mta-sts init healthy\.example/);
    expect(r.stdout).toMatch(/2\. mta-sts check/);
    expect(r.stdout).toMatch(/verdict: ok/);
    expect(r.stdout).toMatch(/3\. TLS reports/);
  });
});
