// Wiring for the live check: builds the Node adapters from check's options (resolver, CA file,
// connect-to, timeout) and checks each domain. `mta-sts check`, `scan`, `demo` and the dashboard
// share it.
import { readFile } from 'node:fs/promises';
import { normalizeDomain } from '../core/domain.js';
import { finding } from '../core/findings.js';
import { ConnectToError, parseConnectTo } from '../node/connect-to.js';
import { createDnsResolver, DnsConfigError, parseDnsServer } from '../node/dns.js';
import { createPolicyFetcher } from '../node/policy-fetch.js';
import { createSmtpProber } from '../node/smtp-probe.js';
import type { ConnectTo, DnsResolver } from '../ports.js';
import { type CheckDeps, type CheckReport, checkDomain } from './check-domain.js';

export interface CheckOptions {
  /** 'IP[:PORT]' of recursive resolvers; default the system's. */
  resolvers?: string[];
  /** PEM file with extra trust anchors (added to the system roots). */
  caFile?: string;
  /** Trust only --ca-file, not the system roots (for tests). */
  noSystemCa?: boolean;
  /** curl-style HOST:PORT:ADDR:PORT re-routing. */
  connectTo?: string[];
  /** Per-operation time limit in seconds (default 10). */
  timeoutSeconds?: number;
  /** Probe every MX's STARTTLS (default true). */
  smtp?: boolean;
  /** SMTP port (default 25). */
  smtpPort?: number;
  /** How many domains are checked at once (default 8). */
  concurrency?: number;
  now?: () => Date;
}

/** Thrown for options that cannot work (exit 2): a bad resolver, CA file or connect-to. */
export class CheckConfigError extends Error {
  readonly code = 'check-config';
}

export async function createCheckDeps(opts: CheckOptions): Promise<CheckDeps> {
  const timeoutMs = Math.round((opts.timeoutSeconds ?? 10) * 1000);
  let connectTo: ConnectTo[] = [];
  let dns: DnsResolver;
  try {
    connectTo = (opts.connectTo ?? []).map(parseConnectTo);
    for (const r of opts.resolvers ?? []) parseDnsServer(r);
    dns = createDnsResolver({
      ...(opts.resolvers?.length ? { servers: opts.resolvers } : {}),
      timeoutMs: Math.min(timeoutMs, 5000),
    });
  } catch (err) {
    if (err instanceof ConnectToError || err instanceof DnsConfigError)
      throw new CheckConfigError(err.message);
    throw err;
  }
  let caPem: string | undefined;
  if (opts.caFile) {
    try {
      caPem = await readFile(opts.caFile, 'utf8');
    } catch (err) {
      throw new CheckConfigError(`cannot read --ca-file ${opts.caFile}: ${(err as Error).message}`);
    }
    if (!caPem.includes('-----BEGIN CERTIFICATE-----'))
      throw new CheckConfigError(`--ca-file ${opts.caFile} holds no PEM certificate`);
  }
  const trust = { ...(caPem ? { caPem } : {}), useSystemCa: !opts.noSystemCa };
  const deps: CheckDeps = {
    dns,
    fetcher: createPolicyFetcher({ dns, connectTo, timeoutMs, ...trust }),
    ...(opts.now ? { now: opts.now } : {}),
  };
  if (opts.smtp !== false) {
    deps.prober = createSmtpProber({
      connectTo,
      timeoutMs,
      ...trust,
      ...(opts.smtpPort ? { port: opts.smtpPort } : {}),
    });
  }
  return deps;
}

/** Normalise the domain names, or throw CheckConfigError naming the bad one. */
export function normalizeDomains(inputs: string[]): string[] {
  return inputs.map((d) => {
    const n = normalizeDomain(d);
    if (!n.ok) throw new CheckConfigError(`invalid domain ${n.reason}`);
    return n.value;
  });
}

/** A check that broke on something unforeseen still yields a report: a batch never stops. */
function failedReport(domain: string, err: unknown): CheckReport {
  return {
    domain,
    verdict: 'fail',
    findings: [
      {
        ...finding('check.internal-error', {
          message: `the check of ${domain} stopped: ${(err as Error)?.message ?? String(err)}`,
          subject: domain,
        }),
        step: 'dns',
      },
    ],
    record: { name: `_mta-sts.${domain}`, status: 'error' as const, cnameChain: [], txt: [] },
    policy: { url: `https://mta-sts.${domain}/.well-known/mta-sts.txt`, fetched: false },
    mx: [],
    tlsrpt: { name: `_smtp._tls.${domain}`, status: 'error' as const, txt: [] },
    checkedAt: new Date().toISOString(),
  };
}

/** Check several domains, a few at a time; reports come back in input order. */
export async function checkDomains(
  domains: string[],
  opts: CheckOptions,
  onReport?: (report: CheckReport, index: number) => void,
): Promise<CheckReport[]> {
  const names = normalizeDomains(domains);
  const deps = await createCheckDeps(opts);
  const reports: CheckReport[] = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      reports[i] = await checkDomain(names[i]!, deps).catch((err: unknown) => failedReport(names[i]!, err));
      onReport?.(reports[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, names.length) }, worker));
  return reports;
}
