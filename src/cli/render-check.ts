// Human rendering of a CheckReport: one block per step (passed steps marked too), the findings
// under the step they belong to, and a one-line verdict.
import type { CheckReport, CheckStep } from '../check/check-domain.js';
import { CHECK_STEPS } from '../check/check-domain.js';
import type { Colors } from './output.js';
import { countBySeverity, plural, renderFinding } from './render-findings.js';

const STEP_TITLE: Record<CheckStep, string> = {
  dns: 'DNS record',
  'policy-host': 'Policy host',
  policy: 'Policy',
  mx: 'MX hosts',
  starttls: 'STARTTLS',
  tlsrpt: 'TLS-RPT',
};

function stepSummary(r: CheckReport, step: CheckStep): string {
  switch (step) {
    case 'dns':
      if (r.record.value) {
        const via = r.record.cnameChain.length ? ` (via CNAME ${r.record.cnameChain.join(' -> ')})` : '';
        return `${r.record.name} TXT "v=STSv1; id=${r.record.value.id}"${via}`;
      }
      return `${r.record.name}: ${r.record.status === 'ok' ? r.record.txt.map((t) => `"${t}"`).join(', ') : r.record.status}`;
    case 'policy-host': {
      const p = r.policy;
      if (!p.fetched)
        return `${p.url}${p.error ? `: ${p.error.stage} failed (${p.error.code})` : ': not fetched'}`;
      const cert = p.tls?.certificate;
      const certText = cert
        ? `, certificate for ${cert.dnsNames.join(', ') || cert.subject} until ${cert.validTo.slice(0, 10)}`
        : '';
      return `${p.url}: ${p.status} ${p.contentType ?? '(no content type)'} from ${p.address}, ${p.tls?.protocol ?? ''}${certText}`;
    }
    case 'policy': {
      const v = r.policy.value;
      if (!v) return r.policy.text !== undefined ? 'the policy is not usable' : 'no policy to read';
      return `mode ${v.mode}, max_age ${v.maxAge}, mx ${v.mx.join(', ') || '(none)'}`;
    }
    case 'mx':
      if (r.mx.length === 0) return 'no MX host';
      return r.mx
        .map(
          (m) =>
            `${m.host}${m.priority !== undefined ? ` (${m.priority})` : ''} ${m.addresses.join(' ') || '-'}`,
        )
        .join('; ');
    case 'starttls': {
      const probes = r.mx.flatMap((m) => m.smtp.map((s) => ({ host: m.host, s })));
      if (probes.length === 0) return 'not probed';
      const good = probes.filter(({ s }) => s.tls && !s.error);
      const versions = [...new Set(good.map(({ s }) => s.tls!.protocol))].join('/');
      return `${good.length}/${probes.length} addresses negotiated TLS${versions ? ` (${versions})` : ''}`;
    }
    case 'tlsrpt':
      if (r.tlsrpt.value) return `${r.tlsrpt.name}: rua ${r.tlsrpt.value.rua.join(', ')}`;
      return `${r.tlsrpt.name}: ${r.tlsrpt.status === 'ok' ? 'no usable record' : r.tlsrpt.status}`;
  }
}

const VERDICT_TEXT = {
  ok: 'MTA-STS is deployed correctly',
  warn: 'MTA-STS works, with warnings',
  fail: 'problems found: senders may not deliver, or not securely',
  none: 'this domain does not publish MTA-STS',
} as const;

export function renderCheckReport(c: Colors, r: CheckReport, opts: { smtp: boolean }): string {
  const out: string[] = [];
  out.push(c.bold(`${r.domain}`));
  for (const step of CHECK_STEPS) {
    if (step === 'starttls' && !opts.smtp) {
      out.push(`  ${c.dim('-')} ${STEP_TITLE[step].padEnd(12)} ${c.dim('skipped (--no-smtp)')}`);
      continue;
    }
    const fs = r.findings.filter((f) => f.step === step);
    const worst = fs.some((f) => f.severity === 'error')
      ? 'error'
      : fs.some((f) => f.severity === 'warning')
        ? 'warning'
        : 'ok';
    const mark = worst === 'error' ? c.red('✗') : worst === 'warning' ? c.yellow('!') : c.green('✓');
    out.push(`  ${mark} ${STEP_TITLE[step].padEnd(12)} ${c.dim(stepSummary(r, step))}`);
    for (const f of fs)
      out.push(
        renderFinding(c, f, { indent: '      ', ...(step === 'policy' ? { source: 'mta-sts.txt' } : {}) }),
      );
  }
  const n = countBySeverity(r.findings);
  const colour =
    r.verdict === 'ok' ? c.green : r.verdict === 'warn' ? c.yellow : r.verdict === 'fail' ? c.red : c.cyan;
  const mode = r.policy.value ? ` (mode ${r.policy.value.mode})` : '';
  out.push(
    `  ${c.bold('verdict:')} ${colour(c.bold(r.verdict))} — ${VERDICT_TEXT[r.verdict]}${r.verdict === 'ok' || r.verdict === 'warn' ? mode : ''}; ${plural(n.errors, 'error')}, ${plural(n.warnings, 'warning')}`,
  );
  return out.join('\n');
}
