// Human rendering for init / policy set / records: what was written, the policy and its id,
// the records in publishing order (RFC 8461 §8.1), and advice. Shared by the set-up commands.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Finding } from '../core/findings.js';
import { createDnsResolver, DnsConfigError } from '../node/dns.js';
import type { DnsResolver } from '../ports.js';
import { formatRecordsTable, type RecordsPlan } from '../setup/records.js';
import { STATE_FILE } from '../setup/state.js';
import type { DomainOutcome, InitResult, SetupFailure, VerifyResult } from '../setup/workflow.js';
import { type Colors, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, UsageError } from './output.js';
import { renderFinding } from './render-findings.js';

export function resolverFrom(servers: string[] | undefined): DnsResolver {
  try {
    return createDnsResolver(servers && servers.length > 0 ? { servers } : {});
  } catch (err) {
    if (err instanceof DnsConfigError) throw new UsageError(`--resolver: ${err.message}`);
    throw err;
  }
}

/** Where a domain's site lives when --dir is not given: ./mta-sts.<domain> if it exists, else ".". */
export function defaultSiteDir(domain: string | undefined): string {
  if (domain) {
    const candidate = `mta-sts.${domain.toLowerCase().replace(/\.$/, '')}`;
    if (existsSync(join(candidate, STATE_FILE))) return candidate;
  }
  return '.';
}

export function failureExit(f: SetupFailure): number {
  return f.reason === 'no-mx' ? EXIT_PROBLEMS : EXIT_USAGE;
}

export function renderFailure(c: Colors, f: SetupFailure): string {
  const head =
    f.reason === 'invalid'
      ? `refused: the set-up for ${f.domain} is not valid`
      : f.reason === 'no-mx'
        ? `cannot build a policy for ${f.domain}: no mail hosts`
        : `cannot build a policy for ${f.domain}: the MX lookup failed`;
  const lines = [c.red(c.bold(head)), ...f.findings.map((x) => renderFinding(c, x, { indent: '  ' }))];
  return `${lines.join('\n')}\n`;
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

export function renderAdvice(c: Colors, findings: readonly Finding[]): string[] {
  if (findings.length === 0) return [];
  return ['', c.bold('Advice:'), ...findings.map((f) => renderFinding(c, f, { indent: '  ' }))];
}

function renderDomain(c: Colors, d: DomainOutcome, mode: 'init' | 'set'): string[] {
  const out: string[] = [];
  const idText = d.idChanged
    ? c.green(`new id ${d.id}`)
    : `id ${d.id} (unchanged: the policy content is the same)`;
  out.push(
    `${c.bold(d.domain)}: ${idText}${d.changes.length && mode === 'set' ? ` — ${d.changes.join(', ')}` : ''}`,
  );
  out.push(c.dim(`  policy (https://mta-sts.${d.domain}/.well-known/mta-sts.txt):`));
  for (const line of d.policy.text.trimEnd().split('\n')) out.push(`    ${line}`);
  return out;
}

/** The publishing order of RFC 8461 §8.1: the policy file first, the TXT record once it is served. */
function publishSteps(
  c: Colors,
  target: string,
  plans: RecordsPlan[],
  idChanged: boolean,
  verifyCommand: string,
): string[] {
  const out = ['', c.bold('Publish, in this order (RFC 8461 §8.1):')];
  const serve =
    target === 'github-pages'
      ? plans.length > 1
        ? 'push each site directory to its own GitHub Pages repository (README.md in each has every step)'
        : 'push the site directory to its GitHub Pages repository (README.md there has every step)'
      : target === 'cloudflare-worker'
        ? 'deploy the Worker (npx wrangler deploy)'
        : target === 'static'
          ? 'upload the site directory to the web server of the policy host'
          : `install the ${target === 'nginx' ? 'nginx.conf' : 'Caddyfile'} and reload the server`;
  out.push(`  1. ${serve}, and wait until the policy is served;`);
  out.push(
    idChanged
      ? '  2. then create the DNS records, or replace the _mta-sts TXT record if it exists:'
      : '  2. the DNS records (the id has not changed):',
  );
  for (const line of formatRecordsTable(plans).trimEnd().split('\n')) out.push(`     ${line}`);
  out.push(`  3. confirm with: ${verifyCommand}`);
  return out;
}

export function renderSetupResult(
  c: Colors,
  result: InitResult,
  mode: 'init' | 'set',
  config?: string,
): string {
  if (!result.ok) return renderFailure(c, result);
  const out: string[] = [];
  const dirs = [...new Set(result.domains.map((d) => d.dir))];
  if (mode === 'init') {
    out.push(
      `${c.green(c.bold('✓'))} ${result.target} site${dirs.length > 1 ? 's' : ''} in ${dirs.map(shown).join(', ')} (state: ${shown(result.stateFile)})`,
    );
  }
  if (result.mx?.source === 'dns')
    out.push(
      `  MX records of ${result.domains[0]!.domain}: ${result.mx.hosts.join(', ')} -> policy mx patterns`,
    );
  for (const d of result.domains) out.push(...renderDomain(c, d, mode));
  const changed = result.files.filter((f) => f.action !== 'unchanged');
  if (changed.length > 0) {
    out.push(
      c.dim(
        `  files: ${changed
          .slice(0, 12)
          .map((f) => `${f.action} ${f.path}`)
          .join(', ')}${changed.length > 12 ? `, … (${changed.length} in all)` : ''}`,
      ),
    );
  } else out.push(c.dim('  files: all up to date'));
  const anyId = result.domains.some((d) => d.idChanged);
  if (mode === 'set' && !result.domains.some((d) => d.changes.length > 0)) {
    out.push('', 'Nothing changed: the policy is already like that; the id stays the same.');
  } else {
    out.push(
      ...publishSteps(
        c,
        result.target,
        result.domains.map((d) => d.records),
        anyId,
        config
          ? `mta-sts records --config ${config} --verify`
          : `mta-sts records ${result.domains[0]?.domain ?? ''} --verify`,
      ),
    );
  }
  out.push(
    ...renderAdvice(
      c,
      result.domains.flatMap((d) => d.findings),
    ),
  );
  return `${out.join('\n')}\n`;
}

const STATUS_WORD = {
  published: 'published',
  missing: 'missing',
  different: 'different',
  'lookup-failed': 'lookup failed',
} as const;

export function renderVerify(c: Colors, results: readonly VerifyResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    out.push(c.bold(r.domain));
    for (const check of r.checks) {
      const word = STATUS_WORD[check.status];
      const tag =
        check.status === 'published'
          ? c.green(`✓ ${word}`)
          : check.status === 'lookup-failed'
            ? c.yellow(`? ${word}`)
            : c.red(`✗ ${word}`);
      out.push(`  ${tag}  ${check.name} ${check.type}: ${check.detail}`);
      if (check.fix) out.push(`      ${c.green('fix:')} ${check.fix}`);
    }
  }
  return `${out.join('\n')}\n`;
}

export function verifyExit(results: readonly VerifyResult[]): number {
  const all = results.flatMap((r) => r.checks);
  if (all.some((x) => x.status === 'missing' || x.status === 'different')) return EXIT_PROBLEMS;
  if (all.some((x) => x.status === 'lookup-failed')) return EXIT_USAGE;
  return EXIT_OK;
}
