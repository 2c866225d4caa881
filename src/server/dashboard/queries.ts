// The dashboard's reads. The overview and the breakdowns read the daily roll-ups the store
// keeps on every write, so a page costs the same with a thousand reports or a million; only
// the failure table and the MX breakdown read the failure details, filtered and bounded.
import type { KyselyReportStore } from '../../reports/store.js';

export interface DailyRow {
  day: string;
  domain: string;
  organization: string;
  successful: number;
  failed: number;
}

export interface FailureFilter {
  domain?: string;
  since?: string;
  until?: string;
  resultType?: string;
  organization?: string;
}

export interface FailureTableRow {
  reportRef: number;
  reportId: string;
  organization: string;
  day: string;
  domain: string;
  resultType: string;
  sendingMtaIp: string | null;
  receivingMxHostname: string | null;
  receivingIp: string | null;
  failedSessions: number;
  failureReasonCode: string | null;
}

export interface Breakdown {
  key: string;
  failed: number;
}

const num = (v: unknown): number => Number(v ?? 0);

export class DashboardQueries {
  constructor(private readonly store: KyselyReportStore) {}

  /** Counted sessions per day, domain and reporter within [since, until]. */
  async daily(since: string, until: string): Promise<DailyRow[]> {
    const rows = await this.store.db
      .selectFrom('tlsrpt_daily')
      .where('counted', '=', 1)
      .where('day', '>=', since)
      .where('day', '<=', until)
      .select(['day', 'policy_domain', 'organization'])
      .select((eb) => [eb.fn.sum<number>('successful').as('s'), eb.fn.sum<number>('failed').as('f')])
      .groupBy(['day', 'policy_domain', 'organization'])
      .execute();
    return rows.map((r) => ({
      day: r.day,
      domain: r.policy_domain,
      organization: r.organization,
      successful: num(r.s),
      failed: num(r.f),
    }));
  }

  /** The first day each domain has any report for (to know how long it has been observed). */
  async firstDays(): Promise<Map<string, string>> {
    const rows = await this.store.db
      .selectFrom('tlsrpt_daily')
      .select('policy_domain')
      .select((eb) => eb.fn.min<string>('day').as('first'))
      .groupBy('policy_domain')
      .execute();
    return new Map(rows.map((r) => [r.policy_domain, String(r.first)]));
  }

  /** The policy mode senders last reported per domain (for domains not in the config). */
  async reportedModes(): Promise<Map<string, string>> {
    const rows = await this.store.db
      .selectFrom('tlsrpt_daily')
      .where('policy_type', '=', 'sts')
      .select(['policy_domain', 'policy_mode'])
      .select((eb) => eb.fn.max<string>('day').as('last'))
      .groupBy(['policy_domain', 'policy_mode'])
      .execute();
    const best = new Map<string, { mode: string; last: string }>();
    for (const r of rows) {
      const prev = best.get(r.policy_domain);
      if (!prev || String(r.last) > prev.last)
        best.set(r.policy_domain, { mode: r.policy_mode, last: String(r.last) });
    }
    return new Map([...best.entries()].map(([d, v]) => [d, v.mode]));
  }

  private resultsQuery(f: FailureFilter) {
    let q = this.store.db.selectFrom('tlsrpt_daily_results');
    if (f.domain) q = q.where('policy_domain', '=', f.domain);
    if (f.since) q = q.where('day', '>=', f.since);
    if (f.until) q = q.where('day', '<=', f.until);
    if (f.resultType) q = q.where('result_type', '=', f.resultType);
    if (f.organization) q = q.where('organization', '=', f.organization);
    return q;
  }

  async byResultType(f: FailureFilter): Promise<Breakdown[]> {
    const rows = await this.resultsQuery(f)
      .select('result_type')
      .select((eb) => eb.fn.sum<number>('failed').as('n'))
      .groupBy('result_type')
      .execute();
    return sortBreakdown(rows.map((r) => ({ key: r.result_type, failed: num(r.n) })));
  }

  async byOrganization(f: FailureFilter): Promise<Breakdown[]> {
    const rows = await this.resultsQuery(f)
      .select('organization')
      .select((eb) => eb.fn.sum<number>('failed').as('n'))
      .groupBy('organization')
      .execute();
    return sortBreakdown(rows.map((r) => ({ key: r.organization, failed: num(r.n) })));
  }

  private failuresQuery(f: FailureFilter) {
    let q = this.store.db.selectFrom('tlsrpt_failures').where('tlsrpt_failures.counted', '=', 1);
    if (f.domain) q = q.where('tlsrpt_failures.policy_domain', '=', f.domain);
    if (f.since) q = q.where('tlsrpt_failures.start_day', '>=', f.since);
    if (f.until) q = q.where('tlsrpt_failures.start_day', '<=', f.until);
    if (f.resultType) q = q.where('tlsrpt_failures.result_type', '=', f.resultType);
    if (f.organization) q = q.where('tlsrpt_failures.organization', '=', f.organization);
    return q;
  }

  async byReceivingMx(f: FailureFilter): Promise<Breakdown[]> {
    const rows = await this.failuresQuery(f)
      .select('receiving_mx_hostname')
      .select((eb) => eb.fn.sum<number>('failed_sessions').as('n'))
      .groupBy('receiving_mx_hostname')
      .execute();
    return sortBreakdown(
      rows.map((r) => ({ key: r.receiving_mx_hostname ?? '(not reported)', failed: num(r.n) })),
    );
  }

  /** The failure details themselves, largest first, at most `limit` rows. */
  async failureTable(f: FailureFilter, limit = 200): Promise<FailureTableRow[]> {
    const rows = await this.failuresQuery(f)
      .innerJoin('tlsrpt_reports', 'tlsrpt_reports.id', 'tlsrpt_failures.report_ref')
      .select([
        'tlsrpt_failures.report_ref',
        'tlsrpt_reports.report_id',
        'tlsrpt_failures.organization',
        'tlsrpt_failures.start_day',
        'tlsrpt_failures.policy_domain',
        'tlsrpt_failures.result_type',
        'tlsrpt_failures.sending_mta_ip',
        'tlsrpt_failures.receiving_mx_hostname',
        'tlsrpt_failures.receiving_ip',
        'tlsrpt_failures.failed_sessions',
        'tlsrpt_failures.failure_reason_code',
      ])
      .orderBy('tlsrpt_failures.failed_sessions', 'desc')
      .orderBy('tlsrpt_failures.start_day', 'desc')
      .orderBy('tlsrpt_failures.id', 'asc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      reportRef: num(r.report_ref),
      reportId: r.report_id,
      organization: r.organization,
      day: r.start_day,
      domain: r.policy_domain,
      resultType: r.result_type,
      sendingMtaIp: r.sending_mta_ip,
      receivingMxHostname: r.receiving_mx_hostname,
      receivingIp: r.receiving_ip,
      failedSessions: num(r.failed_sessions),
      failureReasonCode: r.failure_reason_code,
    }));
  }

  /** The result types ever seen, for the filter's choices. */
  async resultTypes(): Promise<string[]> {
    const rows = await this.store.db
      .selectFrom('tlsrpt_daily_results')
      .select('result_type')
      .distinct()
      .execute();
    return rows.map((r) => r.result_type).sort();
  }

  /** Failed sessions by domain and result type over all time (for /metrics). */
  async failedSessionsByDomain(): Promise<Array<{ domain: string; resultType: string; failed: number }>> {
    const rows = await this.store.db
      .selectFrom('tlsrpt_daily_results')
      .select(['policy_domain', 'result_type'])
      .select((eb) => eb.fn.sum<number>('failed').as('n'))
      .groupBy(['policy_domain', 'result_type'])
      .execute();
    return rows.map((r) => ({ domain: r.policy_domain, resultType: r.result_type, failed: num(r.n) }));
  }
}

function sortBreakdown(rows: Breakdown[]): Breakdown[] {
  return rows.sort((a, b) => b.failed - a.failed || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
