// Pure decisions behind the overview page: per-domain daily series, failure rates, and whether
// a domain in testing mode looks safe to move to enforce.
import type { DailyRow } from './queries.js';

const DAY_MS = 86_400_000;

export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  return isoDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS));
}

/** Every day from `since` to `until` inclusive. */
export function dayRange(since: string, until: string): string[] {
  const out: string[] = [];
  for (let d = since; d <= until && out.length < 3660; d = addDays(d, 1)) out.push(d);
  return out;
}

export type Readiness =
  | { status: 'enforcing'; reason: string }
  | { status: 'not-applicable'; reason: string }
  | { status: 'no-data'; reason: string }
  | { status: 'not-ready'; reason: string; failingReporters: string[] }
  | { status: 'ready'; reason: string; reporters: string[] };

export interface ReadinessInput {
  /** The mode the domain publishes now ('enforce' | 'testing' | 'none'), or undefined if unknown. */
  mode: string | undefined;
  /** This domain's daily rows (any window that covers the last `days` days). */
  rows: readonly DailyRow[];
  /** The first day any report for the domain covers. */
  firstDay: string | undefined;
  today: string;
  /** N: how many days without a failure, from every reporter, before enforce looks safe. */
  days: number;
}

/**
 * Safe to move to enforce when, over the last N days (up to today): reports have been arriving
 * for at least N days, some arrived in the window, and not one reporter saw a failed session.
 */
export function enforceReadiness(input: ReadinessInput): Readiness {
  const { mode, days } = input;
  if (mode === 'enforce') return { status: 'enforcing', reason: 'already in enforce mode' };
  if (mode === 'none') return { status: 'not-applicable', reason: 'mode none: no policy is in effect' };
  const windowStart = addDays(input.today, -days);
  const inWindow = input.rows.filter((r) => r.day >= windowStart && r.day <= input.today);
  if (inWindow.length === 0) return { status: 'no-data', reason: `no reports in the last ${days} days` };
  const failing = new Map<string, number>();
  for (const r of inWindow)
    if (r.failed > 0) failing.set(r.organization, (failing.get(r.organization) ?? 0) + r.failed);
  if (failing.size > 0) {
    const reporters = [...failing.keys()].sort();
    const total = [...failing.values()].reduce((a, b) => a + b, 0);
    return {
      status: 'not-ready',
      reason: `${total} failed sessions in the last ${days} days, reported by ${reporters.join(', ')}`,
      failingReporters: reporters,
    };
  }
  if (!input.firstDay || input.firstDay > windowStart) {
    const observed = input.firstDay
      ? Math.round((Date.parse(input.today) - Date.parse(input.firstDay)) / DAY_MS)
      : 0;
    return {
      status: 'not-ready',
      reason: `no failures so far, but reports cover only ${observed} of the ${days} days needed`,
      failingReporters: [],
    };
  }
  const reporters = [...new Set(inWindow.map((r) => r.organization))].sort();
  return {
    status: 'ready',
    reason: `no failed sessions for ${days} days from any of ${reporters.length} reporters`,
    reporters,
  };
}

export interface DomainOverview {
  domain: string;
  mode: string | undefined;
  /** Served by this process (in the config) or only seen in reports. */
  hosted: boolean;
  successful: number;
  failed: number;
  failureRate: number;
  series: Array<{ day: string; successful: number; failed: number }>;
  readiness: Readiness;
}

export interface OverviewInput {
  rows: readonly DailyRow[];
  since: string;
  until: string;
  /** Configured domains with their mode, in config order. */
  configured: ReadonlyArray<{ domain: string; mode: string }>;
  reportedModes: ReadonlyMap<string, string>;
  firstDays: ReadonlyMap<string, string>;
  readinessDays: number;
  /** Rows covering the readiness window (may be the same as rows). */
  readinessRows: readonly DailyRow[];
}

export function buildOverview(input: OverviewInput): DomainOverview[] {
  const days = dayRange(input.since, input.until);
  const domains: Array<{ domain: string; mode: string | undefined; hosted: boolean }> = input.configured.map(
    (c) => ({
      domain: c.domain,
      mode: c.mode,
      hosted: true,
    }),
  );
  const known = new Set(domains.map((d) => d.domain));
  const extra = [...new Set(input.rows.map((r) => r.domain))].filter((d) => !known.has(d)).sort();
  for (const d of extra)
    domains.push({ domain: d, mode: input.reportedModes.get(d) || undefined, hosted: false });
  return domains.map(({ domain, mode, hosted }) => {
    const perDay = new Map(days.map((d) => [d, { day: d, successful: 0, failed: 0 }]));
    let successful = 0;
    let failed = 0;
    for (const r of input.rows) {
      if (r.domain !== domain) continue;
      const slot = perDay.get(r.day);
      if (!slot) continue;
      slot.successful += r.successful;
      slot.failed += r.failed;
      successful += r.successful;
      failed += r.failed;
    }
    const total = successful + failed;
    return {
      domain,
      mode,
      hosted,
      successful,
      failed,
      failureRate: total === 0 ? 0 : failed / total,
      series: [...perDay.values()],
      readiness: enforceReadiness({
        mode,
        rows: input.readinessRows.filter((r) => r.domain === domain),
        firstDay: input.firstDays.get(domain),
        today: input.until,
        days: input.readinessDays,
      }),
    };
  });
}
