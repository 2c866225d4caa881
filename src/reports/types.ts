// The shapes the report store hands out; the JSON output of the `reports` commands is built from these.
import type { Finding } from '../core/findings.js';
import type { TlsrptReport } from '../core/tlsrpt-report.js';

export type IngestStatus = 'ingested' | 'duplicate' | 'skipped' | 'invalid';

export interface StoreMeta {
  /** Where the report came from: a file path, "path#attachment", "imap:…/UID", "https". */
  source: string;
  receivedAt: Date;
  /** The report's JSON text exactly as received (after decompression). */
  rawJson: string;
  notes: Finding[];
}

export type StoreResult = { status: 'ingested'; id: number } | { status: 'duplicate'; id: number };

/** Days are UTC dates, YYYY-MM-DD, inclusive; a report belongs to the day its date-range starts. */
export interface ReportFilter {
  domain?: string;
  organization?: string;
  since?: string;
  until?: string;
}

export interface SessionCounts {
  successful: number;
  failed: number;
  failureRate: number;
}

export interface ReportSummary {
  filter: { domain: string | null; organization: string | null; since: string | null; until: string | null };
  /** Reports stored that match the filter. */
  reports: number;
  totals: SessionCounts;
  byDay: Record<string, SessionCounts>;
  byOrganization: Record<string, SessionCounts>;
  /**
   * Keyed "sts/enforce", "sts/testing", "sts/unknown", "tlsa", "no-policy-found". Every policy
   * entry, counted in totals or not; `excludedFromTotals` is the part left out of totals by the
   * counting rule (the same sessions already counted under another policy type).
   */
  byPolicy: Record<
    string,
    SessionCounts & {
      policyType: string;
      mode: string | null;
      excludedFromTotals: { successful: number; failed: number };
    }
  >;
  /** Failed sessions per RFC 8460 §4.3 result type, from the failure details of counted entries. */
  byResultType: Record<string, number>;
}

export interface FailureRow {
  organization: string;
  policyDomain: string;
  policyType: string;
  resultType: string;
  sendingMtaIp: string | null;
  receivingMxHostname: string | null;
  receivingIp: string | null;
  failedSessions: number;
  reports: number;
}

export interface ReportListItem {
  id: number;
  organization: string;
  reportId: string;
  start: string;
  end: string;
  policyDomains: string[];
  successful: number;
  failed: number;
  notes: number;
  source: string;
  receivedAt: string;
}

export interface StoredPolicy {
  policyType: string;
  policyDomain: string;
  mode: string | null;
  policyStrings: string[];
  mxHosts: string[];
  successful: number;
  failed: number;
  countedInTotals: boolean;
  failureDetails: Array<{
    resultType: string;
    sendingMtaIp: string | null;
    receivingMxHostname: string | null;
    receivingMxHelo: string | null;
    receivingIp: string | null;
    failedSessions: number;
    failureReasonCode: string | null;
    additionalInformation: string | null;
  }>;
}

export interface StoredReport extends Omit<ReportListItem, 'notes'> {
  contact: string | null;
  notes: Finding[];
  policies: StoredPolicy[];
  rawJson: string;
}

export interface ReportStore {
  readonly dialect: 'sqlite' | 'postgres';
  storeReport(report: TlsrptReport, meta: StoreMeta): Promise<StoreResult>;
  summary(filter?: ReportFilter): Promise<ReportSummary>;
  failures(filter?: ReportFilter): Promise<FailureRow[]>;
  list(filter?: ReportFilter & { limit?: number; offset?: number }): Promise<ReportListItem[]>;
  /** By stored id (a number) or by report-id text. */
  show(idOrReportId: string | number): Promise<StoredReport[]>;
  close(): Promise<void>;
  /** Optional batching for bulk ingestion; see KyselyReportStore.grouped. */
  grouped?<T>(fn: (flush: () => void) => Promise<T>, size?: number, onCommit?: () => void): Promise<T>;
}
