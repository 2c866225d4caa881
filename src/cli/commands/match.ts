import type { Command } from 'commander';
import { normalizeDomain } from '../../core/domain.js';
import { matchMxPattern, mxPatternProblem } from '../../core/mx-pattern.js';
import { colors, EXIT_OK, EXIT_PROBLEMS, printJson, UsageError } from '../output.js';

export function registerMatch(program: Command): void {
  program
    .command('match')
    .description('does an mx pattern match an MX host? (RFC 8461 §4.1) exit 0 yes, 1 no')
    .argument('<pattern>', 'mx pattern from a policy, e.g. *.example.com')
    .argument('<host>', 'MX host name, e.g. mail.example.com')
    .option('--json', 'print one JSON object')
    .action((pattern: string, host: string, opts: { json?: boolean }) => {
      const problem = mxPatternProblem(pattern);
      if (problem) throw new UsageError(`invalid pattern "${pattern}": ${problem}`);
      const trimmed = host.endsWith('.') ? host.slice(0, -1) : host;
      const h = normalizeDomain(trimmed);
      if (!h.ok) throw new UsageError(`invalid host ${h.reason}`);
      const matches = matchMxPattern(pattern, h.value);
      if (opts.json) printJson({ pattern, host, matches });
      else {
        const c = colors();
        process.stdout.write(
          matches
            ? `${c.green('match')}: ${pattern} covers ${host}\n`
            : `${c.red('no match')}: ${pattern} does not cover ${host}\n`,
        );
      }
      process.exitCode = matches ? EXIT_OK : EXIT_PROBLEMS;
    });
}
