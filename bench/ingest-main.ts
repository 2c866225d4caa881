// The body of bench/ingest.mjs (see there for what it measures).
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { ingestPaths } from '../src/reports/ingest.js';
import { openReportStore } from '../src/reports/store.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../test/helpers/postgres.js';

function arg(name: string, fallback: string | undefined): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const REPORTS = Number(arg('reports', '20000'));
const SUMMARY_REPORTS = Number(arg('summary', '1000000'));
const RUNS = Number(arg('runs', '5'));
const INGEST_RUNS = Number(arg('ingest-runs', '3'));
const NO_PG = process.argv.includes('--no-pg');

const ORGS = ['Google Inc.', 'Microsoft Corporation', 'Mail.ru', 'Yahoo', 'Comcast', 'Proton AG'];
const RESULT_TYPES = [
  'certificate-expired',
  'starttls-not-supported',
  'validation-failure',
  'sts-policy-fetch-error',
];

/** A report about the size real ones have (0.5–3 KB of JSON); every fifth has failure details. */
function makeReport(i: number): object {
  const org = ORGS[i % ORGS.length]!;
  const domain = `domain${i % 500}.example`;
  const day = new Date(Date.UTC(2025, 0, 1) + (Math.floor(i / 500) % 365) * 86_400_000)
    .toISOString()
    .slice(0, 10);
  const withFailures = i % 5 === 0;
  const details = withFailures
    ? Array.from({ length: 1 + (i % 8) }, (_, k) => ({
        'result-type': RESULT_TYPES[(i + k) % RESULT_TYPES.length],
        'sending-mta-ip': `198.51.100.${(i + k) % 250}`,
        'receiving-ip': `203.0.113.${k + 1}`,
        'receiving-mx-hostname': `mx${k % 3}.${domain}`,
        'failed-session-count': 1 + ((i * 7 + k) % 40),
        ...(k % 2 ? { 'failure-reason-code': 'X509_V_ERR_CERT_HAS_EXPIRED' } : {}),
      }))
    : undefined;
  const failed = details ? details.reduce((a, d) => a + d['failed-session-count'], 0) : 0;
  const policies: object[] = [
    {
      policy: {
        'policy-type': 'sts',
        'policy-string': [
          'version: STSv1',
          'mode: testing',
          `mx: mx0.${domain}`,
          `mx: *.mx.${domain}`,
          'max_age: 604800',
        ],
        'policy-domain': domain,
        'mx-host': [`mx0.${domain}`, `*.mx.${domain}`],
      },
      summary: {
        'total-successful-session-count': 10 + ((i * 13) % 5000),
        'total-failure-session-count': failed,
      },
      ...(details ? { 'failure-details': details } : {}),
    },
  ];
  return {
    'organization-name': org,
    'date-range': { 'start-datetime': `${day}T00:00:00Z`, 'end-datetime': `${day}T23:59:59Z` },
    'contact-info': `tlsrpt@${org.toLowerCase().replace(/[^a-z]/g, '')}.example`,
    'report-id': `${day}_${i}_${domain}`,
    policies,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const rows: Array<[string, string, string]> = [];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const dir = await mkdtemp(join(tmpdir(), 'mta-sts-bench-'));
let pgServer: TestPostgres | undefined;
try {
  // ---- 1. ingest rate vs parse-only rate ---------------------------------------------------
  const files = join(dir, 'reports');
  await mkdir(files);
  for (let i = 0; i < REPORTS; i++) {
    await writeFile(
      join(files, `r${String(i).padStart(6, '0')}.json.gz`),
      gzipSync(JSON.stringify(makeReport(i))),
    );
  }
  process.stderr.write(`generated ${REPORTS} .json.gz reports\n`);

  const names = (await readdir(files)).sort();
  // Parse-only and SQLite runs alternate, each INGEST_RUNS times, so a noisy neighbour hurts
  // both alike; the medians are reported.
  const parseRates: number[] = [];
  const sqliteRates: number[] = [];
  let t = 0;
  for (let run = 0; run < INGEST_RUNS; run++) {
    t = performance.now();
    let sessions = 0;
    for (const n of names) {
      const json = JSON.parse(gunzipSync(readFileSync(join(files, n))).toString('utf8'));
      sessions += json.policies.length;
    }
    if (sessions < REPORTS) throw new Error('parse-only run lost reports');
    parseRates.push(REPORTS / ((performance.now() - t) / 1000));

    const sqliteStore = await openReportStore(join(dir, `ingest-${run}.db`));
    t = performance.now();
    const sOut = await ingestPaths([files], sqliteStore);
    sqliteRates.push(REPORTS / ((performance.now() - t) / 1000));
    await sqliteStore.close();
    if (sOut.counts.ingested !== REPORTS)
      throw new Error(`SQLite ingested ${sOut.counts.ingested} of ${REPORTS}`);
  }
  const parseRate = median(parseRates);
  const sqliteRate = median(sqliteRates);
  rows.push([
    `read + gunzip + JSON.parse (the limit, median of ${INGEST_RUNS})`,
    `${fmt(parseRate)} reports/s`,
    '1.00x',
  ]);
  rows.push([
    `ingest into SQLite (median of ${INGEST_RUNS})`,
    `${fmt(sqliteRate)} reports/s`,
    `${(parseRate / sqliteRate).toFixed(2)}x slower`,
  ]);

  let pgUrl = arg('pg', process.env.MTA_STS_TEST_PG_URL);
  if (!pgUrl && !NO_PG && !postgresUnavailable()) {
    pgServer = await startPostgres();
    pgUrl = await pgServer.createDatabase();
  }
  if (pgUrl && !NO_PG) {
    const pgStore = await openReportStore(pgUrl);
    t = performance.now();
    const pOut = await ingestPaths([files], pgStore);
    const pgRate = REPORTS / ((performance.now() - t) / 1000);
    await pgStore.close();
    if (pOut.counts.ingested !== REPORTS)
      throw new Error(`PostgreSQL ingested ${pOut.counts.ingested} of ${REPORTS}`);
    rows.push([
      `ingest into PostgreSQL${pgServer ? ' (local, fsync off)' : ''}`,
      `${fmt(pgRate)} reports/s`,
      `${(parseRate / pgRate).toFixed(2)}x slower`,
    ]);
  } else rows.push(['ingest into PostgreSQL', 'not measured (no server)', '']);

  // ---- 2. summary over many stored reports -------------------------------------------------
  const bigPath = join(dir, 'summary.db');
  const seed = await openReportStore(bigPath);
  await seed.close();
  const db = new Database(bigPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insR = db.prepare(
    `insert into tlsrpt_reports (id, organization, report_id, start_time, end_time, start_day, contact, source, received_at, raw_json, notes, policy_domains, successful, failed)
     values (?, ?, ?, ?, ?, ?, ?, 'bench', '2025-01-01T00:00:00Z', ?, '[]', ?, ?, ?)`,
  );
  const insP = db.prepare(
    `insert into tlsrpt_policies (id, report_ref, position, organization, start_day, policy_type, policy_domain, policy_mode, policy_strings, mx_hosts, successful, failed, counted)
     values (?, ?, 0, ?, ?, 'sts', ?, 'testing', '[]', '[]', ?, ?, 1)`,
  );
  const insF = db.prepare(
    `insert into tlsrpt_failures (report_ref, policy_ref, organization, start_day, policy_domain, policy_type, counted, result_type, sending_mta_ip, receiving_mx_hostname, receiving_ip, failed_sessions)
     values (?, ?, ?, ?, ?, 'sts', 1, ?, ?, ?, ?, ?)`,
  );
  const load = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const r = makeReport(i) as any;
      const p = r.policies[0];
      const day = r['date-range']['start-datetime'].slice(0, 10);
      const s = p.summary['total-successful-session-count'];
      const f = p.summary['total-failure-session-count'];
      // The raw JSON is not read by summary; a short stand-in keeps the file small.
      insR.run(
        i + 1,
        r['organization-name'],
        r['report-id'],
        `${day}T00:00:00Z`,
        `${day}T23:59:59Z`,
        day,
        r['contact-info'],
        '{}',
        p.policy['policy-domain'],
        s,
        f,
      );
      insP.run(i + 1, i + 1, r['organization-name'], day, p.policy['policy-domain'], s, f);
      for (const d of p['failure-details'] ?? []) {
        insF.run(
          i + 1,
          i + 1,
          r['organization-name'],
          day,
          p.policy['policy-domain'],
          d['result-type'],
          d['sending-mta-ip'],
          d['receiving-mx-hostname'],
          d['receiving-ip'],
          d['failed-session-count'],
        );
      }
    }
  });
  t = performance.now();
  for (let i = 0; i < SUMMARY_REPORTS; i += 50_000) load(i, Math.min(SUMMARY_REPORTS, i + 50_000));
  db.close();
  const loadSeconds = (performance.now() - t) / 1000;
  process.stderr.write(`loaded ${SUMMARY_REPORTS} reports directly in ${loadSeconds.toFixed(1)} s\n`);

  const big = await openReportStore(bigPath);
  await big.rebuildRollups();
  const times: number[] = [];
  let summary: Awaited<ReturnType<typeof big.summary>> | undefined;
  for (let r = 0; r < RUNS; r++) {
    t = performance.now();
    summary = await big.summary();
    times.push(performance.now() - t);
  }
  const domainTimes: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    t = performance.now();
    await big.summary({ domain: 'domain7.example', since: '2025-03-01', until: '2025-06-30' });
    domainTimes.push(performance.now() - t);
  }
  // The same totals straight from the stored policies, without the roll-ups: the cost they avoid.
  const scanTimes: number[] = [];
  for (let r = 0; r < Math.min(RUNS, 3); r++) {
    t = performance.now();
    await big.db
      .selectFrom('tlsrpt_policies')
      .select(['start_day', 'organization'])
      .select((eb) => [eb.fn.sum<number>('successful').as('s'), eb.fn.sum<number>('failed').as('f')])
      .where('counted', '=', 1)
      .groupBy(['start_day', 'organization'])
      .execute();
    scanTimes.push(performance.now() - t);
  }
  await big.close();
  if (summary!.reports !== SUMMARY_REPORTS) throw new Error(`summary saw ${summary!.reports} reports`);
  rows.push([
    `reports summary, ${fmt(SUMMARY_REPORTS)} reports (SQLite, median of ${RUNS})`,
    `${median(times).toFixed(1)} ms`,
    `target 500 ms: ${(500 / median(times)).toFixed(1)}x under`,
  ]);
  rows.push([`  same with --domain --since --until`, `${median(domainTimes).toFixed(1)} ms`, '']);
  rows.push([
    '  one GROUP BY over the stored policies, no roll-up',
    `${median(scanTimes).toFixed(1)} ms`,
    `${(median(scanTimes) / median(times)).toFixed(1)}x the summary`,
  ]);

  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(
    `\nbench/ingest: ${fmt(REPORTS)} .json.gz reports, summary over ${fmt(SUMMARY_REPORTS)} (Node ${process.version})\n`,
  );
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
} finally {
  await pgServer?.stop();
  await rm(dir, { recursive: true, force: true });
}
