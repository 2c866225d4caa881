import type { Command } from 'commander';
import type { CheckReport } from '../../check/check-domain.js';
import { CheckConfigError, checkDomains } from '../../check/run.js';
import { addNetworkOptions, type NetworkCliOptions, networkCheckOptions } from '../check-options.js';
import { colors, EXIT_OK, EXIT_PROBLEMS, printJson, UsageError } from '../output.js';
import { renderCheckReport } from '../render-check.js';

interface CheckCliOptions extends NetworkCliOptions {
  json?: boolean;
}

export function registerCheck(program: Command): void {
  const cmd = program
    .command('check')
    .description(
      'check live domains end to end: DNS, the HTTPS policy host, the policy, every MX STARTTLS, TLS-RPT',
    )
    .argument('<domain...>', 'domains to check')
    .option('--json', 'print JSON (an object for one domain, an array for several)');
  addNetworkOptions(cmd)
    .addHelpText(
      'after',
      `
Exit status: 0 no error finding, 1 an error finding for some domain, 2 usage or operational error.`,
    )
    .action(async (domains: string[], opts: CheckCliOptions) => {
      const checkOptions = networkCheckOptions(opts);
      const c = colors();
      const smtp = checkOptions.smtp !== false;
      let printed = 0;
      const done = new Map<number, CheckReport>();
      let reports: Awaited<ReturnType<typeof checkDomains>>;
      try {
        reports = await checkDomains(
          domains,
          checkOptions,
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
