// startSimulation: a whole simulated mail domain on loopback from one scenario: an
// authoritative DNS server, an HTTPS policy host per domain, an SMTP server per MX host,
// certificates from a fresh CA, and the --connect-to map that routes the checker to them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatConnectTo } from '../node/connect-to.js';
import type { ConnectTo } from '../ports.js';
import { createTestCa, type IssuedCertificate, type LeafOptions, type TestCa } from './ca.js';
import { startSimDnsServer } from './dns-server.js';
import { closedPort } from './listener.js';
import { startSimPolicyHost } from './policy-host.js';
import {
  type CertKind,
  parseScenario,
  type Scenario,
  type ScenarioDomain,
  type ScenarioInput,
  type ScenarioMx,
} from './scenario.js';
import { startSimSmtpHost } from './smtp-host.js';
import { SimZoneData, splitTxt } from './zone.js';

const DAY_MS = 86_400_000;

export interface SimulationOptions {
  /** Where the servers listen, default 127.0.0.1. */
  host?: string;
  /** DNS port, default 0 (any free port). */
  dnsPort?: number;
  /** The clock for certificate validity, default now. */
  now?: Date;
}

export interface SimHost {
  name: string;
  kind: 'policy' | 'smtp';
  /** The loopback addresses DNS gives for the name (127.1.x.y). */
  addresses: string[];
  /** The port the checker would use (443 / 25). */
  port: number;
  /** Where that really goes on this machine. */
  listen: { address: string; port: number };
}

export interface Simulation {
  scenario: Scenario;
  dns: { address: string; port: number };
  caPem: string;
  caFile: string;
  connectTo: ConnectTo[];
  /** Flags for `mta-sts check` that reach this simulation. */
  checkFlags: string[];
  hosts: SimHost[];
  /** SMTP messages accepted so far, over all MX hosts. */
  messages(): number;
  /** Resolves when the next HTTPS request for mta-sts.<domain> arrives (for tests, instead of sleeping). */
  nextPolicyRequest(domain: string): Promise<void>;
  /** Issue a further certificate from the simulation's CA (e.g. for a real server in a test). */
  issueCertificate(
    dnsNames: string[],
    faults?: { cert: CertKind; certExpiresInDays?: number },
  ): Promise<IssuedCertificate>;
  stop(): Promise<void>;
}

/** Hand out distinct loopback addresses 127.1.0.1, 127.1.0.2, … (never .0 or .255). */
function addressAllocator(): () => string {
  let n = 0;
  return () => {
    n++;
    if ((n & 255) === 0) n++;
    if ((n & 255) === 255) n += 2;
    return `127.${1 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
  };
}

export function leafOptionsFor(
  name: string,
  faults: { cert: CertKind; certExpiresInDays?: number | undefined },
  now: Date,
): LeafOptions {
  const t = now.getTime();
  const valid = {
    dnsNames: [name],
    notBefore: new Date(t - 3600_000),
    // An hour of slack so that "expires in N days" still reads N days when checked.
    notAfter: new Date(t + (faults.certExpiresInDays ?? 90) * DAY_MS + 3600_000),
  };
  switch (faults.cert) {
    case 'expired':
      return { ...valid, notBefore: new Date(t - 100 * DAY_MS), notAfter: new Date(t - 10 * DAY_MS) };
    case 'not-yet-valid':
      return { ...valid, notBefore: new Date(t + 10 * DAY_MS), notAfter: new Date(t + 100 * DAY_MS) };
    case 'wrong-name':
      return { ...valid, dnsNames: ['wrong-name.invalid'] };
    case 'self-signed':
      return { ...valid, selfSigned: true };
    case 'self-signed-expired':
      return {
        ...valid,
        selfSigned: true,
        notBefore: new Date(t - 100 * DAY_MS),
        notAfter: new Date(t - 10 * DAY_MS),
      };
    default:
      return valid;
  }
}

/** The policy text a domain serves: the scenario's text, or one built from its fields. */
export function policyBody(domain: ScenarioDomain): string {
  const policy = domain.policy ?? {
    mode: 'enforce' as const,
    maxAge: 604800,
    mx: undefined,
    text: undefined,
  };
  if (policy.text !== undefined) return policy.text;
  const mx = policy.mx ?? domain.mx.map((m) => m.host);
  const lines = [
    'version: STSv1',
    `mode: ${policy.mode}`,
    ...mx.map((m) => `mx: ${m}`),
    `max_age: ${policy.maxAge}`,
  ];
  return `${lines.join('\r\n')}\r\n`;
}

function txtRecords(records: (string | string[])[]): string[][] {
  return records.map((r) => (typeof r === 'string' ? splitTxt(r) : r));
}

function stsTexts(domain: ScenarioDomain): (string | string[])[] {
  const rec = domain.stsRecord;
  if (!rec) return [];
  if (rec.records) return rec.records;
  if (rec.text !== undefined) return [rec.text];
  return [`v=STSv1; id=${rec.id ?? '20240101000000'};`];
}

function tlsrptTexts(domain: ScenarioDomain): (string | string[])[] {
  const rec = domain.tlsrpt;
  if (!rec) return [];
  if (rec.records) return rec.records;
  if (rec.text !== undefined) return [rec.text];
  return [`v=TLSRPTv1; rua=${rec.rua ?? `mailto:tlsrpt@${domain.name}`}`];
}

export async function startSimulation(
  input: Scenario | ScenarioInput,
  options: SimulationOptions = {},
): Promise<Simulation> {
  const scenario = parseScenario(input);
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? new Date();
  const delayMs = scenario.delayMs;
  const nextAddress = addressAllocator();
  const zone = new SimZoneData();
  const stops: (() => Promise<void>)[] = [];
  const connectTo: ConnectTo[] = [];
  const hosts: SimHost[] = [];
  const smtpCounters: (() => number)[] = [];
  const policyWaiters = new Map<string, Array<() => void>>();
  let tempDir: string | undefined;

  const stopAll = async (): Promise<void> => {
    const list = stops.splice(0).reverse();
    await Promise.allSettled(list.map((s) => s()));
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    tempDir = undefined;
  };

  try {
    const ca: TestCa = await createTestCa();
    const issue = (name: string, faults: { cert: CertKind; certExpiresInDays?: number | undefined }) =>
      ca.issue(leafOptionsFor(name, faults, now));
    for (const d of scenario.domains) zone.addZone(d.name);
    // What a client that sends no (or another) SNI name gets: a valid certificate for another name.
    const fallbackCert = await issue('sni-mismatch.invalid', { cert: 'valid' });

    const startSmtp = async (
      name: string,
      addresses: string[],
      faults: ScenarioMx['faults'],
    ): Promise<void> => {
      let listenPort: number;
      if (faults.down) {
        listenPort = await closedPort(host);
      } else {
        const cert: IssuedCertificate = await issue(name, faults);
        const server = await startSimSmtpHost({ hostName: name, faults, cert, fallbackCert, host, delayMs });
        stops.push(server.stop);
        smtpCounters.push(server.messages);
        listenPort = server.port;
      }
      for (const a of addresses) connectTo.push({ host: a, port: 25, toAddress: host, toPort: listenPort });
      hosts.push({ name, kind: 'smtp', addresses, port: 25, listen: { address: host, port: listenPort } });
    };

    const mxDone = new Set<string>();
    for (const d of scenario.domains) {
      for (const m of d.mx)
        zone.add(d.name, { type: 'MX', data: { preference: m.priority, exchange: m.host } });
      const apex = Array.from({ length: d.apexAddresses }, () => nextAddress());
      for (const a of apex) zone.add(d.name, { type: 'A', data: a });
      // RFC 5321 §5.1: without MX records the domain itself is the (implicit) MX.
      if (d.mx.length === 0 && apex.length > 0 && !mxDone.has(d.name)) {
        mxDone.add(d.name);
        await startSmtp(d.name, apex, d.apexSmtpFaults);
      }

      // MX hosts: one SMTP server each, shared by every domain that names the host.
      for (const m of d.mx) {
        if (mxDone.has(m.host)) continue;
        mxDone.add(m.host);
        const addresses = Array.from({ length: m.addresses }, () => nextAddress());
        for (const a of addresses) zone.add(m.host, { type: 'A', data: a });
        await startSmtp(m.host, addresses, m.faults);
      }

      // The _mta-sts record (RFC 8461 §3.1), where the scenario puts it.
      const sts = txtRecords(stsTexts(d));
      if (d.stsRecord?.atApex) {
        for (const t of sts) zone.add(d.name, { type: 'TXT', data: t });
      } else if (d.stsRecord?.cnameTo) {
        zone.add(`_mta-sts.${d.name}`, { type: 'CNAME', data: d.stsRecord.cnameTo });
        for (const t of sts) zone.add(d.stsRecord.cnameTo, { type: 'TXT', data: t });
      } else {
        for (const t of sts) zone.add(`_mta-sts.${d.name}`, { type: 'TXT', data: t });
      }

      // The policy host mta-sts.<domain> (RFC 8461 §3.3).
      if ((d.policy || d.stsRecord) && !d.policyHost.absent) {
        const name = `mta-sts.${d.name}`;
        const address = nextAddress();
        zone.add(name, { type: 'A', data: address });
        const cert = await issue(name, d.policyHost.faults);
        const server = await startSimPolicyHost({
          onRequest: () => {
            for (const resolve of policyWaiters.get(d.name)?.splice(0) ?? []) resolve();
          },
          hostName: name,
          fallbackCert,
          body: policyBody(d),
          faults: d.policyHost.faults,
          cert,
          host,
          delayMs,
        });
        stops.push(server.stop);
        connectTo.push({ host: address, port: 443, toAddress: host, toPort: server.port });
        hosts.push({
          name,
          kind: 'policy',
          addresses: [address],
          port: 443,
          listen: { address: host, port: server.port },
        });
      }

      // TLS-RPT (RFC 8460 §3), or at the draft's name by mistake.
      const rptName = d.tlsrpt?.legacyName ? `_smtp-tlsrpt.${d.name}` : `_smtp._tls.${d.name}`;
      for (const t of txtRecords(tlsrptTexts(d))) zone.add(rptName, { type: 'TXT', data: t });
    }

    for (const r of scenario.records) {
      if (r.type === 'TXT') {
        zone.add(r.name, { type: 'TXT', data: typeof r.value === 'string' ? splitTxt(r.value) : r.value });
        continue;
      }
      const value = Array.isArray(r.value) ? r.value.join('') : r.value;
      if (r.type === 'MX') {
        const [prio, exchange] = value.trim().split(/\s+/);
        zone.add(r.name, { type: 'MX', data: { preference: Number(prio) || 0, exchange: exchange ?? '' } });
      } else {
        zone.add(r.name, { type: r.type, data: value });
      }
    }
    for (const f of scenario.dnsFaults) zone.addFault(f);
    zone.closeZones();

    const dns = await startSimDnsServer(zone, { host, port: options.dnsPort ?? 0, delayMs });
    stops.push(dns.stop);

    tempDir = await mkdtemp(join(tmpdir(), 'mta-sts-sim-'));
    const caFile = join(tempDir, 'ca.pem');
    await writeFile(caFile, ca.certPem, { mode: 0o644 });

    const dnsSpec = net.isIPv6(dns.address) ? `[${dns.address}]:${dns.port}` : `${dns.address}:${dns.port}`;
    const checkFlags = ['--resolver', dnsSpec, '--ca-file', caFile];
    for (const c of connectTo) checkFlags.push('--connect-to', formatConnectTo(c));

    return {
      scenario,
      dns: { address: dns.address, port: dns.port },
      caPem: ca.certPem,
      caFile,
      connectTo,
      checkFlags,
      hosts,
      messages: () => smtpCounters.reduce((sum, f) => sum + f(), 0),
      nextPolicyRequest: (domain) =>
        new Promise<void>((resolve) => {
          const key = domain.toLowerCase();
          policyWaiters.set(key, [...(policyWaiters.get(key) ?? []), resolve]);
        }),
      issueCertificate: (dnsNames, faults = { cert: 'valid' }) =>
        ca.issue({
          ...leafOptionsFor(dnsNames[0] ?? 'unnamed', faults, now),
          ...(faults.cert === 'wrong-name' ? {} : { dnsNames }),
        }),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
