// `mta-sts demo`: the whole story on a simulated mail domain, offline. The simulator starts
// three domains on loopback (healthy, testing with a broken MX certificate, a stale setup);
// the checker examines each; generated TLS reports for them are ingested and summarised.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckReport, Verdict } from '../check/check-domain.js';
import { checkDomains } from '../check/run.js';
import { createDnsResolver } from '../node/dns.js';
import type { Logger } from '../ports.js';
import { generateDemoReports } from '../reports/demo-reports.js';
import { ingestReportObjects } from '../reports/ingest.js';
import { openReportStore } from '../reports/store.js';
import type { ReportSummary } from '../reports/types.js';
import { type RunningServe, startServe } from '../server/listen.js';
import { formatRecordsTable } from '../setup/records.js';
import { initSite } from '../setup/workflow.js';
import { demoScenario } from '../sim/demo-scenario.js';
import type { ScenarioInput } from '../sim/scenario.js';
import { type Simulation, startSimulation } from '../sim/simulation.js';

/** What each demo domain is meant to show, and the verdict the checker must reach. */
export const DEMO_STORIES: Record<string, { expect: Verdict; story: string[] }> = {
  'healthy.example': {
    expect: 'ok',
    story: [
      'The site mta-sts init generated, served as is, passes everything a sending MTA looks at: one',
      '_mta-sts record with the generated id, the policy over HTTPS with a valid certificate and',
      'status 200, every MX covered by the policy and offering STARTTLS with a certificate for its',
      'own name, and TLS reports going to a mailbox on another domain.',
    ],
  },
  'testing.example': {
    expect: 'fail',
    story: [
      'The policy is in testing mode, so senders still deliver, but mx2 presents a certificate for',
      'another name: under enforce, mail to that MX would stop. Senders report it as',
      'certificate-host-mismatch in their TLS reports (see the summary below). Fix the certificate,',
      'watch the reports go quiet, then switch to enforce.',
    ],
  },
  'stale.example': {
    expect: 'fail',
    story: [
      'A second MX was added but the policy still lists only the first: senders with the enforce',
      'policy refuse to deliver to mx2 (validation-failure). And TLS reports are sent to a mailbox',
      'on the domain itself, so the very failures they describe can stop them arriving.',
    ],
  },
};

export interface DemoResult {
  checks: CheckReport[];
  /** Domains whose verdict differs from what the demo scenario is built to show. */
  unexpected: Array<{ domain: string; expected: Verdict; got: Verdict }>;
  reports: { ingested: number; summary: ReportSummary; byDomain: Record<string, ReportSummary['totals']> };
  simulator: { dns: string; checkFlags: string[] };
  /** The set-up story: `mta-sts init` for healthy.example, whose generated site the simulator serves. */
  setup: DemoSetupInfo;
  /** When the demo also ran `mta-sts serve` (serveSeconds). */
  serve?: DemoServeInfo;
}

export interface DemoSetupInfo {
  domain: string;
  id: string;
  files: string[];
  policy: string;
  records: string;
}

/** The domain whose site the demo generates with `init` and then serves exactly. */
const SETUP_DOMAIN = 'healthy.example';

/**
 * `mta-sts init` for the healthy domain, with its MX records read from the simulator's DNS; the
 * returned scenario serves exactly the generated policy file and publishes the generated id.
 */
async function setUpHealthyDomain(
  workDir: string,
  now: () => Date,
): Promise<{ scenario: ScenarioInput; info: DemoSetupInfo }> {
  const dnsOnly = await startSimulation(demoScenario, { now: now() });
  const dir = join(workDir, `mta-sts.${SETUP_DOMAIN}`);
  let result: Awaited<ReturnType<typeof initSite>>;
  try {
    result = await initSite(
      {
        domain: SETUP_DOMAIN,
        dir,
        mode: 'enforce',
        rua: ['mailto:tlsrpt@reports.example'],
        pagesHost: 'example-org.github.io',
      },
      {
        resolver: createDnsResolver({ servers: [`${dnsOnly.dns.address}:${dnsOnly.dns.port}`] }),
        now: now(),
      },
    );
  } finally {
    await dnsOnly.stop();
  }
  if (!result.ok)
    throw new Error(`demo: init ${SETUP_DOMAIN} failed: ${result.findings.map((f) => f.message).join('; ')}`);
  const outcome = result.domains[0]!;
  // Exactly the bytes the site will serve, not a re-rendering of the policy.
  const policy = await readFile(join(dir, '.well-known', 'mta-sts.txt'), 'utf8');
  const scenario: ScenarioInput = {
    ...demoScenario,
    domains: demoScenario.domains.map((d) =>
      d.name === SETUP_DOMAIN ? { ...d, policy: { text: policy }, stsRecord: { id: outcome.id } } : d,
    ),
  };
  return {
    scenario,
    info: {
      domain: SETUP_DOMAIN,
      id: outcome.id,
      files: result.files.map((f) => f.path),
      policy,
      records: formatRecordsTable([outcome.records]),
    },
  };
}

export interface DemoServeInfo {
  dashboardUrl: string;
  /** The HTTPS policy host on loopback (SNI mta-sts.<domain>; trust the simulator's CA). */
  https: string;
  caFile: string;
  domains: string[];
  seconds: number;
}

export interface DemoOptions {
  /** Called with each part as it is ready, so the CLI can print while the demo runs. */
  onCheck?: (report: CheckReport) => void;
  onStage?: (stage: 'setup' | 'started' | 'checked' | 'reports', info: Record<string, unknown>) => void;
  now?: () => Date;
  /** Then run `mta-sts serve` on the simulated domains with the demo's reports for this long. */
  serveSeconds?: number;
  /** Called once the server is up (the dashboard URL to print). */
  onServe?: (info: DemoServeInfo) => void;
  /** Ends the serving period early (Ctrl-C). */
  signal?: AbortSignal;
  /** Where the server logs (default: errors only, to stderr). */
  logger?: Logger;
}

const quietLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error(obj, msg) {
    process.stderr.write(
      `mta-sts serve: ${msg ?? ''} ${typeof obj === 'string' ? obj : JSON.stringify(obj)}\n`,
    );
  },
};

/**
 * `mta-sts serve` over the simulated domains: a config written from the scenario, certificates
 * for every mta-sts.<domain> from the simulator's CA, the demo's report database, and live
 * checks that reach the simulator.
 */
async function serveDemo(
  sim: Simulation,
  workDir: string,
  dbPath: string,
  options: DemoOptions,
): Promise<RunningServe> {
  const lines = ['domains:'];
  for (const d of sim.scenario.domains) {
    const mx = d.policy?.mx ?? d.mx.map((m) => m.host);
    lines.push(
      `  ${d.name}:`,
      `    mode: ${d.policy?.mode ?? 'testing'}`,
      `    mx: [${mx.map((m) => JSON.stringify(m)).join(', ')}]`,
    );
    if (d.policy?.maxAge !== undefined) lines.push(`    max_age: ${d.policy.maxAge}`);
  }
  const configPath = join(workDir, 'mta-sts.yaml');
  await writeFile(configPath, `${lines.join('\n')}\n`);
  const certsDir = join(workDir, 'certs');
  await mkdir(certsDir);
  for (const d of sim.scenario.domains) {
    const host = `mta-sts.${d.name}`;
    const c = await sim.issueCertificate([host]);
    await writeFile(join(certsDir, `${host}.pem`), c.certPem);
    await writeFile(join(certsDir, `${host}.key`), c.keyPem, { mode: 0o600 });
  }
  return startServe({
    configPath,
    certsDir,
    listen: { host: '127.0.0.1', port: 0 },
    dashboardListen: { host: '127.0.0.1', port: 0 },
    dbUrl: dbPath,
    check: {
      intervalSeconds: 0,
      resolvers: [`${sim.dns.address}:${sim.dns.port}`],
      caFile: sim.caFile,
      noSystemCa: true,
      connectTo: sim.connectTo.map((c) => `${c.host}:${c.port}:${c.toAddress}:${c.toPort}`),
      timeoutSeconds: 5,
    },
    watch: false,
    logger: options.logger ?? quietLogger,
  });
}

function waitFor(seconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, seconds * 1000);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const now = options.now ?? (() => new Date());
  const workDir = await mkdtemp(join(tmpdir(), 'mta-sts-demo-'));
  let setup: Awaited<ReturnType<typeof setUpHealthyDomain>>;
  try {
    setup = await setUpHealthyDomain(workDir, now);
  } catch (err) {
    await rm(workDir, { recursive: true, force: true });
    throw err;
  }
  options.onStage?.('setup', { ...setup.info });
  const sim = await startSimulation(setup.scenario, { now: now() });
  try {
    const domains = sim.scenario.domains.map((d) => d.name);
    options.onStage?.('started', {
      dns: `${sim.dns.address}:${sim.dns.port}`,
      domains,
      hosts: sim.hosts.length,
    });
    const checks = await checkDomains(
      domains,
      {
        resolvers: [`${sim.dns.address}:${sim.dns.port}`],
        caFile: sim.caFile,
        noSystemCa: true,
        connectTo: sim.connectTo.map((c) => `${c.host}:${c.port}:${c.toAddress}:${c.toPort}`),
        timeoutSeconds: 5,
        now,
      },
      undefined,
    );
    for (const r of checks) options.onCheck?.(r);
    const unexpected = checks
      .filter((r) => DEMO_STORIES[r.domain] && DEMO_STORIES[r.domain]!.expect !== r.verdict)
      .map((r) => ({ domain: r.domain, expected: DEMO_STORIES[r.domain]!.expect, got: r.verdict }));
    options.onStage?.('checked', { unexpected });

    // The reports story: what the large senders would mail about these domains over a week.
    const generated = generateDemoReports({
      domains: sim.scenario.domains.map((d) => {
        const failing = d.mx.find((m) => m.faults.cert !== 'valid');
        const covered = d.policy?.mx;
        const uncovered = covered ? d.mx.find((m) => !covered.includes(m.host)) : undefined;
        const failingMx = failing
          ? {
              host: failing.host,
              resultType:
                failing.faults.cert === 'wrong-name' ? 'certificate-host-mismatch' : 'certificate-expired',
            }
          : uncovered
            ? { host: uncovered.host, resultType: 'validation-failure' }
            : undefined;
        return {
          domain: d.name,
          mode: d.policy?.mode ?? 'none',
          mx: d.mx.map((m) => m.host),
          ...(failingMx ? { failingMx } : {}),
        };
      }),
      start: new Date(now().getTime() - 7 * 86_400_000),
      days: 7,
    });
    const store = await openReportStore(join(workDir, 'demo.db'));
    try {
      const outcome = await ingestReportObjects(generated, store, { source: 'demo', now });
      const summary = await store.summary({});
      const byDomain: Record<string, ReportSummary['totals']> = {};
      for (const d of sim.scenario.domains)
        byDomain[d.name] = (await store.summary({ domain: d.name })).totals;
      options.onStage?.('reports', { ingested: outcome.counts.ingested, summary, byDomain });
      const result: DemoResult = {
        checks,
        unexpected,
        reports: { ingested: outcome.counts.ingested, summary, byDomain },
        simulator: { dns: `${sim.dns.address}:${sim.dns.port}`, checkFlags: sim.checkFlags },
        setup: setup.info,
      };
      if (options.serveSeconds !== undefined && options.serveSeconds > 0) {
        const server = await serveDemo(sim, workDir, join(workDir, 'demo.db'), options);
        try {
          const info: DemoServeInfo = {
            dashboardUrl: server.dashboardUrl ?? '',
            https: `${server.https.host}:${server.https.port}`,
            caFile: sim.caFile,
            domains: sim.scenario.domains.map((d) => d.name),
            seconds: options.serveSeconds,
          };
          result.serve = info;
          options.onServe?.(info);
          await waitFor(options.serveSeconds, options.signal);
        } finally {
          await server.stop();
        }
      }
      return result;
    } finally {
      await store.close();
    }
  } finally {
    await sim.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}
