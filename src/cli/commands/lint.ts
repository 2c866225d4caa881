import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { finding, hasErrors } from '../../core/findings.js';
import { fixStsPolicy, type LintResult, lint } from '../../core/lint.js';
import { MAX_POLICY_BYTES } from '../../core/sts-policy.js';
import { readInput } from '../input.js';
import { collect, colors, EXIT_OK, EXIT_PROBLEMS, printJson, UsageError } from '../output.js';
import { countBySeverity, plural, renderFinding } from '../render-findings.js';

interface LintOptions {
  record?: string[];
  tlsrpt?: string[];
  mx?: string[];
  fix?: boolean;
  json?: boolean;
}

export function registerLint(program: Command): void {
  program
    .command('lint')
    .description('validate a policy file (or - for stdin), _mta-sts and _smtp._tls TXT records, offline')
    .argument('[file]', 'policy file (mta-sts.txt), or - for standard input')
    .option('--record <txt>', 'a TXT record found at _mta-sts (repeat for several records)', collect)
    .option('--tlsrpt <txt>', 'a TXT record found at _smtp._tls (repeat for several records)', collect)
    .option('--mx <hosts>', 'MX host names the policy must cover (comma-separated, repeatable)', collect)
    .option('--fix', 'rewrite the file canonically when the intent is unambiguous')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Examples:
  mta-sts lint .well-known/mta-sts.txt
  mta-sts lint policy.txt --mx mx1.example.com,mx2.example.com
  mta-sts lint --record 'v=STSv1; id=20261130120000Z'
  mta-sts lint --tlsrpt 'v=TLSRPTv1; rua=mailto:tlsrpt@example.net'
  mta-sts lint --fix policy.txt

Exit status: 0 no error found, 1 errors found (or --fix refused), 2 usage error or unreadable input.`,
    )
    .action(async (file: string | undefined, opts: LintOptions) => {
      process.exitCode = await runLint(file, opts);
    });
}

async function runLint(file: string | undefined, opts: LintOptions): Promise<number> {
  if (file === undefined && !opts.record && !opts.tlsrpt) {
    throw new UsageError('nothing to lint: give a policy FILE (or -), --record or --tlsrpt');
  }
  if (opts.fix && (file === undefined || file === '-')) throw new UsageError('--fix needs a FILE to rewrite');
  if (opts.mx && file === undefined) throw new UsageError('--mx needs a policy FILE to check against');
  const mx = opts.mx
    ?.flatMap((m) => m.split(','))
    .map((m) => m.trim())
    .filter((m) => m.length > 0);

  let text: string | undefined;
  let result: LintResult;
  if (file !== undefined) {
    const { bytes, truncated } = await readInput(file, MAX_POLICY_BYTES);
    if (truncated) {
      const f = finding('policy.too-large', {
        message: `${file} is larger than ${MAX_POLICY_BYTES} bytes; senders stop reading there`,
      });
      result = { valid: false, findings: [f] };
    } else {
      text = new TextDecoder().decode(bytes);
      result = lint({
        policy: bytes,
        ...(opts.record ? { records: opts.record } : {}),
        ...(opts.tlsrpt ? { tlsrpt: opts.tlsrpt } : {}),
        ...(mx ? { mx } : {}),
      });
    }
    if (truncated && (opts.record || opts.tlsrpt)) {
      const more = lint({
        ...(opts.record ? { records: opts.record } : {}),
        ...(opts.tlsrpt ? { tlsrpt: opts.tlsrpt } : {}),
      });
      result = { ...more, findings: [...result.findings, ...more.findings], valid: false };
    }
  } else {
    result = lint({
      ...(opts.record ? { records: opts.record } : {}),
      ...(opts.tlsrpt ? { tlsrpt: opts.tlsrpt } : {}),
    });
  }

  let fix: { applied: boolean; changes: string[]; reasons: string[] } | undefined;
  if (opts.fix && text !== undefined && file) {
    const fixed = fixStsPolicy(text);
    if (fixed.ok) {
      if (fixed.changed) await writeFile(file, fixed.text);
      fix = { applied: fixed.changed, changes: fixed.changes, reasons: [] };
      // After a fix, report on the file as it now is.
      result = lint({ policy: fixed.text, ...(mx ? { mx } : {}) });
      text = fixed.text;
    } else {
      fix = { applied: false, changes: [], reasons: fixed.reasons };
    }
  }

  const exit = !result.valid || (fix && fix.reasons.length > 0) ? EXIT_PROBLEMS : EXIT_OK;
  if (opts.json) {
    printJson({ ...result, ...(fix ? { fix } : {}) });
    return exit;
  }
  const c = colors();
  const out: string[] = [];
  for (const f of result.findings) {
    out.push(
      renderFinding(c, f, {
        ...(file && f.line !== undefined ? { source: file === '-' ? '<stdin>' : file } : {}),
        ...(text !== undefined && f.line !== undefined ? { text } : {}),
      }),
    );
  }
  if (out.length > 0) out.push('');
  if (fix) {
    if (fix.reasons.length > 0) {
      out.push(c.red(`--fix refused: ${file} was left unchanged because the intent is not clear:`));
      for (const r of fix.reasons) out.push(`  - ${r}`);
      out.push('');
    } else if (fix.applied) {
      out.push(c.green(`fixed ${file}:`));
      for (const ch of fix.changes) out.push(`  - ${ch}`);
      out.push('');
    } else out.push(c.dim(`${file} is already canonical; nothing to fix`));
  }
  const n = countBySeverity(result.findings);
  const counts = `${plural(n.errors, 'error')}, ${plural(n.warnings, 'warning')}, ${plural(n.infos, 'note')}`;
  const parts: string[] = [];
  if (result.policy)
    parts.push(
      `policy: mode ${result.policy.mode}, ${plural(result.policy.mx.length, 'mx pattern')}, max_age ${result.policy.maxAge}`,
    );
  if (result.record) parts.push(`record: id ${result.record.id}`);
  if (result.tlsrpt) parts.push(`tlsrpt: ${result.tlsrpt.rua.join(', ')}`);
  if (result.mx)
    parts.push(
      `${result.mx.covered.length}/${result.mx.covered.length + result.mx.notCovered.length} MX covered`,
    );
  const verdict = hasErrors(result.findings) ? c.red(c.bold('✗ invalid')) : c.green(c.bold('✓ valid'));
  out.push(`${verdict} (${counts})${parts.length ? ` — ${parts.join('; ')}` : ''}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return exit;
}
