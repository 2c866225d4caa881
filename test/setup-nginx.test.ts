// The generated sites served by a real nginx (Debian package `nginx`) with certificates from the
// simulator's CA, DNS from the simulator: the GitHub Pages site passes `mta-sts check` with no
// error finding, and the generated nginx.conf serves exactly the policy, as text/plain.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initSite } from '../src/setup/workflow.js';
import { type Simulation, startSimulation } from '../src/sim/simulation.js';
import { runCli } from './helpers/cli.js';
import { NGINX_BIN, type NginxInstance, nginxAvailable, startNginx } from './helpers/nginx.js';

// In CI a missing nginx is a failure, not a skip.
const run = nginxAvailable() || process.env.CI ? describe : describe.skip;
// Each CLI run is a new Node process; on a loaded machine that takes seconds.
const slow = { timeout: 90_000 };
const PAGES_ADDRESS = '127.1.200.7';

run('a generated GitHub Pages site behind a real nginx', slow, () => {
  let sim: Simulation;
  let nginx: NginxInstance;
  let site: string;

  beforeAll(async () => {
    site = await mkdtemp(join(tmpdir(), 'mta-sts-pages-'));
    const result = await initSite({
      domain: 'pages.example',
      dir: site,
      mx: ['mx1.pages.example', 'mx2.pages.example'],
      mode: 'enforce',
      rua: ['mailto:tlsrpt@reports.example'],
      pagesHost: 'octocat.github.io',
    });
    if (!result.ok) throw new Error(JSON.stringify(result.findings));
    const d = result.domains[0]!;
    // DNS as a user publishes it: mta-sts CNAME to the pages host, _mta-sts with the current id.
    sim = await startSimulation({
      domains: [
        {
          name: 'pages.example',
          mx: [{ host: 'mx1.pages.example' }, { host: 'mx2.pages.example', priority: 20 }],
          stsRecord: { id: d.id },
          policyHost: { absent: true, faults: { cert: 'valid', tls10Only: false, dribble: false } },
          tlsrpt: { rua: d.rua[0] },
        },
      ],
      records: [
        { name: 'mta-sts.pages.example', type: 'CNAME', value: d.pagesHost! },
        { name: d.pagesHost!, type: 'A', value: PAGES_ADDRESS },
      ],
    });
    const cert = await sim.issueCertificate(['mta-sts.pages.example']);
    nginx = await startNginx({
      root: site,
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      serverName: 'mta-sts.pages.example',
    });
  });

  afterAll(async () => {
    await nginx?.stop();
    await sim?.stop();
    if (site) await rm(site, { recursive: true, force: true });
  });

  it('passes mta-sts check with no error finding', async () => {
    const r = await runCli([
      'check',
      'pages.example',
      '--json',
      '--no-system-ca',
      ...sim.checkFlags,
      '--connect-to',
      `${PAGES_ADDRESS}:443:127.0.0.1:${nginx.port}`,
    ]);
    const report = JSON.parse(r.stdout);
    if (process.env.SHOW_CHECK) console.log(r.stdout);
    const errors = report.findings.filter((f: { severity: string }) => f.severity === 'error');
    expect(errors).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('records --verify finds every record published', async () => {
    const r = await runCli([
      'records',
      '--dir',
      site,
      '--verify',
      '--resolver',
      `${sim.dns.address}:${sim.dns.port}`,
    ]);
    expect(r.stdout).not.toContain('✗');
    expect(r.code).toBe(0);
  });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function get(
  port: number,
  host: string,
  path: string,
  ca: string,
): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, path, servername: host, headers: { host }, ca },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          body += d;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ...(res.headers['content-type'] ? { type: res.headers['content-type'] } : {}),
            body,
          }),
        );
      },
    );
    req.on('error', reject);
  });
}

run('the generated nginx.conf in a real nginx', slow, () => {
  let sim: Simulation;
  let work: string;
  let child: ChildProcess | undefined;
  let port: number;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mta-sts-nginx-target-'));
    sim = await startSimulation({ domains: [{ name: 'a.example' }] });
    const tls = join(work, 'tls');
    await mkdir(tls);
    const certs: Record<string, { certFile: string; keyFile: string }> = {};
    for (const d of ['a.example', 'b.example']) {
      const c = await sim.issueCertificate([`mta-sts.${d}`]);
      certs[d] = { certFile: join(tls, `${d}.crt`), keyFile: join(tls, `${d}.key`) };
      await writeFile(certs[d].certFile, c.certPem);
      await writeFile(certs[d].keyFile, c.keyPem, { mode: 0o600 });
    }
    const config = join(work, 'mta-sts.yaml');
    await writeFile(
      config,
      'target: nginx\ndomains:\n  a.example: {mx: [mx.a.example], mode: enforce}\n  b.example: {mx: [mx.b.example]}\n',
    );
    const r = await runCli(['init', '--config', config, '--json']);
    expect(r.code).toBe(0);
    port = await freePort();
    const acme = await freePort();
    let conf = await readFile(join(work, 'sites/nginx.conf'), 'utf8');
    // Same file, test plumbing only: loopback ports, the test certificates, no IPv6 listeners.
    conf = conf
      .replace(/^\s*listen \[::\].*$/gm, '')
      .replaceAll('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`)
      .replaceAll('listen 80;', `listen 127.0.0.1:${acme};`);
    for (const d of ['a.example', 'b.example']) {
      conf = conf
        .replace(`/etc/letsencrypt/live/mta-sts.${d}/fullchain.pem`, certs[d]!.certFile)
        .replace(`/etc/letsencrypt/live/mta-sts.${d}/privkey.pem`, certs[d]!.keyFile);
    }
    await writeFile(join(work, 'generated.conf'), conf);
    await mkdir(join(work, 'tmp'));
    await writeFile(
      join(work, 'nginx.conf'),
      `${process.getuid?.() === 0 ? 'user root;' : ''}
daemon off;
worker_processes 1;
pid ${work}/nginx.pid;
error_log ${work}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${work}/tmp/body;
  proxy_temp_path ${work}/tmp/proxy;
  fastcgi_temp_path ${work}/tmp/fastcgi;
  uwsgi_temp_path ${work}/tmp/uwsgi;
  scgi_temp_path ${work}/tmp/scgi;
  include ${work}/generated.conf;
}
`,
    );
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await sim?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('passes nginx -t and serves exactly the policy, as text/plain, per host', async () => {
    const args = ['-p', work, '-c', join(work, 'nginx.conf'), '-e', join(work, 'error.log')];
    await promisify(execFile)(NGINX_BIN, [...args, '-t']);
    child = spawn(NGINX_BIN, args, { stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (up) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const a = await get(port, 'mta-sts.a.example', '/.well-known/mta-sts.txt', sim.caPem);
    expect(a).toMatchObject({
      status: 200,
      body: 'version: STSv1\nmode: enforce\nmx: mx.a.example\nmax_age: 604800\n',
    });
    expect(a.type).toMatch(/^text\/plain/);
    const b = await get(port, 'mta-sts.b.example', '/.well-known/mta-sts.txt', sim.caPem);
    expect(b.body).toContain('mx: mx.b.example\n');
    expect((await get(port, 'mta-sts.a.example', '/', sim.caPem)).status).toBe(404);
    expect((await get(port, 'mta-sts.a.example', '/.mta-sts/state.json', sim.caPem)).status).toBe(404);
  });
});
