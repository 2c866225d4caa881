import { createWriteStream } from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { CheckConfigError } from '../../check/run.js';
import { MAX_SCAN_DOMAINS, parseDomainList, scanDomains } from '../../check/scan.js';
import { addNetworkOptions, type NetworkCliOptions, networkCheckOptions } from '../check-options.js';
import { readInput } from '../input.js';
import { colors, EXIT_OK, EXIT_PROBLEMS, printJson, UsageError } from '../output.js';

interface ScanCliOptions extends NetworkCliOptions {
  json?: boolean;
  csv?: boolean;
  reports?: string;
  concurrency: string;
}

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

export function registerScan(program: Command): void {
  const cmd = program
    .command('scan')
    .description('run the live check over a list of domains (one per line, or - for stdin) and summarise')
    .argument('<file>', 'file with one domain per line (# comments allowed), or - for standard input')
    .option('--json', 'print { summary, domains: [...] } as JSON')
    .option('--csv', 'print one CSV row per domain')
    .option('--reports <file>', 'also write every full check report, one JSON object per line');
  addNetworkOptions(cmd)
    .option('--concurrency <n>', 'domains checked at once', '32')
    .addHelpText(
      'after',
      '\nExit status: 0 no domain with an error finding, 1 some domain with errors, 2 usage or operational error.',
    )
    .action(async (file: string, opts: ScanCliOptions) => {
      const checkOptions = networkCheckOptions(opts);
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)
        throw new UsageError(`--concurrency must be 1 to 1000, got "${opts.concurrency}"`);
      if (opts.json && opts.csv) throw new UsageError('choose --json or --csv, not both');
      const { bytes, truncated } = await readInput(file, 64 * 1024 * 1024);
      if (truncated) throw new UsageError(`${file} is larger than 64 MiB`);
      const { domains, duplicates } = parseDomainList(new TextDecoder().decode(bytes));
      if (domains.length === 0) throw new UsageError(`${file} lists no domain`);
      if (domains.length > MAX_SCAN_DOMAINS)
        throw new UsageError(`${file} lists ${domains.length} domains; at most ${MAX_SCAN_DOMAINS}`);
      const bar =
        process.stderr.isTTY && !process.env.CI
          ? new cliProgress.SingleBar(
              {
                format: `scan [{bar}] {value}/{total} domains | {fail} fail | {eta_formatted} left`,
                stream: process.stderr,
                hideCursor: true,
              },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
      let failing = 0;
      bar?.start(domains.length, 0, { fail: 0 });
      const reportsOut = opts.reports ? createWriteStream(opts.reports) : undefined;
      let result: Awaited<ReturnType<typeof scanDomains>>;
      try {
        result = await scanDomains(domains, { ...checkOptions, concurrency }, (entry, report) => {
          if (entry.errors.length > 0) failing++;
          bar?.increment(1, { fail: failing });
          reportsOut?.write(`${JSON.stringify(report)}\n`);
        });
      } catch (err) {
        if (err instanceof CheckConfigError) throw new UsageError(err.message);
        throw err;
      } finally {
        bar?.stop();
        await new Promise<void>((resolve) => (reportsOut ? reportsOut.end(resolve) : resolve()));
      }
      const { entries, summary } = result;
      if (opts.json) printJson({ summary, duplicatesSkipped: duplicates, domains: entries });
      else if (opts.csv) {
        const lines = ['domain,verdict,mode,errors,warnings'];
        for (const e of entries)
          lines.push(
            [e.domain, e.verdict, e.mode ?? '', e.errors.join(' '), e.warnings.join(' ')]
              .map(csvCell)
              .join(','),
          );
        process.stdout.write(`${lines.join('\n')}\n`);
      } else {
        const o = colors();
        const out: string[] = [];
        for (const e of entries) {
          const v =
            e.verdict === 'ok'
              ? o.green('ok  ')
              : e.verdict === 'warn'
                ? o.yellow('warn')
                : e.verdict === 'fail'
                  ? o.red('fail')
                  : o.cyan('none');
          out.push(`${v} ${e.domain.padEnd(40)} ${o.dim([...e.errors, ...e.warnings].join(' '))}`);
        }
        out.push('');
        out.push(
          o.bold(
            `${summary.domains} domains: ${summary.byVerdict.ok} ok, ${summary.byVerdict.warn} warn, ${summary.byVerdict.fail} fail, ${summary.byVerdict.none} without MTA-STS${duplicates ? ` (${duplicates} duplicates skipped)` : ''}`,
          ),
        );
        out.push(
          `modes: ${Object.entries(summary.byMode)
            .map(([m, n]) => `${m} ${n}`)
            .join(', ')}`,
        );
        const codes = Object.entries(summary.byCode).sort((a, b) => b[1].domains - a[1].domains);
        if (codes.length) {
          out.push('most frequent problems (domains):');
          for (const [code, v] of codes.slice(0, 15))
            out.push(
              `  ${String(v.domains).padStart(6)}  ${v.severity === 'error' ? o.red(code) : o.yellow(code)}`,
            );
        }
        process.stdout.write(`${out.join('\n')}\n`);
      }
      process.exitCode = entries.some((e) => e.errors.length > 0) ? EXIT_PROBLEMS : EXIT_OK;
    });
}
