// Offline validation of what a domain owner publishes: the policy file, the _mta-sts and
// _smtp._tls records, and whether the policy covers the MX hosts. Pure; the CLI renders it.
import { normalizeDomain } from './domain.js';
import { type Finding, finding, hasErrors } from './findings.js';
import { mxCoverage } from './mx-pattern.js';
import { formatStsPolicy, parseStsPolicy, type StsPolicy } from './sts-policy.js';
import { parseStsRecords, type StsRecord } from './sts-record.js';
import { parseTlsrptRecords, type TlsrptRecord } from './tlsrpt-record.js';

export interface LintInput {
  /** The policy file's bytes or text. */
  policy?: string | Uint8Array;
  /** TXT records at _mta-sts (each a string or its list of strings). */
  records?: ReadonlyArray<string | readonly string[]>;
  /** TXT records at _smtp._tls. */
  tlsrpt?: ReadonlyArray<string | readonly string[]>;
  /** MX host names the policy must cover. */
  mx?: readonly string[];
}

export interface LintResult {
  valid: boolean;
  findings: Finding[];
  policy?: Pick<StsPolicy, 'version' | 'mode' | 'mx' | 'maxAge'> & { extensions: StsPolicy['extensions'] };
  record?: StsRecord;
  tlsrpt?: TlsrptRecord;
  mx?: { covered: Array<{ host: string; pattern: string }>; notCovered: string[]; unusedPatterns: string[] };
}

/**
 * Coverage findings for MX hosts: an uncovered host is an error under enforce and a warning
 * under testing (mail is delivered anyway, but reported).
 */
export function mxCoverageFindings(
  patterns: readonly string[],
  hosts: readonly string[],
  mode?: StsPolicy['mode'],
): {
  coverage: ReturnType<typeof mxCoverage>;
  findings: Finding[];
} {
  const coverage = mxCoverage(patterns, hosts);
  const findings: Finding[] = [];
  for (const host of coverage.notCovered) {
    findings.push(
      finding('mx.not-covered', {
        message: `MX host ${host} matches no mx pattern of the policy`,
        subject: host,
        ...(mode === 'testing' ? { severity: 'warning' as const } : {}),
      }),
    );
  }
  for (const p of coverage.unusedPatterns) {
    findings.push(
      finding('mx.pattern-unused', { message: `mx pattern ${p} matches none of the MX hosts`, subject: p }),
    );
  }
  return { coverage, findings };
}

export function lint(input: LintInput): LintResult {
  const findings: Finding[] = [];
  const result: LintResult = { valid: true, findings };
  if (input.policy !== undefined) {
    const parsed = parseStsPolicy(input.policy);
    findings.push(...parsed.findings);
    const p = parsed.ok ? parsed.value : parsed.partial;
    if (p && p.mode !== undefined && p.maxAge !== undefined && p.version) {
      result.policy = {
        version: p.version,
        mode: p.mode,
        mx: p.mx ?? [],
        maxAge: p.maxAge,
        extensions: p.extensions ?? [],
      };
    }
    if (input.mx && p?.mx) {
      const hosts: string[] = [];
      for (const raw of input.mx) {
        const n = normalizeDomain(raw);
        hosts.push(n.ok ? n.value : raw);
      }
      const cov = mxCoverageFindings(p.mx, hosts, p.mode);
      findings.push(...cov.findings);
      result.mx = cov.coverage;
    }
  }
  if (input.records !== undefined) {
    const parsed = parseStsRecords(input.records);
    findings.push(...parsed.findings.map((f) => ({ ...f, subject: f.subject ?? '_mta-sts' })));
    if (parsed.ok) result.record = parsed.value;
  }
  if (input.tlsrpt !== undefined) {
    const parsed = parseTlsrptRecords(input.tlsrpt);
    findings.push(...parsed.findings.map((f) => ({ ...f, subject: f.subject ?? '_smtp._tls' })));
    if (parsed.ok) result.tlsrpt = parsed.value;
  }
  // Stable: findings with a line come in line order, the rest keep their order at the end.
  findings.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
  result.valid = !hasErrors(findings);
  return result;
}

export type FixResult =
  | { ok: true; text: string; changed: boolean; changes: string[]; findings: Finding[] }
  | { ok: false; reasons: string[]; findings: Finding[] };

const KNOWN_KEYS = ['version', 'mode', 'max_age', 'mx'];

/**
 * Rewrite a policy canonically when the intent is unambiguous: drop comments, blank lines and a
 * byte-order mark, normalise line ends and spacing, the case of known keys and of the mode, mx
 * names (lowercase, no trailing dot, A-labels). Refuse, explaining why, when errors remain.
 */
export function fixStsPolicy(text: string): FixResult {
  const changes = new Set<string>();
  let body = text;
  if (body.startsWith('\uFEFF')) {
    body = body.slice(1);
    changes.add('removed the byte-order mark');
  }
  if (body.includes('\r')) changes.add('converted line ends to LF');
  const cleaned: string[] = [];
  const seen = new Map<string, string>();
  const reasons: string[] = [];
  for (const rawLine of body.split(/\r\n|\r|\n/)) {
    let line = rawLine;
    const hash = line.search(/(^|[ \t])#/);
    if (hash >= 0) {
      line = line.slice(0, hash);
      changes.add('removed # comments');
    }
    if (line.trim().length === 0) {
      if (rawLine.length > 0 && hash < 0) changes.add('removed whitespace-only lines');
      else if (rawLine.length === 0) changes.add('removed blank lines');
      continue;
    }
    const m = /^[ \t]*([^:]+?)[ \t]*:[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!m) {
      reasons.push(
        `line "${rawLine.trim().slice(0, 60)}" is not "key: value" and its meaning cannot be guessed`,
      );
      continue;
    }
    let key = m[1]!;
    let value = m[2]!;
    if (KNOWN_KEYS.includes(key.toLowerCase()) && key !== key.toLowerCase()) {
      key = key.toLowerCase();
      changes.add('lowercased field names');
    }
    if (
      key === 'mode' &&
      ['enforce', 'testing', 'none'].includes(value.toLowerCase()) &&
      value !== value.toLowerCase()
    ) {
      value = value.toLowerCase();
      changes.add('lowercased the mode');
    }
    if (key === 'mx') {
      const wildcard = value.startsWith('*.');
      const n = normalizeDomain(wildcard ? value.slice(2) : value);
      if (n.ok) {
        const fixed = (wildcard ? '*.' : '') + n.value;
        if (fixed !== value) {
          changes.add('normalised mx names (lowercase, no trailing dot, A-labels)');
          value = fixed;
        }
      }
    } else if (key !== 'mx' && KNOWN_KEYS.includes(key)) {
      const prev = seen.get(key);
      if (prev !== undefined) {
        if (prev !== value)
          reasons.push(
            `"${key}" is given twice with different values ("${prev}" and "${value}"): which one is meant?`,
          );
        else changes.add(`removed a repeated "${key}" line`);
        continue;
      }
      seen.set(key, value);
    }
    cleaned.push(`${key}: ${value}`);
  }
  const parsed = parseStsPolicy(cleaned.map((l) => `${l}\n`).join(''));
  const errors = parsed.findings.filter((f) => f.severity === 'error');
  for (const e of errors) reasons.push(e.message);
  if (reasons.length > 0 || !parsed.ok) return { ok: false, reasons, findings: parsed.findings };
  const canonical = formatStsPolicy(parsed.value);
  if (canonical !== cleaned.map((l) => `${l}\n`).join('')) changes.add('put the fields in canonical order');
  return {
    ok: true,
    text: canonical,
    changed: canonical !== text,
    changes: [...changes],
    findings: parsed.findings,
  };
}
