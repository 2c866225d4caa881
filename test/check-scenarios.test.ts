// One scenario per finding code of `mta-sts check`, all on one simulated mail domain on loopback:
// each domain shows one fault, and the check must report exactly that code (and the healthy
// domain nothing at all).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '../src/check/check-domain.js';
import { checkDomains } from '../src/check/run.js';
import type { ScenarioInput } from '../src/sim/scenario.js';
import { type Simulation, startSimulation } from '../src/sim/simulation.js';
import { runCli } from './helpers/cli.js';

type DomainInput = ScenarioInput['domains'][number];
const d = (name: string, over: Partial<DomainInput> = {}): DomainInput => ({
  name,
  mx: [{ host: `mx.${name}`, priority: 10 }],
  stsRecord: { id: '20261130000000Z' },
  policy: { mode: 'enforce', maxAge: 604800 },
  tlsrpt: { rua: 'mailto:tlsrpt@reports.example' },
  ...over,
});

// [domain, expected code, its severity when reported, extra scenario settings]
const CASES: Array<{ domain: DomainInput; code: string; severity: string; resultType?: string }> = [
  {
    domain: d('no-sts.test', { stsRecord: undefined, policy: undefined }),
    code: 'sts-record.absent',
    severity: 'info',
  },
  { domain: d('unannounced.test', { stsRecord: undefined }), code: 'policy.unannounced', severity: 'info' },
  {
    domain: d('txt-servfail.test'),
    code: 'sts-record.lookup-failed',
    severity: 'error',
    resultType: 'sts-policy-fetch-error',
  },
  {
    domain: d('apex.test', { stsRecord: { id: 'abc', atApex: true } }),
    code: 'sts-record.at-apex',
    severity: 'error',
  },
  {
    domain: d('two-records.test', { stsRecord: { records: ['v=STSv1; id=a', 'v=STSv1; id=b'] } }),
    code: 'sts-record.multiple',
    severity: 'error',
  },
  {
    domain: d('bad-id.test', { stsRecord: { text: 'v=STSv1; id=2026-11-30' } }),
    code: 'sts-record.id',
    severity: 'error',
  },
  {
    domain: d('no-host.test', { policyHost: { absent: true } }),
    code: 'policy.host-unresolvable',
    severity: 'error',
    resultType: 'sts-policy-fetch-error',
  },
  {
    domain: d('conn-fail.test', { policyHost: { absent: true } }),
    code: 'policy.connect-failed',
    severity: 'error',
    resultType: 'sts-policy-fetch-error',
  },
  {
    domain: d('slow.test', { policyHost: { faults: { responseDelayMs: 60_000 } } }),
    code: 'policy.timeout',
    severity: 'error',
  },
  {
    domain: d('self-signed.test', { policyHost: { faults: { cert: 'self-signed' } } }),
    code: 'policy.cert-untrusted',
    severity: 'error',
    resultType: 'sts-webpki-invalid',
  },
  {
    domain: d('expired.test', { policyHost: { faults: { cert: 'expired' } } }),
    code: 'policy.cert-expired',
    severity: 'error',
    resultType: 'sts-webpki-invalid',
  },
  {
    domain: d('future.test', { policyHost: { faults: { cert: 'not-yet-valid' } } }),
    code: 'policy.cert-expired',
    severity: 'error',
  },
  {
    domain: d('wrong-name.test', { policyHost: { faults: { cert: 'wrong-name' } } }),
    code: 'policy.cert-name-mismatch',
    severity: 'error',
    resultType: 'sts-webpki-invalid',
  },
  {
    domain: d('tls10.test', { policyHost: { faults: { tls10Only: true } } }),
    code: 'policy.tls-version',
    severity: 'error',
    resultType: 'sts-webpki-invalid',
  },
  {
    domain: d('status404.test', { policyHost: { faults: { status: 404 } } }),
    code: 'policy.http-status',
    severity: 'error',
    resultType: 'sts-policy-fetch-error',
  },
  {
    domain: d('redirect.test', {
      policyHost: { faults: { status: 301, location: 'https://www.redirect.test/mta-sts.txt' } },
    }),
    code: 'policy.redirect',
    severity: 'error',
  },
  {
    domain: d('html.test', { policyHost: { faults: { contentType: 'text/html' } } }),
    code: 'policy.content-type',
    severity: 'warning',
  },
  {
    domain: d('huge.test', { policyHost: { faults: { oversizeBytes: 10 * 1024 * 1024 } } }),
    code: 'policy.too-large',
    severity: 'error',
    resultType: 'sts-policy-invalid',
  },
  {
    domain: d('template.test', {
      policy: {
        text: 'version: STSv1\nmode: [enforce|testing|none] # 1.\nmx: mx.template.test\nmax_age: 604800\n',
      },
    }),
    code: 'policy.mode',
    severity: 'error',
    resultType: 'sts-policy-invalid',
  },
  { domain: d('mx-servfail.test'), code: 'mx.lookup-failed', severity: 'error' },
  {
    domain: d('implicit.test', {
      mx: [],
      apexAddresses: 1,
      policy: { mode: 'enforce', maxAge: 604800, mx: ['implicit.test'] },
    }),
    code: 'mx.implicit',
    severity: 'info',
  },
  {
    domain: d('uncovered.test', {
      mx: [{ host: 'mx1.uncovered.test' }, { host: 'mx2.uncovered.test' }],
      policy: { mode: 'enforce', maxAge: 604800, mx: ['mx1.uncovered.test'] },
    }),
    code: 'mx.not-covered',
    severity: 'error',
    resultType: 'validation-failure',
  },
  {
    domain: d('uncovered-testing.test', {
      mx: [{ host: 'mx1.uncovered-testing.test' }, { host: 'mx2.uncovered-testing.test' }],
      policy: { mode: 'testing', maxAge: 604800, mx: ['mx1.uncovered-testing.test'] },
    }),
    code: 'mx.not-covered',
    severity: 'warning',
  },
  {
    domain: d('unused.test', {
      policy: { mode: 'enforce', maxAge: 604800, mx: ['mx.unused.test', 'old.unused.test'] },
    }),
    code: 'mx.pattern-unused',
    severity: 'info',
  },
  {
    domain: d('smtp-down.test', { mx: [{ host: 'mx.smtp-down.test', faults: { down: true } }] }),
    code: 'smtp.connect-failed',
    severity: 'error',
  },
  {
    domain: d('no-banner.test', { mx: [{ host: 'mx.no-banner.test', faults: { noBanner: true } }] }),
    code: 'smtp.connect-failed',
    severity: 'error',
  },
  {
    domain: d('no-starttls.test', { mx: [{ host: 'mx.no-starttls.test', faults: { noStarttls: true } }] }),
    code: 'smtp.starttls-missing',
    severity: 'error',
    resultType: 'starttls-not-supported',
  },
  {
    domain: d('refused.test', { mx: [{ host: 'mx.refused.test', faults: { starttlsRefused: true } }] }),
    code: 'smtp.starttls-missing',
    severity: 'error',
    resultType: 'starttls-not-supported',
  },
  {
    domain: d('smtp-tls10.test', { mx: [{ host: 'mx.smtp-tls10.test', faults: { tls10Only: true } }] }),
    code: 'smtp.tls-version',
    severity: 'error',
    resultType: 'validation-failure',
  },
  {
    domain: d('smtp-self.test', { mx: [{ host: 'mx.smtp-self.test', faults: { cert: 'self-signed' } }] }),
    code: 'smtp.cert-untrusted',
    severity: 'error',
    resultType: 'certificate-not-trusted',
  },
  {
    domain: d('smtp-expired.test', { mx: [{ host: 'mx.smtp-expired.test', faults: { cert: 'expired' } }] }),
    code: 'smtp.cert-expired',
    severity: 'error',
    resultType: 'certificate-expired',
  },
  {
    domain: d('smtp-name.test', { mx: [{ host: 'mx.smtp-name.test', faults: { cert: 'wrong-name' } }] }),
    code: 'smtp.cert-name-mismatch',
    severity: 'error',
    resultType: 'certificate-host-mismatch',
  },
  {
    domain: d('smtp-expiring.test', {
      mx: [{ host: 'mx.smtp-expiring.test', faults: { certExpiresInDays: 5 } }],
    }),
    code: 'smtp.cert-expiring',
    severity: 'warning',
  },
  { domain: d('no-tlsrpt.test', { tlsrpt: undefined }), code: 'tlsrpt-record.absent', severity: 'warning' },
  {
    domain: d('legacy.test', { tlsrpt: { rua: 'mailto:tlsrpt@reports.example', legacyName: true } }),
    code: 'tlsrpt-record.legacy-name',
    severity: 'error',
  },
  {
    domain: d('self-rua.test', { tlsrpt: { rua: 'mailto:tlsrpt@self-rua.test' } }),
    code: 'tlsrpt-record.rua-self-domain',
    severity: 'warning',
  },
  {
    domain: d('bad-rua.test', { tlsrpt: { text: 'v=TLSRPTv1; rua=tlsrpt@reports.example' } }),
    code: 'tlsrpt-record.rua-invalid',
    severity: 'error',
  },
];

// Without a policy in force, an MX's TLS faults are warnings: senders use opportunistic TLS.
CASES.push(
  // A %XX that is not UTF-8 in a mailto: rua must not stop the check (it once threw URIError).
  {
    domain: d('bad-percent.test', { tlsrpt: { text: 'v=TLSRPTv1; rua=mailto:a%C3@bad-percent.test' } }),
    code: 'tlsrpt-record.rua-self-domain',
    severity: 'warning',
  },
  {
    domain: d('no-sts-self-signed.test', {
      stsRecord: undefined,
      policy: undefined,
      mx: [{ host: 'mx.no-sts-self-signed.test', faults: { cert: 'self-signed' } }],
    }),
    code: 'smtp.cert-untrusted',
    severity: 'warning',
  },
  {
    domain: d('mode-none.test', {
      policy: { mode: 'none', maxAge: 86400 },
      mx: [{ host: 'mx.mode-none.test', faults: { cert: 'wrong-name' } }],
    }),
    code: 'smtp.cert-name-mismatch',
    severity: 'warning',
  },
);

const scenario: ScenarioInput = {
  domains: [
    d('healthy.test', {
      mx: [
        { host: 'mx1.healthy.test', addresses: 2 },
        { host: 'mx2.healthy.test', priority: 20 },
      ],
    }),
    d('split.test', { stsRecord: { records: [['v=STSv1; id=2026', '1130000000Z']] } }),
    d('cname.test', { stsRecord: { id: 'delegated1', cnameTo: 'cname-target.provider.test' } }),
    d('smtp-self-expired.test', {
      mx: [{ host: 'mx.smtp-self-expired.test', faults: { cert: 'self-signed-expired' } }],
    }),
    ...CASES.map((c) => c.domain),
  ],
  dnsFaults: [
    { name: '_mta-sts.txt-servfail.test', type: 'TXT', fault: 'servfail' },
    { name: 'mx-servfail.test', type: 'MX', fault: 'servfail' },
  ],
  // An address where nothing listens: the connection is refused at once.
  records: [{ name: 'mta-sts.conn-fail.test', type: 'A', value: '127.1.250.1' }],
};

let sim: Simulation;
const reports = new Map<string, CheckReport>();
const flags = () => ({
  resolvers: [`${sim.dns.address}:${sim.dns.port}`],
  caFile: sim.caFile,
  connectTo: sim.connectTo.map((c) => `${c.host}:${c.port}:${c.toAddress}:${c.toPort}`),
});

/** The flags that reach the simulator, as a user would give them to the CLI. */
const cliArgs = () => {
  const f = flags();
  return [
    '--resolver',
    f.resolvers[0]!,
    '--ca-file',
    f.caFile,
    '--no-system-ca',
    '--timeout',
    '3',
    ...f.connectTo.flatMap((c) => ['--connect-to', c]),
  ];
};

beforeAll(async () => {
  sim = await startSimulation(scenario);
  const names = scenario.domains.map((x) => x.name);
  const results = await checkDomains(names, {
    ...flags(),
    noSystemCa: true,
    timeoutSeconds: 5,
    concurrency: 16,
  });
  for (const r of results) reports.set(r.domain, r);
}, 120_000);
afterAll(async () => {
  await sim?.stop();
});

describe('mta-sts check against the simulated domain', () => {
  it('the healthy domain passes with no error and no warning', () => {
    const r = reports.get('healthy.test')!;
    expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(r.verdict).toBe('ok');
    expect(r.record.value?.id).toBe('20261130000000Z');
    expect(r.policy).toMatchObject({
      fetched: true,
      status: 200,
      value: { mode: 'enforce', maxAge: 604800 },
    });
    expect(r.mx.map((m) => m.host)).toEqual(['mx1.healthy.test', 'mx2.healthy.test']);
    expect(r.mx[0]!.addresses).toHaveLength(2);
    expect(
      r.mx.flatMap((m) => m.smtp).every((s) => s.starttls === 'offered' && s.tls?.certificate?.trusted),
    ).toBe(true);
    expect(r.tlsrpt.value?.rua).toEqual(['mailto:tlsrpt@reports.example']);
  });

  it('joins a split TXT record and follows a CNAME-delegated _mta-sts record', () => {
    expect(reports.get('split.test')!.verdict).toBe('ok');
    const c = reports.get('cname.test')!;
    expect(c.verdict).toBe('ok');
    expect(c.record.cnameChain).toEqual(['cname-target.provider.test']);
    expect(c.record.value?.id).toBe('delegated1');
  });

  it.each(CASES.map((c) => [`${c.code} (${c.domain.name})`, c] as const))('%s', (_n, c) => {
    const r = reports.get(c.domain.name)!;
    const f = r.findings.find((x) => x.code === c.code);
    expect(f, `${c.code} missing; got ${r.findings.map((x) => x.code).join(', ')}`).toBeDefined();
    expect(f!.severity).toBe(c.severity);
    if (c.resultType) expect(f!.resultType).toBe(c.resultType);
    expect(f!.message.length).toBeGreaterThan(0);
  });

  it('an expired self-signed certificate is both untrusted and expired (OpenSSL names only one)', () => {
    const codes = reports.get('smtp-self-expired.test')!.findings.map((f) => f.code);
    expect(codes).toEqual(expect.arrayContaining(['smtp.cert-untrusted', 'smtp.cert-expired']));
    // …while a CA-issued expired certificate is only expired.
    expect(reports.get('smtp-expired.test')!.findings.map((f) => f.code)).not.toContain(
      'smtp.cert-untrusted',
    );
  });

  it('names the subject of per-host findings', () => {
    const f = reports.get('smtp-name.test')!.findings.find((x) => x.code === 'smtp.cert-name-mismatch')!;
    expect(f.subject).toMatch(/^mx\.smtp-name\.test \(127\./);
    const redirect = reports.get('redirect.test')!.findings.find((x) => x.code === 'policy.redirect')!;
    expect(redirect.message).toContain('https://www.redirect.test/mta-sts.txt');
  });

  it('verdicts: none without a record, fail on errors, warn on warnings only', () => {
    expect(reports.get('no-sts.test')!.verdict).toBe('none');
    expect(reports.get('unannounced.test')!.verdict).toBe('none');
    expect(reports.get('no-sts.test')!.findings.map((f) => f.code)).not.toContain('policy.unannounced');
    expect(reports.get('status404.test')!.verdict).toBe('fail');
    expect(reports.get('html.test')!.verdict).toBe('warn');
    // DNS trouble is not absence: a SERVFAIL is an error, never verdict none.
    expect(reports.get('txt-servfail.test')!.verdict).toBe('fail');
  });

  it('the CLI: human output per step, --json contract, exit codes', async () => {
    const args = cliArgs();
    const ok = await runCli(['check', 'healthy.test', ...args]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/✓ DNS record/);
    expect(ok.stdout).toMatch(/✓ STARTTLS\s+3\/3 addresses/);
    expect(ok.stdout).toMatch(/verdict: ok/);
    const bad = await runCli(['check', '--json', 'healthy.test', 'smtp-name.test', ...args]);
    expect(bad.code).toBe(1);
    const j = JSON.parse(bad.stdout);
    expect(Array.isArray(j)).toBe(true);
    expect(j.map((x: CheckReport) => x.domain)).toEqual(['healthy.test', 'smtp-name.test']);
    for (const key of ['domain', 'verdict', 'findings', 'record', 'policy', 'mx', 'tlsrpt'])
      expect(j[1]).toHaveProperty(key);
    expect(j[1].mx[0]).toHaveProperty('smtp');
    const one = JSON.parse((await runCli(['check', '--json', '--no-smtp', 'healthy.test', ...args])).stdout);
    expect(one.domain).toBe('healthy.test');
    expect(one.mx[0].smtp).toEqual([]);
    expect((await runCli(['check', 'healthy.test', '--resolver', 'not-an-ip'])).code).toBe(2);
    expect((await runCli(['check', 'exa mple.test'])).code).toBe(2);
    expect((await runCli(['check', 'healthy.test', '--connect-to', 'garbage'])).code).toBe(2);
  });

  it('mta-sts scan: a list of domains, summarised, --json and --csv', async () => {
    const args = cliArgs();
    const list =
      '# customers\nhealthy.test\nsmtp-name.test  # broken MX certificate\nno-sts.test\nHEALTHY.test.\n';
    const r = await runCli(['scan', '-', '--json', ...args], { input: list });
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.duplicatesSkipped).toBe(1);
    expect(j.summary.byVerdict).toEqual({ ok: 1, warn: 0, fail: 1, none: 1 });
    expect(j.domains.find((e: { domain: string }) => e.domain === 'smtp-name.test').errors).toEqual([
      'smtp.cert-name-mismatch',
    ]);
    const csv = await runCli(['scan', '-', '--csv', ...args], { input: 'healthy.test\n' });
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe('domain,verdict,mode,errors,warnings\nhealthy.test,ok,enforce,,\n');
    expect((await runCli(['scan', '-'], { input: '# nothing\n' })).code).toBe(2);
  });
});

describe('mta-sts check with slow DNS answers and TCP accepts', () => {
  it('still passes the healthy domain (early client bytes such as a TLS ClientHello are not lost)', async () => {
    const slow = await startSimulation({
      delayMs: 50,
      domains: [d('slow-net.test', { mx: [{ host: 'mx.slow-net.test', addresses: 2 }] })],
    });
    try {
      const [r] = await checkDomains(['slow-net.test'], {
        resolvers: [`${slow.dns.address}:${slow.dns.port}`],
        caFile: slow.caFile,
        noSystemCa: true,
        connectTo: slow.connectTo.map((c) => `${c.host}:${c.port}:${c.toAddress}:${c.toPort}`),
        timeoutSeconds: 5,
      });
      expect(r!.findings.filter((f) => f.severity !== 'info')).toEqual([]);
      expect(r!.mx[0]!.smtp.map((s) => s.starttls)).toEqual(['offered', 'offered']);
    } finally {
      await slow.stop();
    }
  });
});
