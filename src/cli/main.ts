// The `mta-sts` command: parses arguments and dispatches to one command module each. Command
// modules are loaded on demand: `mta-sts lint` does not pay for the IMAP, SQL and ACME
// libraries that `reports` and `serve` need.
import { Command, CommanderError } from 'commander';
import { EXIT_USAGE, UsageError } from './output.js';

type Register = (program: Command) => void;

const COMMANDS: Record<string, () => Promise<Register>> = {
  check: async () => (await import('./commands/check.js')).registerCheck,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  init: async () => (await import('./commands/init.js')).registerInit,
  lint: async () => (await import('./commands/lint.js')).registerLint,
  match: async () => (await import('./commands/match.js')).registerMatch,
  policy: async () => (await import('./commands/policy.js')).registerPolicy,
  records: async () => (await import('./commands/records.js')).registerRecords,
  reports: async () => (await import('./commands/reports.js')).registerReports,
  resolver: async () => (await import('./commands/resolver.js')).registerResolver,
  scan: async () => (await import('./commands/scan.js')).registerScan,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  sim: async () => (await import('./commands/sim.js')).registerSim,
};

/** Build the program; with argv, only the command named there is loaded (all for help). */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('mta-sts')
    .description('MTA-STS (RFC 8461) and SMTP TLS Reporting (RFC 8460): lint, set up, check, report, serve')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const first = argv.find((a) => !a.startsWith('-'));
  const names = first !== undefined && first in COMMANDS ? [first] : Object.keys(COMMANDS);
  const registers = await Promise.all(names.map((n) => COMMANDS[n]!()));
  for (const register of registers) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
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
