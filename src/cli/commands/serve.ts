// `mta-sts serve`: the multi-domain policy host, the TLS-RPT HTTPS receiver and the dashboard,
// in one foreground process with JSON logs (pino) on stderr. SIGHUP reloads, SIGTERM stops.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import pino from 'pino';
import { CheckConfigError } from '../../check/run.js';
import { resolveDbUrl } from '../../reports/store.js';
import { type DashboardAuth, isLoopbackAddress } from '../../server/dashboard/auth.js';
import {
  DEFAULT_DASHBOARD_LISTEN,
  formatAddress,
  parseListenAddress,
  ServeConfigError,
  type ServeOptions,
  startServe,
} from '../../server/listen.js';
import { ConfigError } from '../../setup/config.js';
import { SetupError } from '../../setup/model.js';
import { collect, parseIntegerOption, UsageError } from '../output.js';

interface ServeCliOptions {
  config: string;
  certs?: string;
  listen: string;
  httpListen?: string;
  dashboardListen: string;
  dashboard: boolean;
  db?: string;
  acmeDirectory?: string;
  acmeEmail?: string;
  acmeCaFile?: string;
  acmeSelfCheck: boolean;
  reportsUrl?: string;
  reportMaxBytes: string;
  reportRate: string;
  dashboardTokenFile?: string;
  dashboardBasicFile?: string;
  check: boolean;
  checkInterval: string;
  checkResolver?: string[];
  checkCaFile?: string;
  checkConnectTo?: string[];
  readinessDays: string;
  logLevel: string;
}

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/** Credentials: files given on the command line first, then the environment. */
export function dashboardAuthFrom(
  opts: Pick<ServeCliOptions, 'dashboardTokenFile' | 'dashboardBasicFile'>,
  env: NodeJS.ProcessEnv,
): DashboardAuth {
  const auth: DashboardAuth = {};
  const token = opts.dashboardTokenFile
    ? readSecretFile(opts.dashboardTokenFile, '--dashboard-token-file')
    : env.MTA_STS_DASHBOARD_TOKEN;
  if (token) {
    if (token.length < 16) throw new UsageError('the dashboard token must be at least 16 characters');
    auth.token = token;
  }
  const basic = opts.dashboardBasicFile
    ? readSecretFile(opts.dashboardBasicFile, '--dashboard-basic-file')
    : undefined;
  const user =
    basic !== undefined ? basic.slice(0, Math.max(0, basic.indexOf(':'))) : env.MTA_STS_DASHBOARD_USER;
  const password = basic !== undefined ? basic.slice(basic.indexOf(':') + 1) : env.MTA_STS_DASHBOARD_PASSWORD;
  if (basic !== undefined && !basic.includes(':'))
    throw new UsageError('--dashboard-basic-file must hold USER:PASSWORD');
  if (user && password) auth.basic = { user, password };
  return auth;
}

function parseReportsUrl(raw: string): { host: string; path: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--reports-url must be an https:// URL, got "${raw}"`);
  }
  if (u.protocol !== 'https:' || u.search || u.hash || u.port)
    throw new UsageError(
      `--reports-url must be https://HOST/PATH without port, query or fragment (RFC 8460 §3), got "${raw}"`,
    );
  return { host: u.hostname.toLowerCase(), path: u.pathname };
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'host the MTA-STS policies of every configured domain, receive TLS reports over HTTPS, and show them on a dashboard',
    )
    .requiredOption('--config <file>', 'the domains and their policies (mta-sts.yaml, as for init --config)')
    .option('--certs <dir>', 'certificates, one pair per host: <host>.pem (the chain) and <host>.key')
    .option('--listen <addr:port>', 'HTTPS listener', '0.0.0.0:443')
    .option(
      '--http-listen <addr:port>',
      'plain HTTP listener: ACME HTTP-01 challenges and redirects to HTTPS',
    )
    .option(
      '--dashboard-listen <addr:port>',
      'dashboard, /healthz and /metrics listener',
      DEFAULT_DASHBOARD_LISTEN,
    )
    .option('--no-dashboard', 'no dashboard listener')
    .option(
      '--db <url>',
      'report database: a SQLite path or postgres:// URL (default $MTA_STS_DB or ./mta-sts.db)',
    )
    .option(
      '--acme-directory <url>',
      'obtain and renew certificates from this ACME directory (needs --certs to keep them)',
    )
    .option('--acme-email <addr>', 'contact address for the ACME account')
    .option('--acme-ca-file <pem>', "trust this CA for the ACME server's own HTTPS (test CAs such as Pebble)")
    .option('--no-acme-self-check', 'do not fetch our own challenge before asking the CA to validate')
    .option(
      '--reports-url <url>',
      'receive TLS reports (RFC 8460 §5.4) at this https:// URL (its host needs a certificate too)',
    )
    .option('--report-max-bytes <n>', 'largest report POST body accepted', String(5 * 1024 * 1024))
    .option('--report-rate <n>', 'report POSTs per minute allowed from one client address', '60')
    .option(
      '--dashboard-token-file <file>',
      'bearer token for the dashboard (default $MTA_STS_DASHBOARD_TOKEN)',
    )
    .option(
      '--dashboard-basic-file <file>',
      'USER:PASSWORD for the dashboard (default $MTA_STS_DASHBOARD_USER and _PASSWORD)',
    )
    .option('--no-check', 'no live checks on the status page')
    .option(
      '--check-interval <seconds>',
      'run the live check of every domain this often (0: only on demand)',
      '3600',
    )
    .option('--check-resolver <ip[:port]>', 'DNS resolver for the live checks (repeatable)', collect)
    .option('--check-ca-file <pem>', 'extra trust anchors for the live checks')
    .option(
      '--check-connect-to <host:port:addr:port>',
      'connect-to mapping for the live checks (repeatable)',
      collect,
    )
    .option(
      '--readiness-days <n>',
      'days without failures, from every reporter, before enforce looks safe',
      '14',
    )
    .option('--log-level <level>', 'pino log level (debug logs every request)', 'info')
    .addHelpText(
      'after',
      `
Example:
  mta-sts serve --config /etc/mta-sts/mta-sts.yaml --certs /var/lib/mta-sts/certs \\
    --http-listen 0.0.0.0:80 --acme-directory https://acme-v02.api.letsencrypt.org/directory \\
    --acme-email hostmaster@example.net --reports-url https://reports.example.net/tlsrpt

The dashboard listens on ${DEFAULT_DASHBOARD_LISTEN} by default; bound to anything but loopback it needs a token
or basic-auth credentials. Exit status: 0 after SIGTERM/SIGINT, 2 usage or start-up error.`,
    )
    .action(async (opts: ServeCliOptions) => {
      let listen: ServeOptions['listen'];
      let httpListen: ServeOptions['httpListen'];
      let dashboardListen: ServeOptions['dashboardListen'];
      try {
        listen = parseListenAddress(opts.listen, '--listen');
        httpListen = opts.httpListen ? parseListenAddress(opts.httpListen, '--http-listen') : undefined;
        dashboardListen = opts.dashboard
          ? parseListenAddress(opts.dashboardListen, '--dashboard-listen')
          : null;
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const auth = dashboardAuthFrom(opts, process.env);
      if (dashboardListen && !isLoopbackAddress(dashboardListen.host) && !auth.token && !auth.basic)
        throw new UsageError(
          `the dashboard on ${formatAddress(dashboardListen)} is not on loopback: give --dashboard-token-file, --dashboard-basic-file or MTA_STS_DASHBOARD_TOKEN`,
        );
      if (opts.acmeDirectory && !opts.acmeEmail) throw new UsageError('--acme-directory needs --acme-email');
      if (opts.acmeDirectory && !opts.certs)
        throw new UsageError('--acme-directory needs --certs (where certificates are kept)');
      if (!opts.acmeDirectory && !opts.certs)
        throw new UsageError('give --certs DIR, --acme-directory URL, or both');
      const checkInterval = parseIntegerOption('--check-interval', opts.checkInterval, 0, 30 * 86400);
      const readinessDays = parseIntegerOption('--readiness-days', opts.readinessDays, 1, 365);
      const maxBytes = parseIntegerOption('--report-max-bytes', opts.reportMaxBytes, 1024, 100 * 1024 * 1024);
      const perMinute = parseIntegerOption('--report-rate', opts.reportRate, 1, 100_000);
      const logger = pino({ base: { service: 'mta-sts-serve' }, level: opts.logLevel }, pino.destination(2));
      let server: Awaited<ReturnType<typeof startServe>>;
      try {
        server = await startServe({
          configPath: opts.config,
          ...(opts.certs ? { certsDir: opts.certs } : {}),
          listen,
          ...(httpListen ? { httpListen } : {}),
          dashboardListen,
          dbUrl: resolveDbUrl(opts.db),
          ...(opts.reportsUrl
            ? {
                reports: {
                  ...parseReportsUrl(opts.reportsUrl),
                  maxBytes,
                  perMinute,
                  burst: Math.min(perMinute, 20),
                },
              }
            : {}),
          ...(auth.token || auth.basic ? { dashboardAuth: auth } : {}),
          ...(opts.acmeDirectory
            ? {
                acme: {
                  directoryUrl: opts.acmeDirectory,
                  email: opts.acmeEmail as string,
                  ...(opts.acmeCaFile ? { caPem: readSecretFile(opts.acmeCaFile, '--acme-ca-file') } : {}),
                  selfCheck: opts.acmeSelfCheck,
                },
              }
            : {}),
          ...(opts.check
            ? {
                check: {
                  intervalSeconds: checkInterval,
                  ...(opts.checkResolver ? { resolvers: opts.checkResolver } : {}),
                  ...(opts.checkCaFile ? { caFile: opts.checkCaFile } : {}),
                  ...(opts.checkConnectTo ? { connectTo: opts.checkConnectTo } : {}),
                  timeoutSeconds: 10,
                },
              }
            : {}),
          readinessDays,
          logger,
        });
      } catch (err) {
        if (
          err instanceof ConfigError ||
          err instanceof SetupError ||
          err instanceof ServeConfigError ||
          err instanceof CheckConfigError
        )
          throw new UsageError(err.message);
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL')
          throw new UsageError(`cannot listen: ${e.message}`);
        throw err;
      }
      if (server.dashboardUrl) process.stderr.write(`dashboard: ${server.dashboardUrl}\n`);
      const onHup = () => void server.reload('SIGHUP');
      process.on('SIGHUP', onHup);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'shutting down');
          server.stop().then(resolve, resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      process.off('SIGHUP', onHup);
      logger.flush();
    });
}
