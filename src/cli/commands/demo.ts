import type { Command } from 'commander';
import { DEMO_STORIES, runDemo } from '../../demo/run-demo.js';
import type { ReportSummary } from '../../reports/types.js';
import { colors, EXIT_OK, EXIT_PROBLEMS, parseIntegerOption, printJson } from '../output.js';
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
    .option(
      '--demo-duration <seconds>',
      'then run `mta-sts serve` on the simulated domains with the demo reports, print the dashboard URL and keep it up this long',
    )
    .action(async (opts: { json?: boolean; demoDuration?: string }) => {
      const serveSeconds =
        opts.demoDuration === undefined
          ? undefined
          : parseIntegerOption('--demo-duration', opts.demoDuration, 1, 7 * 86400);
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      const c = colors();
      const write = (s: string) => {
        if (!opts.json) process.stdout.write(`${s}\n`);
      };
      write(c.bold('mta-sts demo — MTA-STS and TLS reporting on a simulated mail domain, offline'));
      if (serveSeconds !== undefined) {
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      }
      const result = await runDemo({
        ...(serveSeconds !== undefined ? { serveSeconds, signal: abort.signal } : {}),
        onServe: (info) => {
          const lines = [
            '',
            c.bold(
              `4. mta-sts serve on the simulated domains, with these reports (for ${info.seconds} s; Ctrl-C stops it)`,
            ),
            `  dashboard:    ${info.dashboardUrl}`,
            `  live status:  ${info.dashboardUrl}status`,
            `  policy host:  https://${info.https} (SNI mta-sts.<domain>), e.g.`,
            `    curl --cacert ${info.caFile} --connect-to mta-sts.healthy.example:443:${info.https} https://mta-sts.healthy.example/.well-known/mta-sts.txt`,
          ];
          if (opts.json) process.stderr.write(`dashboard: ${info.dashboardUrl}\n`);
          else for (const l of lines) write(l);
        },
        onStage: (stage, info) => {
          if (stage === 'setup') {
            write('');
            write(
              c.bold(
                `1. mta-sts init ${info.domain} --mode enforce --rua mailto:tlsrpt@reports.example --pages-host example-org.github.io`,
              ),
            );
            write(
              `  MX records read from the simulated DNS; a GitHub Pages site written: ${(info.files as string[]).join(', ')}`,
            );
            write('  the policy, served below exactly as generated:');
            for (const l of String(info.policy).trimEnd().split('\n')) write(`    ${l}`);
            write(
              `  the DNS records to publish, id ${info.id} (the simulator publishes the two TXT records):`,
            );
            for (const l of String(info.records).trimEnd().split('\n')) write(`    ${l}`);
          }
          if (stage === 'started') {
            write('');
            write(
              c.dim(
                `Simulator up on loopback: authoritative DNS at ${info.dns}, ${info.hosts} HTTPS/SMTP hosts with certificates from a private CA, for ${(info.domains as string[]).join(', ')}.`,
              ),
            );
            write('');
            write(
              c.bold('2. mta-sts check on each domain (DNS, policy host, policy, MX, STARTTLS, TLS-RPT)'),
            );
          }
          if (stage === 'reports') {
            write('');
            write(
              c.bold(
                '3. TLS reports: a week of generated RFC 8460 reports from four large senders, ingested and summarised',
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
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (opts.json) printJson(result);
      else {
        write('');
        write(c.bold('Try it yourself'));
        write('  mta-sts sim --demo          # keep the simulated domains running and print the flags for:');
        if (serveSeconds === undefined)
          write(
            '  mta-sts demo --demo-duration 600   # the same, then the dashboard with these reports for 10 minutes',
          );
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
