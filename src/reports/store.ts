// The report store through Kysely: SQLite by default, PostgreSQL for scale, one schema and
// one set of migrations. Every report is written in one transaction together with the daily
// roll-ups the summary reads, so a crash leaves either the whole report or nothing.
import Database from 'better-sqlite3';
import {
  type Generated,
  Kysely,
  type Migration,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
} from 'kysely';
import pg from 'pg';
import type { Finding } from '../core/findings.js';
import type { TlsrptReport } from '../core/tlsrpt-report.js';
import type {
  FailureRow,
  ReportFilter,
  ReportListItem,
  ReportStore,
  ReportSummary,
  SessionCounts,
  StoredReport,
  StoreMeta,
  StoreResult,
} from './types.js';

type Count = number;

interface ReportsTable {
  id: Generated<number>;
  organization: string;
  report_id: string;
  start_time: string;
  end_time: string;
  start_day: string;
  contact: string | null;
  source: string;
  received_at: string;
  raw_json: string;
  notes: string;
  policy_domains: string;
  successful: Count;
  failed: Count;
}

interface PoliciesTable {
  id: Generated<number>;
  report_ref: number;
  position: number;
  organization: string;
  start_day: string;
  policy_type: string;
  policy_domain: string;
  /** '' when not known: keeps the roll-up keys free of NULL (NULLs never conflict). */
  policy_mode: string;
  policy_strings: string;
  mx_hosts: string;
  successful: Count;
  failed: Count;
  counted: number;
}

interface FailuresTable {
  id: Generated<number>;
  report_ref: number;
  policy_ref: number;
  organization: string;
  start_day: string;
  policy_domain: string;
  policy_type: string;
  counted: number;
  result_type: string;
  sending_mta_ip: string | null;
  receiving_mx_hostname: string | null;
  receiving_mx_helo: string | null;
  receiving_ip: string | null;
  failed_sessions: Count;
  failure_reason_code: string | null;
  additional_information: string | null;
}

interface DailyTable {
  day: string;
  organization: string;
  policy_domain: string;
  policy_type: string;
  policy_mode: string;
  counted: number;
  successful: Count;
  failed: Count;
}

interface DailyResultsTable {
  day: string;
  organization: string;
  policy_domain: string;
  result_type: string;
  failed: Count;
}

/** The roll-ups without the domain: one real report per (day, organization, domain) makes a
 * per-domain roll-up as large as the reports, so the unfiltered summary reads these. */
interface DailyAllTable {
  day: string;
  organization: string;
  policy_type: string;
  policy_mode: string;
  counted: number;
  successful: Count;
  failed: Count;
}

interface DailyResultsAllTable {
  day: string;
  organization: string;
  result_type: string;
  failed: Count;
}

interface DailyReportsTable {
  day: string;
  organization: string;
  reports: Count;
}

export interface ReportDatabase {
  tlsrpt_reports: ReportsTable;
  tlsrpt_policies: PoliciesTable;
  tlsrpt_failures: FailuresTable;
  tlsrpt_daily: DailyTable;
  tlsrpt_daily_results: DailyResultsTable;
  tlsrpt_daily_all: DailyAllTable;
  tlsrpt_daily_results_all: DailyResultsAllTable;
  tlsrpt_daily_reports: DailyReportsTable;
}

type Dialect = 'sqlite' | 'postgres';

function migrations(dialect: Dialect): Record<string, Migration> {
  const idColumn = dialect === 'postgres' ? 'bigserial' : 'integer';
  return {
    '0001_tlsrpt': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('tlsrpt_reports')
          .addColumn('id', idColumn as 'integer', (c) => c.primaryKey())
          .addColumn('organization', 'text', (c) => c.notNull())
          .addColumn('report_id', 'text', (c) => c.notNull())
          .addColumn('start_time', 'text', (c) => c.notNull())
          .addColumn('end_time', 'text', (c) => c.notNull())
          .addColumn('start_day', 'text', (c) => c.notNull())
          .addColumn('contact', 'text')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull())
          .addColumn('raw_json', 'text', (c) => c.notNull())
          .addColumn('notes', 'text', (c) => c.notNull())
          .addColumn('policy_domains', 'text', (c) => c.notNull())
          .addColumn('successful', 'bigint', (c) => c.notNull())
          .addColumn('failed', 'bigint', (c) => c.notNull())
          // One report is (organization, report-id, date range); a second arrival is a duplicate.
          .addUniqueConstraint('tlsrpt_reports_key', ['organization', 'report_id', 'start_time', 'end_time'])
          .execute();
        await db.schema
          .createIndex('tlsrpt_reports_day')
          .on('tlsrpt_reports')
          .columns(['start_day'])
          .execute();
        await db.schema
          .createIndex('tlsrpt_reports_report_id')
          .on('tlsrpt_reports')
          .columns(['report_id'])
          .execute();

        await db.schema
          .createTable('tlsrpt_policies')
          .addColumn('id', idColumn as 'integer', (c) => c.primaryKey())
          .addColumn('report_ref', 'bigint', (c) =>
            c.notNull().references('tlsrpt_reports.id').onDelete('cascade'),
          )
          .addColumn('position', 'integer', (c) => c.notNull())
          .addColumn('organization', 'text', (c) => c.notNull())
          .addColumn('start_day', 'text', (c) => c.notNull())
          .addColumn('policy_type', 'text', (c) => c.notNull())
          .addColumn('policy_domain', 'text', (c) => c.notNull())
          .addColumn('policy_mode', 'text', (c) => c.notNull())
          .addColumn('policy_strings', 'text', (c) => c.notNull())
          .addColumn('mx_hosts', 'text', (c) => c.notNull())
          .addColumn('successful', 'bigint', (c) => c.notNull())
          .addColumn('failed', 'bigint', (c) => c.notNull())
          .addColumn('counted', 'integer', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('tlsrpt_policies_report')
          .on('tlsrpt_policies')
          .columns(['report_ref'])
          .execute();
        await db.schema
          .createIndex('tlsrpt_policies_domain')
          .on('tlsrpt_policies')
          .columns(['policy_domain', 'start_day'])
          .execute();

        await db.schema
          .createTable('tlsrpt_failures')
          .addColumn('id', idColumn as 'integer', (c) => c.primaryKey())
          .addColumn('report_ref', 'bigint', (c) =>
            c.notNull().references('tlsrpt_reports.id').onDelete('cascade'),
          )
          .addColumn('policy_ref', 'bigint', (c) =>
            c.notNull().references('tlsrpt_policies.id').onDelete('cascade'),
          )
          .addColumn('organization', 'text', (c) => c.notNull())
          .addColumn('start_day', 'text', (c) => c.notNull())
          .addColumn('policy_domain', 'text', (c) => c.notNull())
          .addColumn('policy_type', 'text', (c) => c.notNull())
          .addColumn('counted', 'integer', (c) => c.notNull())
          .addColumn('result_type', 'text', (c) => c.notNull())
          .addColumn('sending_mta_ip', 'text')
          .addColumn('receiving_mx_hostname', 'text')
          .addColumn('receiving_mx_helo', 'text')
          .addColumn('receiving_ip', 'text')
          .addColumn('failed_sessions', 'bigint', (c) => c.notNull())
          .addColumn('failure_reason_code', 'text')
          .addColumn('additional_information', 'text')
          .execute();
        await db.schema
          .createIndex('tlsrpt_failures_report')
          .on('tlsrpt_failures')
          .columns(['report_ref'])
          .execute();
        await db.schema
          .createIndex('tlsrpt_failures_day')
          .on('tlsrpt_failures')
          .columns(['start_day'])
          .execute();

        await db.schema
          .createTable('tlsrpt_daily')
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('organization', 'text', (c) => c.notNull())
          .addColumn('policy_domain', 'text', (c) => c.notNull())
          .addColumn('policy_type', 'text', (c) => c.notNull())
          .addColumn('policy_mode', 'text', (c) => c.notNull())
          .addColumn('counted', 'integer', (c) => c.notNull())
          .addColumn('successful', 'bigint', (c) => c.notNull())
          .addColumn('failed', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('tlsrpt_daily_pk', [
            'day',
            'organization',
            'policy_domain',
            'policy_type',
            'policy_mode',
            'counted',
          ])
          .execute();
        await db.schema
          .createTable('tlsrpt_daily_results')
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('organization', 'text', (c) => c.notNull())
          .addColumn('policy_domain', 'text', (c) => c.notNull())
          .addColumn('result_type', 'text', (c) => c.notNull())
          .addColumn('failed', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('tlsrpt_daily_results_pk', [
            'day',
            'organization',
            'policy_domain',
            'result_type',
          ])
          .execute();
      },
    },
    '0002_tlsrpt_rollups_all_domains': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('tlsrpt_daily_all')
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('organization', 'text', (c) => c.notNull())
          .addColumn('policy_type', 'text', (c) => c.notNull())
          .addColumn('policy_mode', 'text', (c) => c.notNull())
          .addColumn('counted', 'integer', (c) => c.notNull())
          .addColumn('successful', 'bigint', (c) => c.notNull())
          .addColumn('failed', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('tlsrpt_daily_all_pk', [
            'day',
            'organization',
            'policy_type',
            'policy_mode',
            'counted',
          ])
          .execute();
        await db.schema
          .createTable('tlsrpt_daily_results_all')
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('organization', 'text', (c) => c.notNull())
          .addColumn('result_type', 'text', (c) => c.notNull())
          .addColumn('failed', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('tlsrpt_daily_results_all_pk', ['day', 'organization', 'result_type'])
          .execute();
        await db.schema
          .createTable('tlsrpt_daily_reports')
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('organization', 'text', (c) => c.notNull())
          .addColumn('reports', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('tlsrpt_daily_reports_pk', ['day', 'organization'])
          .execute();
        await fillAllDomainRollups(db as Kysely<ReportDatabase>);
      },
    },
  };
}

async function fillAllDomainRollups(db: Kysely<ReportDatabase>): Promise<void> {
  await sql`insert into tlsrpt_daily_all (day, organization, policy_type, policy_mode, counted, successful, failed)
    select day, organization, policy_type, policy_mode, counted, sum(successful), sum(failed)
    from tlsrpt_daily group by day, organization, policy_type, policy_mode, counted`.execute(db);
  await sql`insert into tlsrpt_daily_results_all (day, organization, result_type, failed)
    select day, organization, result_type, sum(failed) from tlsrpt_daily_results
    group by day, organization, result_type`.execute(db);
  await sql`insert into tlsrpt_daily_reports (day, organization, reports)
    select start_day, organization, count(*) from tlsrpt_reports group by start_day, organization`.execute(
    db,
  );
}

export interface OpenStoreOptions {
  /** Migrate the schema on open (default true). */
  migrate?: boolean;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(url);
}

/** The database to use: --db, else MTA_STS_DB, else ./mta-sts.db. */
export function resolveDbUrl(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return option || env.MTA_STS_DB || './mta-sts.db';
}

/** Open (and migrate) the store at a SQLite path or a postgres:// URL. */
export async function openReportStore(
  url: string,
  options: OpenStoreOptions = {},
): Promise<KyselyReportStore> {
  let db: Kysely<ReportDatabase>;
  let dialect: Dialect;
  let raw: Database.Database | undefined;
  if (isPostgresUrl(url)) {
    dialect = 'postgres';
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    // A broken connection in an idle pool must not crash the process.
    pool.on('error', () => {});
    db = new Kysely<ReportDatabase>({ dialect: new PostgresDialect({ pool }) });
  } else {
    dialect = 'sqlite';
    const path = url.replace(/^sqlite:(\/\/)?/i, '');
    const sqlite = new Database(path);
    raw = sqlite;
    // WAL keeps every commit atomic across a crash without an fsync per report; NORMAL
    // loses at most the last commits on power loss, never consistency.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 10000');
    sqlite.pragma('foreign_keys = ON');
    // Fewer checkpoints (each one syncs) during bulk ingestion; the WAL stays bounded.
    sqlite.pragma('wal_autocheckpoint = 4000');
    db = new Kysely<ReportDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  const store = new KyselyReportStore(db, dialect, raw);
  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (err) {
      await db.destroy();
      throw err;
    }
  }
  return store;
}

function defaultGroupSize(): number {
  const env = Number(process.env.MTA_STS_INGEST_GROUP);
  return Number.isInteger(env) && env > 0 ? env : 200;
}

let storedInProcess = 0;
const crashAfter = process.env.MTA_STS_TEST_CRASH_AFTER
  ? Number(process.env.MTA_STS_TEST_CRASH_AFTER)
  : undefined;

/** Test hook (MTA_STS_TEST_CRASH_AFTER=N): die inside the (N+1)th write, after its first row. */
function crashHook(): void {
  if (crashAfter !== undefined && storedInProcess >= crashAfter) process.kill(process.pid, 'SIGKILL');
}

class SqliteWriter {
  readonly store: (report: TlsrptReport, meta: StoreMeta) => StoreResult;

  constructor(db: Database.Database) {
    const insertReport = db.prepare(
      `insert into tlsrpt_reports (organization, report_id, start_time, end_time, start_day, contact, source,
         received_at, raw_json, notes, policy_domains, successful, failed)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (organization, report_id, start_time, end_time) do nothing`,
    );
    const findReport = db.prepare(
      'select id from tlsrpt_reports where organization = ? and report_id = ? and start_time = ? and end_time = ?',
    );
    const insertPolicy = db.prepare(
      `insert into tlsrpt_policies (report_ref, position, organization, start_day, policy_type, policy_domain,
         policy_mode, policy_strings, mx_hosts, successful, failed, counted)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertFailure = db.prepare(
      `insert into tlsrpt_failures (report_ref, policy_ref, organization, start_day, policy_domain, policy_type, counted,
         result_type, sending_mta_ip, receiving_mx_hostname, receiving_mx_helo, receiving_ip, failed_sessions,
         failure_reason_code, additional_information)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const addDaily = db.prepare(
      `insert into tlsrpt_daily (day, organization, policy_domain, policy_type, policy_mode, counted, successful, failed)
       values (?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (day, organization, policy_domain, policy_type, policy_mode, counted)
       do update set successful = successful + excluded.successful, failed = failed + excluded.failed`,
    );
    const addResult = db.prepare(
      `insert into tlsrpt_daily_results (day, organization, policy_domain, result_type, failed) values (?, ?, ?, ?, ?)
       on conflict (day, organization, policy_domain, result_type) do update set failed = failed + excluded.failed`,
    );
    const addDailyAll = db.prepare(
      `insert into tlsrpt_daily_all (day, organization, policy_type, policy_mode, counted, successful, failed)
       values (?, ?, ?, ?, ?, ?, ?)
       on conflict (day, organization, policy_type, policy_mode, counted)
       do update set successful = successful + excluded.successful, failed = failed + excluded.failed`,
    );
    const addResultAll = db.prepare(
      `insert into tlsrpt_daily_results_all (day, organization, result_type, failed) values (?, ?, ?, ?)
       on conflict (day, organization, result_type) do update set failed = failed + excluded.failed`,
    );
    const addReport = db.prepare(
      `insert into tlsrpt_daily_reports (day, organization, reports) values (?, ?, 1)
       on conflict (day, organization) do update set reports = reports + 1`,
    );
    this.store = db.transaction((report: TlsrptReport, meta: StoreMeta): StoreResult => {
      const day = dayOf(report.start);
      const counted = report.policies.filter((p) => p.counted);
      const info = insertReport.run(
        report.organization,
        report.reportId,
        report.start,
        report.end,
        day,
        report.contact,
        meta.source,
        meta.receivedAt.toISOString(),
        meta.rawJson,
        JSON.stringify(meta.notes),
        [...new Set(report.policies.map((p) => p.policyDomain))].join(' '),
        counted.reduce((a, p) => a + p.successful, 0),
        counted.reduce((a, p) => a + p.failed, 0),
      );
      if (info.changes === 0) {
        const row = findReport.get(report.organization, report.reportId, report.start, report.end) as {
          id: number;
        };
        return { status: 'duplicate', id: Number(row.id) };
      }
      const reportRef = Number(info.lastInsertRowid);
      crashHook();
      addReport.run(day, report.organization);
      for (const [position, p] of report.policies.entries()) {
        const flag = p.counted ? 1 : 0;
        const policyRef = insertPolicy.run(
          reportRef,
          position,
          report.organization,
          day,
          p.policyType,
          p.policyDomain,
          p.mode ?? '',
          JSON.stringify(p.policyStrings),
          JSON.stringify(p.mxHosts),
          p.successful,
          p.failed,
          flag,
        ).lastInsertRowid;
        addDaily.run(
          day,
          report.organization,
          p.policyDomain,
          p.policyType,
          p.mode ?? '',
          flag,
          p.successful,
          p.failed,
        );
        addDailyAll.run(day, report.organization, p.policyType, p.mode ?? '', flag, p.successful, p.failed);
        for (const d of p.failureDetails) {
          insertFailure.run(
            reportRef,
            policyRef,
            report.organization,
            day,
            p.policyDomain,
            p.policyType,
            flag,
            d.resultType,
            d.sendingMtaIp,
            d.receivingMxHostname,
            d.receivingMxHelo,
            d.receivingIp,
            d.failedSessions,
            d.failureReasonCode,
            d.additionalInformation,
          );
          if (p.counted) {
            addResult.run(day, report.organization, p.policyDomain, d.resultType, d.failedSessions);
            addResultAll.run(day, report.organization, d.resultType, d.failedSessions);
          }
        }
      }
      storedInProcess++;
      return { status: 'ingested', id: reportRef };
    });
  }
}

function rate(successful: number, failed: number): SessionCounts {
  const total = successful + failed;
  return { successful, failed, failureRate: total === 0 ? 0 : Math.round((failed / total) * 1e6) / 1e6 };
}

function dayOf(iso: string): string {
  return iso.slice(0, 10);
}

export class KyselyReportStore implements ReportStore {
  constructor(
    readonly db: Kysely<ReportDatabase>,
    readonly dialect: Dialect,
    private readonly sqlite?: Database.Database,
  ) {}

  private sqliteWriter?: SqliteWriter;

  async migrate(): Promise<void> {
    const migrator = new Migrator({
      db: this.db,
      provider: { getMigrations: async () => migrations(this.dialect) },
      migrationTableName: 'tlsrpt_migrations',
      migrationLockTableName: 'tlsrpt_migrations_lock',
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      const e = new Error(`database migration ${failed ?? ''} failed: ${(error as Error).message ?? error}`);
      (e as NodeJS.ErrnoException).code = 'EMIGRATION';
      throw e;
    }
  }

  async close(): Promise<void> {
    this.commitGroup();
    await this.db.destroy();
  }

  private groupSize = 1;
  private groupCount = 0;

  private commitGroup(): void {
    if (this.sqlite?.inTransaction) this.sqlite.exec('COMMIT');
    this.groupCount = 0;
    this.onGroupCommit?.();
  }

  private onGroupCommit: (() => void) | undefined;

  /**
   * Bulk ingestion on SQLite: commit every `size` reports rather than after each one. Every
   * report still goes in whole or not at all (its own savepoint), and a crash loses at most
   * the reports of the open group, which a rerun stores; only the fsync-bound commit is shared.
   * `flush()` commits early (before an IMAP message is moved, for instance). `onCommit` runs
   * after each commit, so callers report a report as stored only once it is. No-op grouping on
   * PostgreSQL, where every report commits by itself (onCommit then runs at the end).
   */
  async grouped<T>(
    fn: (flush: () => void) => Promise<T>,
    size = defaultGroupSize(),
    onCommit?: () => void,
  ): Promise<T> {
    if (!this.sqlite) {
      try {
        return await fn(() => {});
      } finally {
        onCommit?.();
      }
    }
    this.groupSize = Math.max(1, size);
    this.onGroupCommit = onCommit;
    try {
      return await fn(() => this.commitGroup());
    } finally {
      this.commitGroup();
      this.groupSize = 1;
      this.onGroupCommit = undefined;
    }
  }

  async storeReport(report: TlsrptReport, meta: StoreMeta): Promise<StoreResult> {
    if (this.sqlite) {
      // SQLite hot path: the same rows as below, through cached prepared statements in one
      // synchronous transaction (Kysely's per-query compile and prepare cost 10x the write).
      this.sqliteWriter ??= new SqliteWriter(this.sqlite);
      if (this.groupSize > 1 && !this.sqlite.inTransaction) this.sqlite.exec('BEGIN IMMEDIATE');
      // Inside a group the writer's transaction becomes a savepoint: still all or nothing.
      const result = this.sqliteWriter.store(report, meta);
      if (this.sqlite.inTransaction && ++this.groupCount >= this.groupSize) this.commitGroup();
      return result;
    }
    // Two copies of one report in flight at once: the one handed over first is stored, the
    // other waits for it and comes out as the duplicate, as it would one after the other.
    const key = JSON.stringify([report.organization, report.reportId, report.start, report.end]);
    const before = this.inflight.get(key);
    const run = (before ? before.catch(() => {}) : Promise.resolve()).then(() =>
      this.storeWithRetry(report, meta),
    );
    this.inflight.set(key, run);
    try {
      return await run;
    } finally {
      if (this.inflight.get(key) === run) this.inflight.delete(key);
    }
  }

  private readonly inflight = new Map<string, Promise<StoreResult>>();

  private async storeWithRetry(report: TlsrptReport, meta: StoreMeta): Promise<StoreResult> {
    // Concurrent writers can deadlock on the shared roll-up rows; PostgreSQL then aborts one
    // transaction whole, so running it again is safe.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.storeWithKysely(report, meta);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 5 || (code !== '40P01' && code !== '40001')) throw err;
      }
    }
  }

  private async storeWithKysely(report: TlsrptReport, meta: StoreMeta): Promise<StoreResult> {
    const day = dayOf(report.start);
    const counted = report.policies.filter((p) => p.counted);
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('tlsrpt_reports')
        .values({
          organization: report.organization,
          report_id: report.reportId,
          start_time: report.start,
          end_time: report.end,
          start_day: day,
          contact: report.contact,
          source: meta.source,
          received_at: meta.receivedAt.toISOString(),
          raw_json: meta.rawJson,
          notes: JSON.stringify(meta.notes),
          policy_domains: [...new Set(report.policies.map((p) => p.policyDomain))].join(' '),
          successful: counted.reduce((a, p) => a + p.successful, 0),
          failed: counted.reduce((a, p) => a + p.failed, 0),
        })
        .onConflict((oc) => oc.columns(['organization', 'report_id', 'start_time', 'end_time']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) {
        const existing = await trx
          .selectFrom('tlsrpt_reports')
          .select('id')
          .where('organization', '=', report.organization)
          .where('report_id', '=', report.reportId)
          .where('start_time', '=', report.start)
          .where('end_time', '=', report.end)
          .executeTakeFirstOrThrow();
        return { status: 'duplicate', id: Number(existing.id) };
      }
      const reportRef = Number(inserted.id);
      crashHook();
      await trx
        .insertInto('tlsrpt_daily_reports')
        .values({ day, organization: report.organization, reports: 1 })
        .onConflict((oc) =>
          oc.columns(['day', 'organization']).doUpdateSet((eb) => ({
            reports: eb('tlsrpt_daily_reports.reports', '+', 1),
          })),
        )
        .execute();
      if (report.policies.length > 0) {
        const policyRows = await trx
          .insertInto('tlsrpt_policies')
          .values(
            report.policies.map((p, position) => ({
              report_ref: reportRef,
              position,
              organization: report.organization,
              start_day: day,
              policy_type: p.policyType,
              policy_domain: p.policyDomain,
              policy_mode: p.mode ?? '',
              policy_strings: JSON.stringify(p.policyStrings),
              mx_hosts: JSON.stringify(p.mxHosts),
              successful: p.successful,
              failed: p.failed,
              counted: p.counted ? 1 : 0,
            })),
          )
          .returning(['id', 'position'])
          .execute();
        const policyIds = new Map(policyRows.map((r) => [Number(r.position), Number(r.id)]));
        const failures = report.policies.flatMap((p, position) =>
          p.failureDetails.map((d) => ({
            report_ref: reportRef,
            policy_ref: policyIds.get(position)!,
            organization: report.organization,
            start_day: day,
            policy_domain: p.policyDomain,
            policy_type: p.policyType,
            counted: p.counted ? 1 : 0,
            result_type: d.resultType,
            sending_mta_ip: d.sendingMtaIp,
            receiving_mx_hostname: d.receivingMxHostname,
            receiving_mx_helo: d.receivingMxHelo,
            receiving_ip: d.receivingIp,
            failed_sessions: d.failedSessions,
            failure_reason_code: d.failureReasonCode,
            additional_information: d.additionalInformation,
          })),
        );
        // Keep each statement well under SQLite's bound-parameter limit.
        for (let i = 0; i < failures.length; i += 500) {
          await trx
            .insertInto('tlsrpt_failures')
            .values(failures.slice(i, i + 500))
            .execute();
        }
        await this.addToDaily(trx, report, day);
      }
      storedInProcess++;
      return { status: 'ingested', id: reportRef };
    });
  }

  private async addToDaily(trx: Kysely<ReportDatabase>, report: TlsrptReport, day: string): Promise<void> {
    const daily = new Map<string, DailyTable>();
    for (const p of report.policies) {
      const row = {
        day,
        organization: report.organization,
        policy_domain: p.policyDomain,
        policy_type: p.policyType,
        policy_mode: p.mode ?? '',
        counted: p.counted ? 1 : 0,
        successful: 0,
        failed: 0,
      };
      const key = JSON.stringify([row.policy_domain, row.policy_type, row.policy_mode, row.counted]);
      const acc = daily.get(key) ?? row;
      acc.successful += p.successful;
      acc.failed += p.failed;
      daily.set(key, acc);
    }
    await trx
      .insertInto('tlsrpt_daily')
      .values([...daily.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v))
      .onConflict((oc) =>
        oc
          .columns(['day', 'organization', 'policy_domain', 'policy_type', 'policy_mode', 'counted'])
          .doUpdateSet((eb) => ({
            successful: eb('tlsrpt_daily.successful', '+', eb.ref('excluded.successful')),
            failed: eb('tlsrpt_daily.failed', '+', eb.ref('excluded.failed')),
          })),
      )
      .execute();
    const all = new Map<string, DailyAllTable>();
    for (const row of daily.values()) {
      const key = JSON.stringify([row.policy_type, row.policy_mode, row.counted]);
      const acc = all.get(key) ?? {
        day,
        organization: report.organization,
        policy_type: row.policy_type,
        policy_mode: row.policy_mode,
        counted: row.counted,
        successful: 0,
        failed: 0,
      };
      acc.successful += row.successful;
      acc.failed += row.failed;
      all.set(key, acc);
    }
    await trx
      .insertInto('tlsrpt_daily_all')
      .values([...all.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v))
      .onConflict((oc) =>
        oc.columns(['day', 'organization', 'policy_type', 'policy_mode', 'counted']).doUpdateSet((eb) => ({
          successful: eb('tlsrpt_daily_all.successful', '+', eb.ref('excluded.successful')),
          failed: eb('tlsrpt_daily_all.failed', '+', eb.ref('excluded.failed')),
        })),
      )
      .execute();
    const results = new Map<string, DailyResultsTable>();
    for (const p of report.policies) {
      if (!p.counted) continue;
      for (const d of p.failureDetails) {
        const key = JSON.stringify([p.policyDomain, d.resultType]);
        const acc = results.get(key) ?? {
          day,
          organization: report.organization,
          policy_domain: p.policyDomain,
          result_type: d.resultType,
          failed: 0,
        };
        acc.failed += d.failedSessions;
        results.set(key, acc);
      }
    }
    if (results.size === 0) return;
    await trx
      .insertInto('tlsrpt_daily_results')
      .values([...results.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v))
      .onConflict((oc) =>
        oc.columns(['day', 'organization', 'policy_domain', 'result_type']).doUpdateSet((eb) => ({
          failed: eb('tlsrpt_daily_results.failed', '+', eb.ref('excluded.failed')),
        })),
      )
      .execute();
    const resultsAll = new Map<string, number>();
    for (const r of results.values())
      resultsAll.set(r.result_type, (resultsAll.get(r.result_type) ?? 0) + r.failed);
    await trx
      .insertInto('tlsrpt_daily_results_all')
      .values(
        [...resultsAll.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([result_type, failed]) => ({ day, organization: report.organization, result_type, failed })),
      )
      .onConflict((oc) =>
        oc.columns(['day', 'organization', 'result_type']).doUpdateSet((eb) => ({
          failed: eb('tlsrpt_daily_results_all.failed', '+', eb.ref('excluded.failed')),
        })),
      )
      .execute();
  }

  /** Recompute the daily roll-ups from the stored policies (after a bulk load that bypassed storeReport). */
  async rebuildRollups(): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('tlsrpt_daily').execute();
      await trx.deleteFrom('tlsrpt_daily_results').execute();
      await sql`insert into tlsrpt_daily (day, organization, policy_domain, policy_type, policy_mode, counted, successful, failed)
        select start_day, organization, policy_domain, policy_type, policy_mode, counted, sum(successful), sum(failed)
        from tlsrpt_policies group by start_day, organization, policy_domain, policy_type, policy_mode, counted`.execute(
        trx,
      );
      await sql`insert into tlsrpt_daily_results (day, organization, policy_domain, result_type, failed)
        select start_day, organization, policy_domain, result_type, sum(failed_sessions)
        from tlsrpt_failures where counted = 1 group by start_day, organization, policy_domain, result_type`.execute(
        trx,
      );
      await trx.deleteFrom('tlsrpt_daily_all').execute();
      await trx.deleteFrom('tlsrpt_daily_results_all').execute();
      await trx.deleteFrom('tlsrpt_daily_reports').execute();
      await fillAllDomainRollups(trx);
    });
  }

  async summary(filter: ReportFilter = {}): Promise<ReportSummary> {
    const range = <Q extends { where: (...a: any[]) => Q }>(q: Q, dayColumn: string): Q => {
      let out = q;
      if (filter.organization) out = out.where('organization', '=', filter.organization);
      if (filter.since) out = out.where(dayColumn, '>=', filter.since);
      if (filter.until) out = out.where(dayColumn, '<=', filter.until);
      return out;
    };
    type Row = {
      day: string;
      organization: string;
      policy_type: string;
      policy_mode: string;
      counted: number;
      successful: number;
      failed: number;
    };
    let rows: Row[];
    let resultRows: Array<{ result_type: string; failed: number }>;
    if (filter.domain) {
      const domain = normaliseDomain(filter.domain);
      rows = await range(this.db.selectFrom('tlsrpt_daily').where('policy_domain', '=', domain), 'day')
        .select(['day', 'organization', 'policy_type', 'policy_mode', 'counted'])
        .select((eb) => [
          eb.fn.sum<number>('successful').as('successful'),
          eb.fn.sum<number>('failed').as('failed'),
        ])
        .groupBy(['day', 'organization', 'policy_type', 'policy_mode', 'counted'])
        .execute();
      resultRows = await range(
        this.db.selectFrom('tlsrpt_daily_results').where('policy_domain', '=', domain),
        'day',
      )
        .select('result_type')
        .select((eb) => eb.fn.sum<number>('failed').as('failed'))
        .groupBy('result_type')
        .orderBy('result_type')
        .execute();
    } else {
      rows = await range(this.db.selectFrom('tlsrpt_daily_all'), 'day')
        .select(['day', 'organization', 'policy_type', 'policy_mode', 'counted', 'successful', 'failed'])
        .execute();
      resultRows = await range(this.db.selectFrom('tlsrpt_daily_results_all'), 'day')
        .select('result_type')
        .select((eb) => eb.fn.sum<number>('failed').as('failed'))
        .groupBy('result_type')
        .orderBy('result_type')
        .execute();
    }

    const totals = { successful: 0, failed: 0 };
    const byDay = new Map<string, { successful: number; failed: number }>();
    const byOrg = new Map<string, { successful: number; failed: number }>();
    const byPolicy = new Map<
      string,
      { policyType: string; mode: string | null; successful: number; failed: number; xs: number; xf: number }
    >();
    const add = (m: Map<string, { successful: number; failed: number }>, k: string, s: number, f: number) => {
      const acc = m.get(k) ?? { successful: 0, failed: 0 };
      acc.successful += s;
      acc.failed += f;
      m.set(k, acc);
    };
    for (const r of rows) {
      const s = Number(r.successful);
      const f = Number(r.failed);
      const mode = r.policy_type === 'sts' ? r.policy_mode || 'unknown' : null;
      const key = mode ? `${r.policy_type}/${mode}` : r.policy_type;
      const p = byPolicy.get(key) ?? {
        policyType: r.policy_type,
        mode,
        successful: 0,
        failed: 0,
        xs: 0,
        xf: 0,
      };
      p.successful += s;
      p.failed += f;
      byPolicy.set(key, p);
      if (Number(r.counted) !== 1) {
        p.xs += s;
        p.xf += f;
        continue;
      }
      totals.successful += s;
      totals.failed += f;
      add(byDay, r.day, s, f);
      add(byOrg, r.organization, s, f);
    }
    const toRecord = (m: Map<string, { successful: number; failed: number }>) =>
      Object.fromEntries(
        [...m.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => [k, rate(v.successful, v.failed)]),
      );
    return {
      filter: {
        domain: filter.domain ?? null,
        organization: filter.organization ?? null,
        since: filter.since ?? null,
        until: filter.until ?? null,
      },
      reports: await this.countReports(filter),
      totals: rate(totals.successful, totals.failed),
      byDay: toRecord(byDay),
      byOrganization: toRecord(byOrg),
      byPolicy: Object.fromEntries(
        [...byPolicy.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, v]) => [
            k,
            {
              policyType: v.policyType,
              mode: v.mode,
              ...rate(v.successful, v.failed),
              excludedFromTotals: { successful: v.xs, failed: v.xf },
            },
          ]),
      ),
      byResultType: Object.fromEntries(resultRows.map((r) => [r.result_type, Number(r.failed)])),
    };
  }

  private async countReports(filter: ReportFilter): Promise<number> {
    if (filter.domain) {
      let q = this.db
        .selectFrom('tlsrpt_policies')
        .where('policy_domain', '=', normaliseDomain(filter.domain));
      if (filter.organization) q = q.where('organization', '=', filter.organization);
      if (filter.since) q = q.where('start_day', '>=', filter.since);
      if (filter.until) q = q.where('start_day', '<=', filter.until);
      const r = await q
        .select((eb) => eb.fn.count<number>('report_ref').distinct().as('n'))
        .executeTakeFirst();
      return Number(r?.n ?? 0);
    }
    let q = this.db.selectFrom('tlsrpt_daily_reports');
    if (filter.organization) q = q.where('organization', '=', filter.organization);
    if (filter.since) q = q.where('day', '>=', filter.since);
    if (filter.until) q = q.where('day', '<=', filter.until);
    const r = await q.select((eb) => eb.fn.sum<number>('reports').as('n')).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async failures(filter: ReportFilter = {}): Promise<FailureRow[]> {
    let q = this.db.selectFrom('tlsrpt_failures');
    if (filter.domain) q = q.where('policy_domain', '=', normaliseDomain(filter.domain));
    if (filter.organization) q = q.where('organization', '=', filter.organization);
    if (filter.since) q = q.where('start_day', '>=', filter.since);
    if (filter.until) q = q.where('start_day', '<=', filter.until);
    const cols = [
      'organization',
      'policy_domain',
      'policy_type',
      'result_type',
      'sending_mta_ip',
      'receiving_mx_hostname',
      'receiving_ip',
    ] as const;
    const rows = await q
      .select(cols)
      .select((eb) => [
        eb.fn.sum<number>('failed_sessions').as('failed'),
        eb.fn.count<number>('report_ref').distinct().as('reports'),
      ])
      .groupBy(cols)
      .execute();
    return rows
      .map((r) => ({
        organization: r.organization,
        policyDomain: r.policy_domain,
        policyType: r.policy_type,
        resultType: r.result_type,
        sendingMtaIp: r.sending_mta_ip,
        receivingMxHostname: r.receiving_mx_hostname,
        receivingIp: r.receiving_ip,
        failedSessions: Number(r.failed),
        reports: Number(r.reports),
      }))
      .sort(
        (a, b) =>
          b.failedSessions - a.failedSessions ||
          cmp(a.organization, b.organization) ||
          cmp(a.policyDomain, b.policyDomain) ||
          cmp(a.resultType, b.resultType) ||
          cmp(a.sendingMtaIp ?? '', b.sendingMtaIp ?? '') ||
          cmp(a.receivingMxHostname ?? '', b.receivingMxHostname ?? '') ||
          cmp(a.policyType, b.policyType),
      );
  }

  async list(filter: ReportFilter & { limit?: number; offset?: number } = {}): Promise<ReportListItem[]> {
    let q = this.db.selectFrom('tlsrpt_reports');
    if (filter.domain) {
      const d = normaliseDomain(filter.domain);
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('tlsrpt_policies')
            .select('tlsrpt_policies.id')
            .whereRef('tlsrpt_policies.report_ref', '=', 'tlsrpt_reports.id')
            .where('tlsrpt_policies.policy_domain', '=', d),
        ),
      );
    }
    if (filter.organization) q = q.where('organization', '=', filter.organization);
    if (filter.since) q = q.where('start_day', '>=', filter.since);
    if (filter.until) q = q.where('start_day', '<=', filter.until);
    const rows = await q
      .select([
        'id',
        'organization',
        'report_id',
        'start_time',
        'end_time',
        'policy_domains',
        'successful',
        'failed',
        'notes',
        'source',
        'received_at',
      ])
      .orderBy('start_time', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100)
      .offset(filter.offset ?? 0)
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      organization: r.organization,
      reportId: r.report_id,
      start: r.start_time,
      end: r.end_time,
      policyDomains: r.policy_domains === '' ? [] : r.policy_domains.split(' '),
      successful: Number(r.successful),
      failed: Number(r.failed),
      notes: (JSON.parse(r.notes) as unknown[]).length,
      source: r.source,
      receivedAt: r.received_at,
    }));
  }

  async show(idOrReportId: string | number): Promise<StoredReport[]> {
    let q = this.db.selectFrom('tlsrpt_reports').selectAll();
    const asNumber =
      typeof idOrReportId === 'number'
        ? idOrReportId
        : /^\d{1,15}$/.test(idOrReportId)
          ? Number(idOrReportId)
          : undefined;
    q =
      asNumber !== undefined
        ? q.where((eb) => eb.or([eb('id', '=', asNumber), eb('report_id', '=', String(idOrReportId))]))
        : q.where('report_id', '=', String(idOrReportId));
    const reports = await q.orderBy('id').limit(50).execute();
    const out: StoredReport[] = [];
    for (const r of reports) {
      const policies = await this.db
        .selectFrom('tlsrpt_policies')
        .selectAll()
        .where('report_ref', '=', r.id)
        .orderBy('position')
        .execute();
      const failures = await this.db
        .selectFrom('tlsrpt_failures')
        .selectAll()
        .where('report_ref', '=', r.id)
        .orderBy('id')
        .execute();
      out.push({
        id: Number(r.id),
        organization: r.organization,
        reportId: r.report_id,
        start: r.start_time,
        end: r.end_time,
        contact: r.contact,
        policyDomains: r.policy_domains === '' ? [] : r.policy_domains.split(' '),
        successful: Number(r.successful),
        failed: Number(r.failed),
        source: r.source,
        receivedAt: r.received_at,
        notes: JSON.parse(r.notes) as Finding[],
        policies: policies.map((p) => ({
          policyType: p.policy_type,
          policyDomain: p.policy_domain,
          mode: p.policy_mode === '' ? null : p.policy_mode,
          policyStrings: JSON.parse(p.policy_strings) as string[],
          mxHosts: JSON.parse(p.mx_hosts) as string[],
          successful: Number(p.successful),
          failed: Number(p.failed),
          countedInTotals: Number(p.counted) === 1,
          failureDetails: failures
            .filter((f) => Number(f.policy_ref) === Number(p.id))
            .map((f) => ({
              resultType: f.result_type,
              sendingMtaIp: f.sending_mta_ip,
              receivingMxHostname: f.receiving_mx_hostname,
              receivingMxHelo: f.receiving_mx_helo,
              receivingIp: f.receiving_ip,
              failedSessions: Number(f.failed_sessions),
              failureReasonCode: f.failure_reason_code,
              additionalInformation: f.additional_information,
            })),
        })),
        rawJson: r.raw_json,
      });
    }
    return out;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function normaliseDomain(d: string): string {
  return d.trim().toLowerCase().replace(/\.$/, '');
}
