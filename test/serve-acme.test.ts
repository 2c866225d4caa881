// ACME end to end against Pebble (Debian `pebble`): `mta-sts serve` obtains a certificate for a
// configured mta-sts.<domain> by a real HTTP-01 validation (Pebble resolves the name through the
// simulator's DNS and fetches the token from our --http-listen port), then `mta-sts check`, with
// Pebble's root as --ca-file, passes on the domain.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulation, startSimulation } from '../src/sim/simulation.js';
import { runCli } from './helpers/cli.js';
import { freePort, type PebbleInstance, pebbleAvailable, startPebble } from './helpers/pebble.js';
import { configYaml, type ServeProcess, spawnServe } from './helpers/serve.js';

const available = pebbleAvailable();
if (!available && process.env.CI) throw new Error('pebble is required in CI: apt-get install pebble');

describe.skipIf(!available)('mta-sts serve with ACME (Pebble)', () => {
  let sim: Simulation;
  let pebble: PebbleInstance;
  let serve: ServeProcess;
  let dir: string;
  let httpPort: number;

  beforeAll(async () => {
    sim = await startSimulation({
      domains: [
        {
          name: 'acme.example',
          mx: [{ host: 'mx1.acme.example', priority: 10 }],
          stsRecord: { id: '2025acme1' },
          policy: { mode: 'enforce', maxAge: 604800 },
          policyHost: { absent: true },
          tlsrpt: { rua: 'mailto:tlsrpt@reports.example' },
        },
      ],
      // The policy host is `mta-sts serve` on this machine.
      records: [{ name: 'mta-sts.acme.example', type: 'A', value: '127.0.0.1' }],
    });
    httpPort = await freePort();
    pebble = await startPebble({ httpPort, dnsServer: `${sim.dns.address}:${sim.dns.port}` });
    dir = await mkdtemp(join(tmpdir(), 'mta-sts-acme-'));
    await mkdir(join(dir, 'certs'));
    await writeFile(
      join(dir, 'mta-sts.yaml'),
      configYaml({ 'acme.example': { mode: 'enforce', mx: ['mx1.acme.example'] } }),
    );
  });
  afterAll(async () => {
    await serve?.stop();
    await pebble?.stop();
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('obtains a certificate by HTTP-01 and mta-sts check passes with Pebble as the trust anchor', {
    timeout: 90_000,
  }, async () => {
    serve = await spawnServe([
      '--config',
      join(dir, 'mta-sts.yaml'),
      '--certs',
      join(dir, 'certs'),
      '--listen',
      '127.0.0.1:0',
      '--http-listen',
      `127.0.0.1:${httpPort}`,
      '--no-dashboard',
      '--no-check',
      '--db',
      join(dir, 'reports.db'),
      '--acme-directory',
      pebble.directoryUrl,
      '--acme-email',
      'hostmaster@acme.example',
      '--acme-ca-file',
      pebble.apiCaFile,
      // The self-check would resolve the name through the system resolver, which does not know it.
      '--no-acme-self-check',
    ]);
    const outcome = await serve.waitFor(
      (l) => l.msg === 'certificate obtained' || l.msg === 'certificate request failed',
    );
    expect(outcome.msg, `${JSON.stringify(outcome)}\n${pebble.log().slice(-3000)}`).toBe(
      'certificate obtained',
    );
    // Pebble really validated over HTTP-01 against our listener.
    expect(pebble.log()).toMatch(
      /Attempting to validate w\/ HTTP: http:\/\/mta-sts\.acme\.example:\d+\/\.well-known\/acme-challenge\//,
    );
    const chain = await readFile(join(dir, 'certs', 'mta-sts.acme.example.pem'), 'utf8');
    expect(chain.match(/BEGIN CERTIFICATE/g)?.length).toBeGreaterThanOrEqual(2);

    const caFile = join(dir, 'trust.pem');
    await writeFile(caFile, `${await pebble.issuingRoot()}\n${sim.caPem}`);
    const connectTo = [
      ...sim.connectTo.map((c) => `${c.host}:${c.port}:${c.toAddress}:${c.toPort}`),
      `127.0.0.1:443:127.0.0.1:${serve.https.port}`,
    ];
    const r = await runCli([
      'check',
      'acme.example',
      '--json',
      '--no-system-ca',
      '--resolver',
      `${sim.dns.address}:${sim.dns.port}`,
      '--ca-file',
      caFile,
      ...connectTo.flatMap((c) => ['--connect-to', c]),
      '--timeout',
      '5',
    ]);
    const report = JSON.parse(r.stdout);
    expect(
      report.findings.filter((f: { severity: string }) => f.severity === 'error'),
      r.stdout,
    ).toEqual([]);
    expect(r.code).toBe(0);
    expect(report.verdict).toBe('ok');
    expect(report.policy.status).toBe(200);
    expect(report.policy.tls.certificate.trusted).toBe(true);
    expect(report.policy.tls.certificate.issuer).toMatch(/Pebble/i);
  });
});
