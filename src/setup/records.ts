// The DNS records a set-up needs (RFC 8461 §3.1, §3.3; RFC 8460 §3), rendered as a table, as
// BIND zone lines or as data, and compared with what DNS actually answers. Pure.
import { canonicalName, policyHost } from '../core/domain.js';
import { formatStsRecord, parseStsRecords } from '../core/sts-record.js';
import { formatTlsrptRecord, parseTlsrptRecords } from '../core/tlsrpt-record.js';
import type { DnsAnswer } from '../ports.js';
import type { DomainState, SiteTarget } from './model.js';

export const DEFAULT_TTL = 3600;
export const MAX_TTL = 2_147_483_647;

export type RecordPurpose = 'policy-host' | 'mta-sts' | 'tlsrpt';

export interface DnsRecordSpec {
  /** Owner name, fully qualified, without the trailing dot. */
  name: string;
  type: 'CNAME' | 'TXT';
  /** CNAME: target host name without trailing dot. TXT: the record text (one logical string). */
  value: string;
  ttl: number;
  purpose: RecordPurpose;
}

export interface RecordsPlan {
  domain: string;
  /** The id the _mta-sts record must carry. */
  id: string;
  records: DnsRecordSpec[];
  /** What cannot be a record yet (an A/AAAA for your own host, a missing pages host). */
  notes: string[];
}

export function plannedRecords(state: DomainState, target: SiteTarget, ttl = DEFAULT_TTL): RecordsPlan {
  const host = policyHost(state.domain);
  const records: DnsRecordSpec[] = [];
  const notes: string[] = [];
  if (target === 'github-pages') {
    if (state.pagesHost) {
      records.push({ name: host, type: 'CNAME', value: state.pagesHost, ttl, purpose: 'policy-host' });
    } else {
      notes.push(
        `${host} must be a CNAME to your GitHub Pages host (USER.github.io): give it with --pages-host to get the exact record`,
      );
    }
  } else if (target === 'cloudflare-worker') {
    notes.push(`${host}: the Worker's custom domain (wrangler.toml) creates this record in Cloudflare DNS`);
  } else {
    notes.push(`${host}: point an A (and AAAA) record at the server that serves this site`);
  }
  // RFC 8461 §3.1: the record lives at _mta-sts.<domain>, never at the domain itself.
  records.push({
    name: `_mta-sts.${state.domain}`,
    type: 'TXT',
    value: formatStsRecord({ id: state.id }),
    ttl,
    purpose: 'mta-sts',
  });
  if (state.rua.length > 0) {
    records.push({
      name: `_smtp._tls.${state.domain}`,
      type: 'TXT',
      value: formatTlsrptRecord({ rua: state.rua }),
      ttl,
      purpose: 'tlsrpt',
    });
  }
  return { domain: state.domain, id: state.id, records, notes };
}

/** The `#HOST #TTL #TYPE #VALUE` layout the GitHub Pages templates use; values unquoted. */
export function formatRecordsTable(plans: readonly RecordsPlan[]): string {
  const rows: string[][] = [['#HOST', '#TTL', '#TYPE', '#VALUE']];
  for (const plan of plans) {
    for (const r of plan.records) {
      rows.push([r.name, String(r.ttl), r.type, r.type === 'CNAME' ? `${r.value}.` : r.value]);
    }
  }
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) =>
    row
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell))
      .join('  ')
      .trimEnd(),
  );
  const notes = plans.flatMap((p) => p.notes.map((n) => `# note: ${n}`));
  return `${[...lines, ...notes].join('\n')}\n`;
}

/** A TXT value as zone-file character-strings: quoted, escaped, split at 255 bytes (RFC 1035 §3.3.14). */
export function zoneTxtValue(text: string): string {
  const bytes = new TextEncoder().encode(text);
  const parts: string[] = [];
  for (let i = 0; i < bytes.length || i === 0; i += 255) {
    let chunk = '';
    for (const b of bytes.subarray(i, i + 255)) {
      if (b === 0x22 || b === 0x5c) chunk += `\\${String.fromCharCode(b)}`;
      else if (b < 0x20 || b > 0x7e) chunk += `\\${String(b).padStart(3, '0')}`;
      else chunk += String.fromCharCode(b);
    }
    parts.push(`"${chunk}"`);
    if (bytes.length === 0) break;
  }
  return parts.join(' ');
}

/** BIND master-file lines with absolute owner names, ready to paste into each domain's zone. */
export function formatZone(plans: readonly RecordsPlan[]): string {
  const out: string[] = [];
  for (const plan of plans) {
    out.push(`; MTA-STS for ${plan.domain} (policy id ${plan.id})`);
    const width = Math.max(...plan.records.map((r) => r.name.length + 1), 0);
    for (const r of plan.records) {
      const value = r.type === 'CNAME' ? `${r.value}.` : zoneTxtValue(r.value);
      out.push(`${`${r.name}.`.padEnd(width)} ${r.ttl} IN ${r.type.padEnd(5)} ${value}`);
    }
    for (const n of plan.notes) out.push(`; note: ${n}`);
    out.push('');
  }
  return out.join('\n');
}

export type VerifyStatus = 'published' | 'missing' | 'different' | 'lookup-failed';

export interface RecordVerification {
  name: string;
  type: 'CNAME' | 'TXT' | 'A/AAAA';
  purpose: RecordPurpose;
  status: VerifyStatus;
  /** What the record should be (absent for an A/AAAA presence check). */
  expected?: string;
  /** What DNS answered. */
  found: string[];
  detail: string;
  /** The exact change to make, when status is not published. */
  fix?: string;
}

const zoneLine = (r: DnsRecordSpec) =>
  `${r.name}. ${r.ttl} IN ${r.type} ${r.type === 'CNAME' ? `${r.value}.` : zoneTxtValue(r.value)}`;

function lookupFailed(
  base: Omit<RecordVerification, 'status' | 'detail' | 'found'>,
  answer: { error: string; detail: string },
): RecordVerification {
  return {
    ...base,
    status: 'lookup-failed',
    found: [],
    detail: `could not tell: the lookup failed (${answer.error}: ${answer.detail})`,
  };
}

/** Compare a planned CNAME with the CNAME (and, when there is none, A) answers. */
export function verifyCname(
  record: DnsRecordSpec,
  cname: DnsAnswer<string>,
  addresses?: DnsAnswer<string>,
): RecordVerification {
  const base = {
    name: record.name,
    type: record.type,
    purpose: record.purpose,
    expected: `${record.value}.`,
  };
  if (cname.status === 'error') return lookupFailed(base, cname);
  const fix = `create: ${zoneLine(record)}`;
  if (cname.status === 'ok' && cname.records.length > 0) {
    const found = cname.records.map((t) => canonicalName(t));
    if (found.includes(canonicalName(record.value)))
      return { ...base, status: 'published', found, detail: `points at ${record.value}` };
    return {
      ...base,
      status: 'different',
      found,
      detail: `points at ${found.join(', ')} instead of ${record.value}`,
      fix: `replace the CNAME with: ${zoneLine(record)}`,
    };
  }
  if (addresses?.status === 'ok' && addresses.records.length > 0) {
    return {
      ...base,
      status: 'different',
      found: addresses.records,
      detail: `has address records (${addresses.records.join(', ')}) instead of a CNAME to ${record.value}`,
      fix: `delete the A/AAAA records and ${fix}`,
    };
  }
  return { ...base, status: 'missing', found: [], detail: 'no CNAME record', fix };
}

/** Presence check for a policy host you serve yourself: some address must exist. */
export function verifyPolicyHostAddresses(
  name: string,
  a: DnsAnswer<string>,
  aaaa: DnsAnswer<string>,
): RecordVerification {
  const base = { name, type: 'A/AAAA' as const, purpose: 'policy-host' as const };
  const found = [...(a.status === 'ok' ? a.records : []), ...(aaaa.status === 'ok' ? aaaa.records : [])];
  if (found.length > 0)
    return { ...base, status: 'published', found, detail: `resolves to ${found.join(', ')}` };
  const failed = a.status === 'error' ? a : aaaa.status === 'error' ? aaaa : undefined;
  if (failed) return lookupFailed(base, failed);
  return {
    ...base,
    status: 'missing',
    found: [],
    detail: 'no A or AAAA record',
    fix: `point ${name} (A and/or AAAA) at the server that serves the policy`,
  };
}

const joinTxt = (r: string[]) => r.join('');

/**
 * Compare the planned _mta-sts TXT record with DNS. A published id other than the current one is
 * the stale-id failure: senders keep their cached policy until max_age runs out.
 */
export function verifyStsTxt(
  record: DnsRecordSpec,
  answer: DnsAnswer<string[]>,
  expectedId: string,
): RecordVerification {
  const base = { name: record.name, type: record.type, purpose: record.purpose, expected: record.value };
  if (answer.status === 'error') return lookupFailed(base, answer);
  const texts = answer.status === 'ok' ? answer.records.map(joinTxt) : [];
  // RFC 8461 §8.1: the record changes only after the new policy is served.
  const fix = `once https://${record.name.replace(/^_mta-sts\./, 'mta-sts.')}/.well-known/mta-sts.txt serves the current policy, publish: ${zoneLine(record)}`;
  const parsed = parseStsRecords(texts);
  if (parsed.candidates === 0) {
    return {
      ...base,
      status: 'missing',
      found: texts,
      detail: texts.length ? 'no TXT record begins with v=STSv1' : 'no TXT record',
      fix,
    };
  }
  if (parsed.candidates > 1) {
    return {
      ...base,
      status: 'different',
      found: texts,
      detail: `${parsed.candidates} v=STSv1 records: senders treat that as no policy at all`,
      fix: `delete all but one and keep exactly: ${zoneLine(record)}`,
    };
  }
  const id = parsed.ok ? parsed.value.id : parsed.partial?.id;
  if (parsed.ok && id === expectedId)
    return { ...base, status: 'published', found: texts, detail: `id ${id} is current` };
  return {
    ...base,
    status: 'different',
    found: texts,
    detail: parsed.ok
      ? `published id ${id} is not the current id ${expectedId}: senders keep their cached policy and never fetch the new one`
      : `the published record is malformed (${parsed.findings.map((f) => f.message).join('; ')})`,
    fix: `replace the TXT record; ${fix}`,
  };
}

/** Compare the planned _smtp._tls record (its rua set) with DNS. */
export function verifyTlsrptTxt(record: DnsRecordSpec, answer: DnsAnswer<string[]>): RecordVerification {
  const base = { name: record.name, type: record.type, purpose: record.purpose, expected: record.value };
  if (answer.status === 'error') return lookupFailed(base, answer);
  const texts = answer.status === 'ok' ? answer.records.map(joinTxt) : [];
  const parsed = parseTlsrptRecords(texts);
  if (parsed.candidates === 0)
    return {
      ...base,
      status: 'missing',
      found: texts,
      detail: 'no TXT record begins with v=TLSRPTv1',
      fix: `create: ${zoneLine(record)}`,
    };
  const planned = parseTlsrptRecords([record.value]);
  const want = new Set(planned.ok ? planned.value.rua : []);
  const got = parsed.ok ? parsed.value.rua : [];
  const same = parsed.ok && got.length === want.size && got.every((u) => want.has(u));
  if (same) return { ...base, status: 'published', found: texts, detail: `reports go to ${got.join(', ')}` };
  return {
    ...base,
    status: 'different',
    found: texts,
    detail:
      parsed.candidates > 1
        ? `${parsed.candidates} v=TLSRPTv1 records: senders send no reports`
        : parsed.ok
          ? `reports go to ${got.join(', ')} instead of ${[...want].join(', ')}`
          : 'the published record is malformed',
    fix: `replace it with: ${zoneLine(record)}`,
  };
}
