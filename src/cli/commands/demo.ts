import type { Command } from 'commander';
import { DEMO_STORIES, runDemo } from '../../demo/run-demo.js';
import type { ReportSummary } from '../../reports/types.js';
import { colors, EXIT_OK, EXIT_PROBLEMS, printJson } from '../output.js';
import { renderCheckReport } from '../render-check.js';

function pct(n: number): string {
  return `${(n * 100).toFixed(1)}%`;
}

function summaryLines(s: ReportSummary, byDomain: Record<string, ReportSummary['totals']>): string[] {
  const out = [
    `  ${s.reports} reports: ${s.totals.successful + s.totals.failed} sessions, ${s.totals.failed} failed (${pct(s.totals.failureRate)})`,
    '  by policy domain:',
  ];
  for (const [domain, t] of Object.entries(byDomain)) {
    out.push(
      `    ${domain.padEnd(24)} ${String(t.successful).padStart(7)} ok ${String(t.failed).padStart(6)} failed  ${pct(t.failureRate).padStart(6)}`,
    );
  }
  out.push('  by reporting organization:');
  for (const [org, c] of Object.entries(s.byOrganization)) {
    out.push(
      `    ${org.padEnd(24)} ${String(c.successful).padStart(7)} ok ${String(c.failed).padStart(6)} failed`,
    );
  }
  out.push('  failed sessions by result type:');
  for (const [type, n] of Object.entries(s.byResultType))
    out.push(`    ${type.padEnd(28)} ${String(n).padStart(6)}`);
  return out;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('an offline end-to-end run on a simulated mail domain (nothing outside this machine needed)')
    .option('--json', 'print the check reports and the report summary as JSON')
    .action(async (opts: { json?: boolean }) => {
      const c = colors();
      const write = (s: string) => {
        if (!opts.json) process.stdout.write(`${s}\n`);
      };
      write(c.bold('mta-sts demo — MTA-STS and TLS reporting on a simulated mail domain, offline'));
      const result = await runDemo({
        onStage: (stage, info) => {
          if (stage === 'started') {
            write(
              c.dim(
                `Simulator up on loopback: authoritative DNS at ${info.dns}, ${info.hosts} HTTPS/SMTP hosts with certificates from a private CA, for ${(info.domains as string[]).join(', ')}.`,
              ),
            );
            write('');
            write(
              c.bold('1. mta-sts check on each domain (DNS, policy host, policy, MX, STARTTLS, TLS-RPT)'),
            );
          }
          if (stage === 'reports') {
            write('');
            write(
              c.bold(
                '2. TLS reports: a week of generated RFC 8460 reports from four large senders, ingested and summarised',
              ),
            );
            for (const l of summaryLines(
              info.summary as ReportSummary,
              info.byDomain as Record<string, ReportSummary['totals']>,
            ))
              write(l);
          }
        },
        onCheck: (r) => {
          write('');
          write(renderCheckReport(c, r, { smtp: true }));
          const story = DEMO_STORIES[r.domain];
          if (story) write(c.cyan(story.story.map((l) => `  │ ${l}`).join('\n')));
        },
      });
      if (opts.json) printJson(result);
      else {
        write('');
        write(c.bold('Try it yourself'));
        write('  mta-sts sim --demo          # keep the simulated domains running and print the flags for:');
        write('  mta-sts check healthy.example --resolver … --ca-file … --connect-to …');
        write('  mta-sts lint --help         # validate your own policy file offline');
      }
      if (result.unexpected.length > 0) {
        for (const u of result.unexpected)
          process.stderr.write(`demo: ${u.domain} gave verdict ${u.got}, expected ${u.expected}\n`);
        process.exitCode = EXIT_PROBLEMS;
      } else process.exitCode = EXIT_OK;
    });
}
