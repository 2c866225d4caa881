// The policy fetcher against a real nginx (Debian package `nginx`) serving a policy with a
// certificate from the simulator's CA; DNS still comes from the simulator.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsResolver } from '../src/node/dns.js';
import { createPolicyFetcher } from '../src/node/policy-fetch.js';
import { type Simulation, startSimulation } from '../src/sim/simulation.js';
import { type NginxInstance, nginxAvailable, startNginx } from './helpers/nginx.js';

const POLICY = 'version: STSv1\nmode: enforce\nmx: mx.nginx.test\nmax_age: 86400\n';
// In CI a missing nginx is a failure, not a skip.
const run = nginxAvailable() || process.env.CI ? describe : describe.skip;

run('policy fetch from a real nginx', () => {
  let sim: Simulation;
  let nginx: NginxInstance;
  let root: string;

  beforeAll(async () => {
    sim = await startSimulation({
      domains: [{ name: 'nginx.test', mx: [{ host: 'mx.nginx.test' }] }],
      records: [{ name: 'mta-sts.nginx.test', type: 'A', value: '127.1.200.1' }],
    });
    root = await mkdtemp(join(tmpdir(), 'mta-sts-nginx-root-'));
    await mkdir(join(root, '.well-known'));
    await writeFile(join(root, '.well-known', 'mta-sts.txt'), POLICY);
    const cert = await sim.issueCertificate(['mta-sts.nginx.test']);
    nginx = await startNginx({
      root,
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      serverName: 'mta-sts.nginx.test',
    });
  });

  afterAll(async () => {
    await nginx?.stop();
    await sim?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('fetches the policy over TLS with SNI and reports the certificate', async () => {
    const fetcher = createPolicyFetcher({
      dns: createDnsResolver({ servers: [`${sim.dns.address}:${sim.dns.port}`], timeoutMs: 1000, tries: 1 }),
      caPem: sim.caPem,
      useSystemCa: false,
      connectTo: [{ host: '127.1.200.1', port: 443, toAddress: '127.0.0.1', toPort: nginx.port }],
      timeoutMs: 5000,
    });
    const r = await fetcher.fetchPolicy('nginx.test');
    expect(r).toMatchObject({
      ok: true,
      status: 200,
      contentType: 'text/plain',
      address: '127.1.200.1',
      truncated: false,
    });
    if (!r.ok) return;
    expect(Buffer.from(r.body).toString()).toBe(POLICY);
    expect(r.headers.server).toMatch(/^nginx/);
    expect(r.tls).toMatchObject({ trusted: true });
    expect(['TLSv1.2', 'TLSv1.3']).toContain(r.tls.protocol);
    expect(r.tls.chain[0]?.dnsNames).toEqual(['mta-sts.nginx.test']);
  });

  it('reads a 404 from nginx as a status', async () => {
    const fetcher = createPolicyFetcher({
      dns: createDnsResolver({ servers: [`${sim.dns.address}:${sim.dns.port}`], timeoutMs: 1000, tries: 1 }),
      caPem: sim.caPem,
      useSystemCa: false,
      // Any host on port 443 goes to nginx, which has no policy for this name's path either way.
      connectTo: [{ host: '', port: 443, toAddress: '127.0.0.1', toPort: nginx.port }],
      timeoutMs: 5000,
    });
    await rm(join(root, '.well-known', 'mta-sts.txt'));
    const r = await fetcher.fetchPolicy('nginx.test');
    expect(r).toMatchObject({ ok: true, status: 404 });
    await writeFile(join(root, '.well-known', 'mta-sts.txt'), POLICY);
  });
});
