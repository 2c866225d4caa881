import type { Command } from 'commander';
import { formatRecordsTable, formatZone, MAX_TTL } from '../../setup/records.js';
import { recordsFor, verifyRecords } from '../../setup/workflow.js';
import { collect, colors, EXIT_OK, parseIntegerOption, printJson, UsageError } from '../output.js';
import { defaultSiteDir, renderAdvice, renderVerify, resolverFrom, verifyExit } from '../render-setup.js';

interface RecordsCliOptions {
  dir?: string;
  config?: string;
  format?: string;
  ttl?: string;
  verify?: boolean;
  resolver?: string[];
  json?: boolean;
}

export function registerRecords(program: Command): void {
  program
    .command('records')
    .description('print the DNS records to publish for a set-up domain; --verify compares them with DNS')
    .argument('[domain]', 'the domain (default: the one in the site directory)')
    .option('--dir <dir>', 'site directory made by init (default ./mta-sts.<domain> or .)')
    .option('--config <file>', 'every domain of this YAML config')
    .option('--format <format>', 'table (default), zone (BIND syntax) or json', 'table')
    .option('--ttl <seconds>', 'TTL of the records', '3600')
    .option('--verify', 'look the records up and report each as published, missing or different')
    .option(
      '--resolver <ip[:port]>',
      'DNS resolver for --verify (repeatable); default the system one',
      collect,
    )
    .option('--json', 'same as --format json')
    .addHelpText(
      'after',
      `
Examples:
  mta-sts records example.com
  mta-sts records --format zone >> example.com.zone
  mta-sts records --config mta-sts.yaml
  mta-sts records example.com --verify

Exit status: 0 fine (with --verify: every record published), 1 a record missing or different,
2 usage error or a lookup that failed.`,
    )
    .action(async (domain: string | undefined, opts: RecordsCliOptions) => {
      process.exitCode = await runRecords(domain, opts);
    });
}

async function runRecords(domain: string | undefined, opts: RecordsCliOptions): Promise<number> {
  const format = opts.json ? 'json' : (opts.format ?? 'table');
  if (!['table', 'zone', 'json'].includes(format))
    throw new UsageError(`--format must be table, zone or json, got "${opts.format}"`);
  const ttl = parseIntegerOption('--ttl', opts.ttl ?? '3600', 0, MAX_TTL);
  const where = opts.config
    ? { config: opts.config, ...(domain ? { domain } : {}) }
    : { dir: opts.dir ?? defaultSiteDir(domain), ...(domain ? { domain } : {}) };
  const result = await recordsFor(where, { ttl });
  const verify = opts.verify ? await verifyRecords(result.plans, resolverFrom(opts.resolver)) : undefined;
  const c = colors();
  if (format === 'json') {
    printJson({
      target: result.target,
      stateFile: result.stateFile,
      domains: result.plans.map((p) => ({ domain: p.domain, id: p.id, records: p.records, notes: p.notes })),
      findings: result.findings,
      ...(verify ? { verify } : {}),
    });
  } else if (verify) {
    process.stdout.write(renderVerify(c, verify));
    const advice = renderAdvice(c, result.findings);
    if (advice.length) process.stdout.write(`${advice.join('\n')}\n`);
  } else {
    process.stdout.write(format === 'zone' ? formatZone(result.plans) : formatRecordsTable(result.plans));
    // Advice goes to stderr so that the records themselves can be piped into a file.
    const advice = renderAdvice(colors(process.stderr), result.findings);
    if (advice.length) process.stderr.write(`${advice.join('\n').replace(/^\n/, '')}\n`);
  }
  return verify ? verifyExit(verify) : EXIT_OK;
}
