// Human rendering of findings: the code, where it applies (with the source line when there is
// one), why it matters, how to fix it, and the RFC section. Shared by lint and check.
import type { Finding } from '../core/findings.js';
import { type Colors, severityLabel } from './output.js';

export interface RenderOptions {
  /** The file name shown before line:column. */
  source?: string;
  /** The text the line numbers refer to, to show the offending line. */
  text?: string;
  indent?: string;
}

export function renderFinding(c: Colors, f: Finding, opts: RenderOptions = {}): string {
  const ind = opts.indent ?? '';
  const where =
    f.line !== undefined
      ? `${opts.source ? `${opts.source}:` : ''}${f.line}${f.column !== undefined ? `:${f.column}` : ''} `
      : f.column !== undefined
        ? `col ${f.column} `
        : '';
  const out: string[] = [];
  const subject = f.subject ? c.dim(` [${f.subject}]`) : '';
  out.push(`${ind}${c.dim(where)}${severityLabel(c, f.severity)} ${c.bold(f.code)}${subject}: ${f.message}`);
  if (opts.text !== undefined && f.line !== undefined) {
    const lines = opts.text.split('\n');
    const src = lines[f.line - 1];
    if (src !== undefined) {
      const shown = src
        .replace(/\r$/, '')
        .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '·')
        .replace(/\t/g, ' ');
      const gutter = String(f.line).padStart(4);
      out.push(`${ind}  ${c.dim(`${gutter} |`)} ${shown.length > 120 ? `${shown.slice(0, 117)}...` : shown}`);
      if (f.column !== undefined && f.column <= 120) {
        out.push(
          `${ind}  ${c.dim(`${' '.repeat(4)} |`)} ${' '.repeat(Math.max(0, f.column - 1))}${c.red('^')}`,
        );
      }
    }
  }
  if (f.hint) out.push(`${ind}  ${c.green('fix:')} ${f.hint}`);
  const refs = [f.rfc, f.resultType ? `reported by senders as ${f.resultType}` : undefined].filter(Boolean);
  if (refs.length > 0) out.push(`${ind}  ${c.dim(`see: ${refs.join('; ')}`)}`);
  return out.join('\n');
}

export function countBySeverity(findings: readonly Finding[]): {
  errors: number;
  warnings: number;
  infos: number;
} {
  let errors = 0;
  let warnings = 0;
  let infos = 0;
  for (const f of findings) {
    if (f.severity === 'error') errors++;
    else if (f.severity === 'warning') warnings++;
    else infos++;
  }
  return { errors, warnings, infos };
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
