// Proposing mx patterns from a domain's MX records: exact names, in priority order. A wildcard
// is only suggested (never applied) when several hosts share a parent, because "*.parent"
// also covers every other one-label host under it (RFC 8461 §4.1).
import { canonicalName } from '../core/domain.js';
import { type Finding, finding } from '../core/findings.js';
import type { DnsAnswer, MxRecord } from '../ports.js';
import { normalizeMxPattern } from './model.js';
import './findings.js';

export interface MxProposal {
  /** MX host names, by priority then name. */
  hosts: string[];
  patterns: string[];
  /** Wildcard suggestions and, when nothing could be proposed, the error that says why. */
  findings: Finding[];
}

export function proposeMxPatterns(domain: string, answer: DnsAnswer<MxRecord>): MxProposal {
  if (answer.status === 'error') {
    return {
      hosts: [],
      patterns: [],
      findings: [
        finding('setup.mx-lookup-failed', {
          message: `the MX lookup for ${domain} failed (${answer.error}: ${answer.detail})`,
          subject: domain,
        }),
      ],
    };
  }
  const records = answer.status === 'ok' ? answer.records : [];
  if (records.length === 0) {
    return {
      hosts: [],
      patterns: [],
      findings: [
        finding('setup.no-mx', {
          message: `${domain} has no MX records (${answer.status === 'nxdomain' ? 'the domain does not exist' : 'no MX data'}) and no --mx was given`,
          subject: domain,
        }),
      ],
    };
  }
  // RFC 7505: a single MX with an empty exchange (".") says the domain accepts no mail.
  if (records.some((r) => canonicalName(r.exchange) === '')) {
    return { hosts: [], patterns: [], findings: [finding('setup.null-mx', { subject: domain })] };
  }
  const sorted = [...records].sort(
    (a, b) => a.priority - b.priority || canonicalName(a.exchange).localeCompare(canonicalName(b.exchange)),
  );
  const hosts: string[] = [];
  for (const r of sorted) {
    const h = canonicalName(r.exchange);
    if (!hosts.includes(h)) hosts.push(h);
  }
  const patterns = hosts.map(normalizeMxPattern).filter((p, i, all) => all.indexOf(p) === i);
  const findings: Finding[] = [];
  const byParent = new Map<string, string[]>();
  for (const h of patterns) {
    const dot = h.indexOf('.');
    const parent = h.slice(dot + 1);
    if (dot < 0 || !parent.includes('.')) continue;
    byParent.set(parent, [...(byParent.get(parent) ?? []), h]);
  }
  for (const [parent, members] of byParent) {
    if (members.length < 2) continue;
    findings.push(
      finding('setup.mx-wildcard-possible', {
        message: `${members.join(', ')} share the parent ${parent}; the policy lists each exactly`,
        hint: `"mx: *.${parent}" would cover them and future hosts there, but also every other one-label name under ${parent}. To switch: mta-sts policy set --add-mx '*.${parent}' ${members.map((m) => `--remove-mx ${m}`).join(' ')}`,
        subject: parent,
      }),
    );
  }
  return { hosts, patterns, findings };
}
