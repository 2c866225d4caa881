import type { Command } from 'commander';
import type { CheckReport } from '../../check/check-domain.js';
import { CheckConfigError, checkDomains } from '../../check/run.js';
import { collect, colors, EXIT_OK, EXIT_PROBLEMS, printJson, UsageError } from '../output.js';
import { renderCheckReport } from '../render-check.js';

interface CheckCliOptions {
  json?: boolean;
  resolver?: string[];
  caFile?: string;
  connectTo?: string[];
  timeout?: string;
  smtp?: boolean;
  smtpPort?: string;
  systemCa?: boolean;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'check live domains end to end: DNS, the HTTPS policy host, the policy, every MX STARTTLS, TLS-RPT',
    )
    .argument('<domain...>', 'domains to check')
    .option('--json', 'print JSON (an object for one domain, an array for several)')
    .option(
      '--resolver <ip[:port]>',
      'DNS resolver to ask (repeatable); default the system resolver',
      collect,
    )
    .option('--ca-file <pem>', 'extra trust anchors (PEM), added to the system roots')
    .option('--no-system-ca', 'trust only --ca-file')
    .option(
      '--connect-to <host:port:addr:port>',
      'connect to ADDR:PORT instead of HOST:PORT, keeping the name for SNI and certificate checks (repeatable, as curl)',
      collect,
    )
    .option('--timeout <seconds>', 'time limit of each network operation', '10')
    .option('--no-smtp', 'skip the STARTTLS probes of the MX hosts')
    .option('--smtp-port <port>', 'SMTP port to probe', '25')
    .addHelpText(
      'after',
      `
Exit status: 0 no error finding, 1 an error finding for some domain, 2 usage or operational error.`,
    )
    .action(async (domains: string[], opts: CheckCliOptions) => {
      const timeout = Number(opts.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 600)
        throw new UsageError(
          `--timeout must be a number of seconds between 0 and 600, got "${opts.timeout}"`,
        );
      const smtpPort = Number(opts.smtpPort);
      if (!Number.isInteger(smtpPort) || smtpPort < 1 || smtpPort > 65535)
        throw new UsageError(`--smtp-port must be a port number, got "${opts.smtpPort}"`);
      const c = colors();
      const smtp = opts.smtp !== false;
      let printed = 0;
      const done = new Map<number, CheckReport>();
      let reports: Awaited<ReturnType<typeof checkDomains>>;
      try {
        reports = await checkDomains(
          domains,
          {
            ...(opts.resolver ? { resolvers: opts.resolver } : {}),
            ...(opts.caFile ? { caFile: opts.caFile } : {}),
            ...(opts.connectTo ? { connectTo: opts.connectTo } : {}),
            noSystemCa: opts.systemCa === false,
            timeoutSeconds: timeout,
            smtp,
            smtpPort,
          },
          opts.json
            ? undefined
            : (report, index) => {
                // Stream reports as they finish, but in the order the domains were given.
                done.set(index, report);
                while (done.has(printed)) {
                  process.stdout.write(
                    `${printed > 0 ? '\n' : ''}${renderCheckReport(c, done.get(printed)!, { smtp })}\n`,
                  );
                  done.delete(printed++);
                }
              },
        );
      } catch (err) {
        if (err instanceof CheckConfigError) throw new UsageError(err.message);
        throw err;
      }
      if (opts.json) printJson(reports.length === 1 ? reports[0] : reports);
      process.exitCode = reports.some((r) => r.findings.some((f) => f.severity === 'error'))
        ? EXIT_PROBLEMS
        : EXIT_OK;
    });
}
