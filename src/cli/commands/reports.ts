// `mta-sts reports ingest|summary|failures|list|show`: TLS reports (RFC 8460) in and answers out.
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { ImapUrlError, ingestImap, parseImapUrl } from '../../reports/imap.js';
import type { IngestItemResult, IngestOutcome } from '../../reports/ingest.js';
import { ingestPaths } from '../../reports/ingest.js';
import { type KyselyReportStore, openReportStore, resolveDbUrl } from '../../reports/store.js';
import type {
  FailureRow,
  ReportFilter,
  ReportListItem,
  ReportSummary,
  SessionCounts,
} from '../../reports/types.js';
import {
  type Colors,
  colors,
  EXIT_OK,
  EXIT_PROBLEMS,
  parseIntegerOption,
  printJson,
  UsageError,
} from '../output.js';

interface DbOptions {
  db?: string;
}
interface QueryOptions extends DbOptions {
  domain?: string;
  organization?: string;
  since?: string;
  until?: string;
  json?: boolean;
  csv?: boolean;
}

const DB_HELP = 'database: a SQLite file or postgres://… URL (default $MTA_STS_DB, else ./mta-sts.db)';

function addQueryOptions(cmd: Command): Command {
  return cmd
    .option('--db <url>', DB_HELP)
    .option('--domain <domain>', 'only this policy domain')
    .option('--organization <name>', 'only reports from this organization')
    .option('--since <date>', 'only reports starting on or after this UTC day (YYYY-MM-DD)')
    .option('--until <date>', 'only reports starting on or before this UTC day (YYYY-MM-DD)')
    .addOption(new Option('--json', 'print one JSON object').conflicts('csv'))
    .option('--csv', 'print CSV (RFC 4180)');
}

function day(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})(?:T.*)?$/.exec(raw.trim());
  if (!m || Number.isNaN(Date.parse(m[1]!)))
    throw new UsageError(`${name} must be a date (YYYY-MM-DD), got "${raw}"`);
  return m[1];
}

function filterFrom(opts: QueryOptions): ReportFilter {
  const f: ReportFilter = {};
  if (opts.domain) f.domain = opts.domain;
  if (opts.organization) f.organization = opts.organization;
  const since = day('--since', opts.since);
  const until = day('--until', opts.until);
  if (since) f.since = since;
  if (until) f.until = until;
  return f;
}

async function withStore<T>(opts: DbOptions, fn: (store: KyselyReportStore) => Promise<T>): Promise<T> {
  const url = resolveDbUrl(opts.db);
  let store: KyselyReportStore;
  try {
    store = await openReportStore(url);
  } catch (err) {
    throw new UsageError(`cannot open the report database ${redact(url)}: ${(err as Error).message}`, 'db');
  }
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

export function registerReports(program: Command): void {
  const reports = program
    .command('reports')
    .description('TLS reports (RFC 8460): ingest them, then ask what senders saw');

  reports
    .command('ingest')
    .description('import reports from files, directories, Maildirs, mboxes, stdin (-) or an IMAP mailbox')
    .argument('[paths...]', '.json, .json.gz, .gz, .zip, .eml, mbox, Maildir, directory, or - for stdin')
    .option('--db <url>', DB_HELP)
    .option(
      '--imap <url>',
      'read a mailbox: imaps://USER@HOST[:PORT]/MAILBOX (password from $MTA_STS_IMAP_PASSWORD)',
    )
    .option('--password-file <file>', 'read the IMAP password from this file')
    .option('--move-to <mailbox>', 'move processed IMAP messages here (default: mark them seen)')
    .option('--ca-file <file>', 'trust this PEM CA bundle for the IMAP server')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Examples:
  mta-sts reports ingest ~/Downloads/*.json.gz
  mta-sts reports ingest ~/Maildir/.tlsrpt --db postgres://tlsrpt@db/tlsrpt
  MTA_STS_IMAP_PASSWORD=… mta-sts reports ingest --imap imaps://tlsrpt@mail.example.com/INBOX --move-to Processed

Exit status: 0 nothing invalid, 1 some input was invalid (the rest was stored), 2 usage or database error.`,
    )
    .action(async (paths: string[], opts: IngestCliOptions) => {
      process.exitCode = await runIngest(paths, opts);
    });

  addQueryOptions(
    reports
      .command('summary')
      .description(
        'sessions and failure rate: totals, per day, organization, policy type/mode and result type',
      ),
  ).action(async (opts: QueryOptions) => {
    const filter = filterFrom(opts);
    const summary = await withStore(opts, (s) => s.summary(filter));
    if (opts.json) printJson(summary);
    else if (opts.csv) process.stdout.write(summaryCsv(summary));
    else process.stdout.write(summaryText(summary, colors()));
    process.exitCode = EXIT_OK;
  });

  addQueryOptions(
    reports
      .command('failures')
      .description(
        'failed sessions by organization, policy domain, result type, sending IP, receiving MX and IP',
      )
      .addHelpText(
        'after',
        '\nExit status: 0 no failures in range, 1 failures found, 2 usage or database error.',
      ),
  ).action(async (opts: QueryOptions) => {
    const filter = filterFrom(opts);
    const rows = await withStore(opts, (s) => s.failures(filter));
    const total = rows.reduce((a, r) => a + r.failedSessions, 0);
    if (opts.json) printJson({ filter: jsonFilter(filter), totalFailedSessions: total, failures: rows });
    else if (opts.csv) process.stdout.write(failuresCsv(rows));
    else process.stdout.write(failuresText(rows, total, colors()));
    process.exitCode = rows.length > 0 ? EXIT_PROBLEMS : EXIT_OK;
  });

  addQueryOptions(reports.command('list').description('stored reports, newest first'))
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--offset <n>', 'skip this many first')
    .action(async (opts: QueryOptions & { limit?: string; offset?: string }) => {
      const filter = {
        ...filterFrom(opts),
        limit: opts.limit ? parseIntegerOption('--limit', opts.limit, 1, 1_000_000) : 100,
        offset: opts.offset ? parseIntegerOption('--offset', opts.offset, 0, Number.MAX_SAFE_INTEGER) : 0,
      };
      const rows = await withStore(opts, (s) => s.list(filter));
      if (opts.json) printJson({ filter: jsonFilter(filter), reports: rows });
      else if (opts.csv) process.stdout.write(listCsv(rows));
      else process.stdout.write(listText(rows, colors()));
      process.exitCode = EXIT_OK;
    });

  reports
    .command('show')
    .description('one stored report (by the id that list prints, or by report-id), raw JSON included')
    .argument('<id>', 'stored id or report-id')
    .option('--db <url>', DB_HELP)
    .option('--json', 'print one JSON object')
    .action(async (id: string, opts: DbOptions & { json?: boolean }) => {
      const found = await withStore(opts, (s) => s.show(id));
      if (found.length === 0)
        throw new UsageError(`no stored report with id or report-id "${id}"`, 'not-found');
      if (opts.json) {
        printJson({
          reports: found.map(({ rawJson, ...r }) => ({ ...r, raw: safeJson(rawJson) })),
        });
      } else {
        const c = colors();
        for (const r of found) process.stdout.write(showText(r, c));
      }
      process.exitCode = EXIT_OK;
    });
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function jsonFilter(f: ReportFilter & { limit?: number; offset?: number }) {
  return {
    domain: f.domain ?? null,
    organization: f.organization ?? null,
    since: f.since ?? null,
    until: f.until ?? null,
    ...(f.limit !== undefined ? { limit: f.limit, offset: f.offset ?? 0 } : {}),
  };
}

interface IngestCliOptions extends DbOptions {
  imap?: string;
  passwordFile?: string;
  moveTo?: string;
  caFile?: string;
  json?: boolean;
}

async function runIngest(paths: string[], opts: IngestCliOptions): Promise<number> {
  if (paths.length === 0 && !opts.imap)
    throw new UsageError('nothing to ingest: give PATHs (or - for stdin) or --imap URL');
  if (paths.length > 0 && opts.imap) throw new UsageError('give either PATHs or --imap, not both');
  if (!opts.imap && (opts.moveTo || opts.passwordFile || opts.caFile)) {
    throw new UsageError('--move-to, --password-file and --ca-file only apply with --imap');
  }
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError('"-" (stdin) can be given only once');
  let imap: { target: ReturnType<typeof parseImapUrl>; password: string; ca?: Buffer } | undefined;
  if (opts.imap) {
    let target: ReturnType<typeof parseImapUrl>;
    try {
      target = parseImapUrl(opts.imap);
    } catch (err) {
      if (err instanceof ImapUrlError) throw new UsageError(err.message);
      throw err;
    }
    let password = process.env.MTA_STS_IMAP_PASSWORD;
    if (opts.passwordFile) {
      try {
        password = (await readFile(opts.passwordFile, 'utf8')).replace(/\r?\n$/, '');
      } catch (err) {
        throw new UsageError(`cannot read --password-file ${opts.passwordFile}: ${(err as Error).message}`);
      }
    }
    if (!password)
      throw new UsageError('no IMAP password: set MTA_STS_IMAP_PASSWORD or give --password-file');
    let ca: Buffer | undefined;
    if (opts.caFile) {
      try {
        ca = await readFile(opts.caFile);
      } catch (err) {
        throw new UsageError(`cannot read --ca-file ${opts.caFile}: ${(err as Error).message}`);
      }
    }
    imap = { target, password, ...(ca ? { ca } : {}) };
  }

  const progress = makeProgress(!opts.json);
  const c = colors();
  const printItems = (items: IngestItemResult[]) => {
    if (opts.json) return;
    progress.clear();
    for (const i of items) process.stdout.write(ingestLine(i, c));
  };
  const outcome: IngestOutcome = await withStore(opts, async (store) => {
    const hooks = {
      onTotal: (n: number) => progress.start(n),
      onInput: (items: IngestItemResult[]) => {
        printItems(items);
        progress.tick();
      },
    };
    try {
      if (imap) {
        return await ingestImap(imap.target, store, {
          password: imap.password,
          ...(opts.moveTo ? { moveTo: opts.moveTo } : {}),
          ...(imap.ca ? { ca: imap.ca } : {}),
          ...hooks,
        });
      }
      return await ingestPaths(paths, store, hooks);
    } catch (err) {
      if (imap)
        throw new UsageError(
          `IMAP ${imap.target.host}:${imap.target.port}: ${(err as Error).message}`,
          'imap',
        );
      throw err;
    } finally {
      progress.stop();
    }
  });
  if (opts.json) printJson(outcome);
  else {
    const k = outcome.counts;
    process.stdout.write(
      `${c.bold(`${k.total} item${k.total === 1 ? '' : 's'}:`)} ${c.green(`${k.ingested} ingested`)}, ${k.duplicate} duplicate, ${k.skipped} skipped, ${k.invalid > 0 ? c.red(`${k.invalid} invalid`) : '0 invalid'}\n`,
    );
  }
  return outcome.counts.invalid > 0 ? EXIT_PROBLEMS : EXIT_OK;
}

function ingestLine(i: IngestItemResult, c: Colors): string {
  const status =
    i.status === 'ingested'
      ? c.green('ingested ')
      : i.status === 'duplicate'
        ? c.yellow('duplicate')
        : i.status === 'skipped'
          ? c.dim('skipped  ')
          : c.red('invalid  ');
  const what = i.reportId ? `${i.organization} ${i.reportId}` : (i.reason ?? '');
  return `${status} ${i.source}${what ? `  ${c.dim('—')} ${what}` : ''}\n`;
}

/** A progress bar on stderr, only when stderr is a terminal. */
function makeProgress(enabled: boolean) {
  const on = enabled && Boolean(process.stderr.isTTY);
  let bar: { start(total: number, v: number): void; increment(): void; stop(): void } | undefined;
  let total = 0;
  let done = 0;
  return {
    start(n: number) {
      total = n;
      if (!on || n < 20) return;
      // Loaded lazily: only a long interactive run needs it.
      import('cli-progress').then(({ default: cp }) => {
        const b = new cp.SingleBar(
          { stream: process.stderr, clearOnComplete: true, hideCursor: true },
          cp.Presets.shades_classic,
        );
        b.start(total, done);
        bar = b;
      });
    },
    tick() {
      done++;
      bar?.increment();
    },
    clear() {
      if (bar) process.stderr.write('\r\x1b[K');
    },
    stop() {
      bar?.stop();
    },
  };
}

// ---- rendering -------------------------------------------------------------------------

function pct(rate: number): string {
  return `${(rate * 100).toFixed(rate > 0 && rate < 0.001 ? 3 : 1)}%`;
}

function table(headers: string[], rows: string[][], c: Colors, rightAlign: Set<number> = new Set()): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (rightAlign.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${c.bold(line(headers))}\n${rows.map((r) => `${line(r)}\n`).join('')}`;
}

function countsTable(title: string, m: Record<string, SessionCounts>, c: Colors): string {
  const rows = Object.entries(m).map(([k, v]) => [
    k,
    String(v.successful),
    String(v.failed),
    pct(v.failureRate),
  ]);
  if (rows.length === 0) return '';
  return `\n${table([title, 'successful', 'failed', 'failure rate'], rows, c, new Set([1, 2, 3]))}`;
}

function summaryText(s: ReportSummary, c: Colors): string {
  const scope = [
    s.filter.domain && `domain ${s.filter.domain}`,
    s.filter.organization && `from ${s.filter.organization}`,
    s.filter.since && `since ${s.filter.since}`,
    s.filter.until && `until ${s.filter.until}`,
  ]
    .filter(Boolean)
    .join(', ');
  let out = `${c.bold('TLS reports')}${scope ? ` (${scope})` : ''}: ${s.reports} report${s.reports === 1 ? '' : 's'}\n`;
  if (s.reports === 0)
    return `${out}No reports stored${scope ? ' in this range' : ''}. Ingest some with "mta-sts reports ingest".\n`;
  const t = s.totals;
  const rate = t.failed > 0 ? c.red(pct(t.failureRate)) : c.green(pct(t.failureRate));
  out += `Sessions: ${t.successful + t.failed} (${t.successful} successful, ${t.failed} failed), failure rate ${rate}\n`;
  out += countsTable('day', s.byDay, c);
  out += countsTable('organization', s.byOrganization, c);
  const policyRows = Object.entries(s.byPolicy).map(([k, v]) => [
    k,
    String(v.successful),
    String(v.failed),
    pct(v.failureRate),
    v.excludedFromTotals.successful + v.excludedFromTotals.failed > 0
      ? `${v.excludedFromTotals.successful + v.excludedFromTotals.failed} also under another policy`
      : '',
  ]);
  if (policyRows.length > 0) {
    out += `\n${table(['policy', 'successful', 'failed', 'failure rate', 'not in totals'], policyRows, c, new Set([1, 2, 3]))}`;
  }
  const results = Object.entries(s.byResultType).sort((a, b) => b[1] - a[1]);
  if (results.length > 0)
    out += `\n${table(
      ['result type', 'failed sessions'],
      results.map(([k, v]) => [k, String(v)]),
      c,
      new Set([1]),
    )}`;
  return out;
}

function failuresText(rows: FailureRow[], total: number, c: Colors): string {
  if (rows.length === 0) return `${c.green('No failed sessions reported.')}\n`;
  const body = table(
    [
      'failed',
      'organization',
      'domain',
      'policy',
      'result type',
      'sending IP',
      'receiving MX',
      'receiving IP',
    ],
    rows.map((r) => [
      String(r.failedSessions),
      r.organization,
      r.policyDomain,
      r.policyType,
      r.resultType,
      r.sendingMtaIp ?? '-',
      r.receivingMxHostname ?? '-',
      r.receivingIp ?? '-',
    ]),
    c,
    new Set([0]),
  );
  return `${body}\n${c.bold(`${total} failed session${total === 1 ? '' : 's'}`)} in ${rows.length} row${rows.length === 1 ? '' : 's'}\n`;
}

function listText(rows: ReportListItem[], c: Colors): string {
  if (rows.length === 0) return 'No reports stored.\n';
  return table(
    ['id', 'organization', 'report-id', 'start', 'domains', 'successful', 'failed', 'notes'],
    rows.map((r) => [
      String(r.id),
      r.organization,
      r.reportId,
      r.start,
      r.policyDomains.join(' '),
      String(r.successful),
      String(r.failed),
      String(r.notes),
    ]),
    c,
    new Set([0, 5, 6, 7]),
  );
}

function showText(r: Awaited<ReturnType<KyselyReportStore['show']>>[number], c: Colors): string {
  let out = `${c.bold(`Report ${r.id}`)}: ${r.organization} ${r.reportId}\n`;
  out += `  range     ${r.start} .. ${r.end}\n`;
  out += `  contact   ${r.contact ?? '-'}\n`;
  out += `  source    ${r.source}\n  received  ${r.receivedAt}\n`;
  out += `  sessions  ${r.successful} successful, ${r.failed} failed (as counted in totals)\n`;
  for (const p of r.policies) {
    out += `\n  ${c.bold(`${p.policyType}${p.mode ? `/${p.mode}` : ''}`)} ${p.policyDomain}: ${p.successful} successful, ${p.failed} failed${p.countedInTotals ? '' : c.dim(' (not in totals: same sessions as another policy)')}\n`;
    if (p.mxHosts.length > 0) out += `    mx-host: ${p.mxHosts.join(', ')}\n`;
    for (const d of p.failureDetails) {
      out += `    ${c.red(d.resultType)} ×${d.failedSessions}${d.sendingMtaIp ? ` from ${d.sendingMtaIp}` : ''}${d.receivingMxHostname ? ` to ${d.receivingMxHostname}` : ''}${d.receivingIp ? ` [${d.receivingIp}]` : ''}${d.failureReasonCode ? `: ${d.failureReasonCode}` : ''}\n`;
    }
  }
  if (r.notes.length > 0) {
    out += `\n  ${c.bold('notes')}\n`;
    for (const n of r.notes)
      out += `    ${n.severity === 'warning' ? c.yellow(n.code) : c.cyan(n.code)}: ${n.message}\n`;
  }
  out += `\n  ${c.bold('raw JSON')}\n${prettyJson(r.rawJson)
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}\n`;
  return out;
}

// ---- CSV (RFC 4180) --------------------------------------------------------------------

function csvCell(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(headers: string[], rows: Array<Array<string | number | null>>): string {
  return [headers, ...rows].map((r) => `${r.map(csvCell).join(',')}\r\n`).join('');
}

function summaryCsv(s: ReportSummary): string {
  const rows: Array<Array<string | number | null>> = [
    ['total', 'all', s.totals.successful, s.totals.failed, s.totals.failureRate],
  ];
  for (const [k, v] of Object.entries(s.byDay)) rows.push(['day', k, v.successful, v.failed, v.failureRate]);
  for (const [k, v] of Object.entries(s.byOrganization))
    rows.push(['organization', k, v.successful, v.failed, v.failureRate]);
  for (const [k, v] of Object.entries(s.byPolicy))
    rows.push(['policy', k, v.successful, v.failed, v.failureRate]);
  for (const [k, v] of Object.entries(s.byResultType)) rows.push(['result-type', k, null, v, null]);
  return csv(['section', 'key', 'successful', 'failed', 'failure_rate'], rows);
}

function failuresCsv(rows: FailureRow[]): string {
  return csv(
    [
      'organization',
      'policy_domain',
      'policy_type',
      'result_type',
      'sending_mta_ip',
      'receiving_mx_hostname',
      'receiving_ip',
      'failed_sessions',
      'reports',
    ],
    rows.map((r) => [
      r.organization,
      r.policyDomain,
      r.policyType,
      r.resultType,
      r.sendingMtaIp,
      r.receivingMxHostname,
      r.receivingIp,
      r.failedSessions,
      r.reports,
    ]),
  );
}

function listCsv(rows: ReportListItem[]): string {
  return csv(
    [
      'id',
      'organization',
      'report_id',
      'start',
      'end',
      'policy_domains',
      'successful',
      'failed',
      'notes',
      'source',
      'received_at',
    ],
    rows.map((r) => [
      r.id,
      r.organization,
      r.reportId,
      r.start,
      r.end,
      r.policyDomains.join(' '),
      r.successful,
      r.failed,
      r.notes,
      r.source,
      r.receivedAt,
    ]),
  );
}
