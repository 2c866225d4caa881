// `mta-sts scan`: the live check over many domains (a hosting provider's customer list, a
// research sample), a bounded number at a time, summarised by verdict and by finding code.
import type { CheckReport, Verdict } from './check-domain.js';
import { type CheckOptions, checkDomains } from './run.js';

export const MAX_SCAN_DOMAINS = 1_000_000;

/** Domains from a list: one per line (or separated by white space); `#` starts a comment. */
export function parseDomainList(text: string): { domains: string[]; duplicates: number } {
  const seen = new Set<string>();
  const domains: string[] = [];
  let duplicates = 0;
  for (const line of text.split(/\r?\n/)) {
    for (const token of line.replace(/#.*/, '').split(/[\s,]+/)) {
      if (!token) continue;
      const key = token.toLowerCase().replace(/\.$/, '');
      if (seen.has(key)) {
        duplicates++;
        continue;
      }
      seen.add(key);
      domains.push(token);
    }
  }
  return { domains, duplicates };
}

export interface ScanEntry {
  domain: string;
  verdict: Verdict;
  mode?: string;
  errors: string[];
  warnings: string[];
}

export interface ScanSummary {
  domains: number;
  byVerdict: Record<Verdict, number>;
  byMode: Record<string, number>;
  /** How many domains have each error or warning code. */
  byCode: Record<string, { severity: string; domains: number }>;
}

export function scanEntry(r: CheckReport): ScanEntry {
  const codes = (sev: string) => [
    ...new Set(r.findings.filter((f) => f.severity === sev).map((f) => f.code)),
  ];
  return {
    domain: r.domain,
    verdict: r.verdict,
    ...(r.policy.value ? { mode: r.policy.value.mode } : {}),
    errors: codes('error'),
    warnings: codes('warning'),
  };
}

export function summarizeScan(entries: readonly ScanEntry[]): ScanSummary {
  const summary: ScanSummary = {
    domains: entries.length,
    byVerdict: { ok: 0, warn: 0, fail: 0, none: 0 },
    byMode: {},
    byCode: {},
  };
  for (const e of entries) {
    summary.byVerdict[e.verdict]++;
    const mode = e.mode ?? (e.verdict === 'none' ? 'no MTA-STS' : 'unusable policy');
    summary.byMode[mode] = (summary.byMode[mode] ?? 0) + 1;
    for (const [sev, list] of [
      ['error', e.errors],
      ['warning', e.warnings],
    ] as const) {
      for (const code of list) {
        const slot = summary.byCode[code] ?? { severity: sev, domains: 0 };
        slot.domains++;
        summary.byCode[code] = slot;
      }
    }
  }
  return summary;
}

export async function scanDomains(
  domains: string[],
  opts: CheckOptions,
  onResult?: (entry: ScanEntry, report: CheckReport) => void,
): Promise<{ entries: ScanEntry[]; summary: ScanSummary }> {
  const entries: ScanEntry[] = [];
  const reports = await checkDomains(domains, { concurrency: 32, ...opts }, (r) => {
    const e = scanEntry(r);
    onResult?.(e, r);
  });
  for (const r of reports) entries.push(scanEntry(r));
  return { entries, summary: summarizeScan(entries) };
}
