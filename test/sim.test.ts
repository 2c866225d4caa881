// The simulated mail domain itself: DNS on the wire, the emitted connect-to map and flags,
// the scenario's placement of records, clean stops, and the `mta-sts sim` command.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import * as dnsPacket from 'dns-packet';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../src/node/connect-to.js';
import { createDnsResolver } from '../src/node/dns.js';
import { createPolicyFetcher } from '../src/node/policy-fetch.js';
import { createSmtpProber } from '../src/node/smtp-probe.js';
import { demoScenario } from '../src/sim/demo-scenario.js';
import { parseScenarioYaml } from '../src/sim/scenario.js';
import { type Simulation, startSimulation } from '../src/sim/simulation.js';

function rawQuery(port: number, name: string, type: dnsPacket.RecordType): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no answer'));
    }, 2000);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(dnsPacket.decode(msg));
    });
    socket.send(
      dnsPacket.encode({ type: 'query', id: 4242, questions: [{ name, type }] }),
      port,
      '127.0.0.1',
    );
  });
}

describe('the simulator', () => {
  let sim: Simulation;
  beforeAll(async () => {
    sim = await startSimulation({
      domains: [
        ...(demoScenario.domains ?? []),
        { name: 'apex.test', stsRecord: { id: 'apex1', atApex: true } },
        { name: 'legacy.test', tlsrpt: { rua: 'mailto:r@else.test', legacyName: true } },
        { name: 'multi.test', stsRecord: { records: ['v=STSv1; id=one;', 'v=STSv1; id=two;'] } },
        { name: 'implicit.test', apexAddresses: 1 },
      ],
    });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('answers authoritatively on the wire, with the SOA on negative answers', async () => {
    const ok = await rawQuery(sim.dns.port, 'healthy.example', 'MX');
    expect(ok).toMatchObject({ id: 4242, flag_aa: true, rcode: 'NOERROR' });
    expect(ok.answers).toHaveLength(2);
    const nx = await rawQuery(sim.dns.port, 'nothing.healthy.example', 'A');
    expect(nx).toMatchObject({ flag_aa: true, rcode: 'NXDOMAIN' });
    expect(nx.authorities?.[0]).toMatchObject({ type: 'SOA', name: 'healthy.example' });
    const refused = await rawQuery(sim.dns.port, 'www.example.com', 'A');
    expect(refused).toMatchObject({ flag_aa: false, rcode: 'REFUSED' });
  });

  it('gives hosts loopback addresses and maps each one to a real listener', async () => {
    const dns = createDnsResolver({ servers: [`127.0.0.1:${sim.dns.port}`], timeoutMs: 1000, tries: 1 });
    const a = await dns.a('mx1.healthy.example');
    expect(a.status).toBe('ok');
    if (a.status !== 'ok') return;
    for (const address of a.records) {
      expect(address).toMatch(/^127\.1\./);
      const entry = sim.connectTo.find((c) => c.host === address && c.port === 25);
      expect(entry).toBeDefined();
      const socket = net.connect({ host: entry!.toAddress, port: entry!.toPort });
      const banner = await new Promise<string>((resolve) =>
        socket.once('data', (d) => resolve(d.toString())),
      );
      socket.destroy();
      expect(banner).toMatch(/^220 mx1\.healthy\.example /);
    }
  });

  it('accepts a message from a real SMTP client over STARTTLS', async () => {
    const mx = sim.hosts.find((h) => h.name === 'mx1.healthy.example')!;
    const transport = nodemailer.createTransport({
      host: mx.listen.address,
      port: mx.listen.port,
      secure: false,
      requireTLS: true,
      tls: { ca: [sim.caPem], servername: 'mx1.healthy.example' },
    });
    const before = sim.messages();
    await transport.sendMail({
      from: 'a@sender.test',
      to: 'b@healthy.example',
      subject: 'hi',
      text: 'hello',
    });
    transport.close();
    expect(sim.messages()).toBe(before + 1);
  });

  it('serves SMTP on the domain itself when it is the implicit MX', async () => {
    const dns = createDnsResolver({ servers: [`127.0.0.1:${sim.dns.port}`], timeoutMs: 1000, tries: 1 });
    expect((await dns.mx('implicit.test')).status).toBe('nodata');
    const a = await dns.a('implicit.test');
    expect(a.status).toBe('ok');
    if (a.status !== 'ok') return;
    const r = await createSmtpProber({ caPem: sim.caPem, connectTo: sim.connectTo, timeoutMs: 2000 }).probe(
      'implicit.test',
      a.records[0]!,
    );
    expect(r).toMatchObject({ starttls: 'offered', tls: { trusted: true } });
    expect(r.tls?.chain[0]?.dnsNames).toEqual(['implicit.test']);
  });

  it('lets SNI pick the certificate', async () => {
    const policy = sim.hosts.find((h) => h.name === 'mta-sts.healthy.example')!;
    const san = (servername?: string) =>
      new Promise<string | undefined>((resolve, reject) => {
        const s = tls.connect({
          host: policy.listen.address,
          port: policy.listen.port,
          ...(servername ? { servername } : {}),
          rejectUnauthorized: false,
        });
        s.once('secureConnect', () => {
          resolve(s.getPeerCertificate().subjectaltname);
          s.destroy();
        });
        s.once('error', reject);
      });
    expect(await san('mta-sts.healthy.example')).toBe('DNS:mta-sts.healthy.example');
    expect(await san('other.example')).toBe('DNS:sni-mismatch.invalid');
    expect(await san()).toBe('DNS:sni-mismatch.invalid');
  });

  it('emits check flags that parse back into the connect-to map', async () => {
    expect(sim.checkFlags.slice(0, 4)).toEqual([
      '--resolver',
      `127.0.0.1:${sim.dns.port}`,
      '--ca-file',
      sim.caFile,
    ]);
    expect(await readFile(sim.caFile, 'utf8')).toBe(sim.caPem);
    const specs = sim.checkFlags.filter((_, i) => sim.checkFlags[i - 1] === '--connect-to');
    expect(specs.map(parseConnectTo)).toEqual(sim.connectTo);
  });

  it('puts records where the scenario says', async () => {
    const dns = createDnsResolver({ servers: [`127.0.0.1:${sim.dns.port}`], timeoutMs: 1000, tries: 1 });
    expect(await dns.txt('apex.test')).toMatchObject({ status: 'ok', records: [['v=STSv1; id=apex1;']] });
    expect((await dns.txt('_mta-sts.apex.test')).status).toBe('nxdomain');
    expect(await dns.txt('_smtp-tlsrpt.legacy.test')).toMatchObject({ status: 'ok' });
    expect((await dns.txt('_smtp._tls.legacy.test')).status).toBe('nxdomain');
    const multi = await dns.txt('_mta-sts.multi.test');
    expect(multi.status === 'ok' && multi.records.length).toBe(2);
  });

  it('stops cleanly: ports closed, CA file removed', async () => {
    const other = await startSimulation({
      domains: [{ name: 'stop.test', mx: [{ host: 'mx.stop.test' }], stsRecord: { id: 'a' } }],
    });
    const smtp = other.connectTo[0]!;
    await other.stop();
    expect(existsSync(other.caFile)).toBe(false);
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect({ host: smtp.toAddress, port: smtp.toPort });
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('still answers with a delay on every DNS answer and TCP accept', async () => {
    const slow = await startSimulation({
      delayMs: 50,
      domains: [{ name: 'slow.test', mx: [{ host: 'mx.slow.test' }], stsRecord: { id: 's1' } }],
    });
    try {
      const dns = createDnsResolver({ servers: [`127.0.0.1:${slow.dns.port}`], timeoutMs: 2000, tries: 1 });
      expect(await dns.mx('slow.test')).toMatchObject({ status: 'ok' });
      // Bytes a client sends before the delayed accept completes (a TLS ClientHello) are not lost.
      const fetched = await createPolicyFetcher({
        dns,
        caPem: slow.caPem,
        connectTo: slow.connectTo,
      }).fetchPolicy('slow.test');
      expect(fetched).toMatchObject({ ok: true, status: 200 });
      const mx = slow.hosts.find((h) => h.kind === 'smtp')!;
      const probed = await createSmtpProber({ caPem: slow.caPem, connectTo: slow.connectTo }).probe(
        mx.name,
        mx.addresses[0]!,
      );
      expect(probed).toMatchObject({ starttls: 'offered', tls: { trusted: true } });
    } finally {
      await slow.stop();
    }
  });
});

describe('docs/sim.md', () => {
  it('has an example scenario that validates', async () => {
    const doc = await readFile(join(process.cwd(), 'docs/sim.md'), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(yaml).toBeDefined();
    const s = parseScenarioYaml(yaml ?? '', 'docs/sim.md');
    expect(s.domains.map((d) => d.name)).toEqual(['shop.example', 'hosted.example']);
  });
});

describe('mta-sts sim', () => {
  const cli = ['--import', 'tsx', join(process.cwd(), 'src/cli/bin.ts')];

  it('prints its flags as JSON, runs until SIGTERM, and exits 0', async () => {
    const child = spawn(process.execPath, [...cli, 'sim', '--demo', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const summary = await new Promise<{ checkFlags: string[]; domains: string[] }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no output: ${out}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        try {
          const parsed = JSON.parse(out);
          clearTimeout(timer);
          resolve(parsed);
        } catch {
          // not complete yet
        }
      });
    });
    expect(summary.domains).toEqual(['healthy.example', 'testing.example', 'stale.example']);
    expect(summary.checkFlags).toContain('--resolver');
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  it('rejects a bad scenario with exit 2 and names the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mta-sts-simtest-'));
    try {
      const file = join(dir, 'bad.yaml');
      await writeFile(
        file,
        'domains:\n  - name: a.test\n    mx:\n      - host: mx.a.test\n        faults: { tls10only: true }\n',
      );
      const child = spawn(process.execPath, [...cli, 'sim', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code).toBe(2);
      expect(err).toMatch(/domains\[0\]\.mx\[0\]\.faults: .*tls10only/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
