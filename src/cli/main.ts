// The `mta-sts` command: parses arguments and dispatches to one command module each.
import { Command, CommanderError } from 'commander';
import { registerCheck } from './commands/check.js';
import { registerDemo } from './commands/demo.js';
import { registerInit } from './commands/init.js';
import { registerLint } from './commands/lint.js';
import { registerMatch } from './commands/match.js';
import { registerPolicy } from './commands/policy.js';
import { registerRecords } from './commands/records.js';
import { registerResolver } from './commands/resolver.js';
import { registerReports } from './commands/reports.js';
import { registerServe } from './commands/serve.js';
import { registerScan } from './commands/scan.js';
import { registerSim } from './commands/sim.js';
import { EXIT_USAGE, UsageError } from './output.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('mta-sts')
    .description('MTA-STS (RFC 8461) and SMTP TLS Reporting (RFC 8460): lint, set up, check, report, serve')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCheck(program);
  registerDemo(program);
  registerInit(program);
  registerLint(program);
  registerMatch(program);
  registerPolicy(program);
  registerRecords(program);
  registerResolver(program);
  registerReports(program);
  registerServe(program);
  registerScan(program);
  registerSim(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      if (err.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`mta-sts: ${err.message}\n`);
      return EXIT_USAGE;
    }
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`mta-sts: ${e?.message ?? String(err)}\n`);
    return EXIT_USAGE;
  }
}
