// `mta-sts lint` and `mta-sts match` as a user runs them: output, --json contract, exit codes,
// and hostile input (binary, huge, only newlines, invalid UTF-8, 100 000 lines).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'mta-sts-lint-'));
const file = (name: string, content: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const GOOD = 'version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n';
const TEMPLATE =
  'version: STSv1\nmode: [enforce|testing|none] # 1. Decide your mode.\nmx: mx1.your_domain.tld      # 2. Add your primary mailserver hostname (see MX records in your DNS)\nmx: mx2.your_domain.tld      # 3. If you have secondary mailservers, add one line for each.\nmax_age: 604800              # 4. Depending on your mode above, 604800 seconds = 1 week might be a good value.\n';

describe('mta-sts lint', () => {
  it('accepts a valid policy: exit 0, JSON contract', async () => {
    const r = await runCli(['lint', '--json', file('good.txt', GOOD)]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.valid).toBe(true);
    expect(j.findings).toEqual([]);
    expect(j.policy).toEqual({
      version: 'STSv1',
      mode: 'enforce',
      mx: ['mail.example.com', '*.example.net'],
      maxAge: 604800,
      extensions: [],
    });
  });

  it('reports the GitHub Pages template line by line, exit 1', async () => {
    const p = file('template.txt', TEMPLATE);
    const r = await runCli(['lint', p]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/template\.txt:2:7 error policy\.mode/);
    expect(r.stdout).toMatch(/template\.txt:3:5 error policy\.mx-invalid/);
    expect(r.stdout).toMatch(/template\.txt:5:10 error policy\.max-age/);
    const j = JSON.parse((await runCli(['lint', '--json', p])).stdout);
    expect(j.valid).toBe(false);
    expect(j.findings.map((f: { line: number }) => f.line)).toEqual([2, 3, 4, 5]);
    for (const f of j.findings) expect(f).toMatchObject({ severity: 'error', rfc: 'RFC 8461 §3.2' });
  });

  it('--fix refuses the template (mode cannot be guessed) and leaves it unchanged', async () => {
    const p = file('template-fix.txt', TEMPLATE);
    const r = await runCli(['lint', '--fix', p]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/--fix refused/);
    expect(r.stdout).toMatch(/mode/);
    expect(readFileSync(p, 'utf8')).toBe(TEMPLATE);
  });

  it('--fix rewrites a commented CRLF policy canonically', async () => {
    const p = file(
      'fixable.txt',
      '# ours\r\nversion: STSv1\r\nmode: enforce # yes\r\n\r\nmx: MX1.Example.com.\r\nmax_age: 604800\r\n',
    );
    const r = await runCli(['lint', '--fix', '--json', p]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).fix.applied).toBe(true);
    expect(readFileSync(p, 'utf8')).toBe(
      'version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 604800\n',
    );
    const again = await runCli(['lint', '--fix', '--json', p]);
    expect(JSON.parse(again.stdout).fix.applied).toBe(false);
  });

  it('reads stdin with -', async () => {
    const r = await runCli(['lint', '--json', '-'], { input: GOOD.replaceAll('\n', '\r\n') });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).valid).toBe(true);
  });

  it('--mx reports uncovered hosts and unused patterns', async () => {
    const r = await runCli([
      'lint',
      '--json',
      file('mx.txt', GOOD),
      '--mx',
      'mail.example.com,a.b.example.net',
      '--mx',
      'MAIL.example.com.',
    ]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.findings.map((f: { code: string }) => f.code).sort()).toEqual([
      'mx.not-covered',
      'mx.pattern-unused',
    ]);
    expect(j.mx.notCovered).toEqual(['a.b.example.net']);
    expect(j.mx.unusedPatterns).toEqual(['*.example.net']);
  });

  it('--record and --tlsrpt', async () => {
    let r = await runCli([
      'lint',
      '--json',
      '--record',
      'v=spf1 -all',
      '--record',
      'v=STSv1; id=20261130120000Z',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).record.id).toBe('20261130120000Z');
    r = await runCli(['lint', '--json', '--record', 'v=STSv1; id=a', '--record', 'v=STSv1; id=b']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).findings[0].code).toBe('sts-record.multiple');
    r = await runCli([
      'lint',
      '--json',
      '--tlsrpt',
      'v=TLSRPTv1; rua=mailto:tls@example.net,https://r.example.net/x',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).tlsrpt.rua).toEqual(['mailto:tls@example.net', 'https://r.example.net/x']);
    r = await runCli(['lint', '--tlsrpt', 'v=TLSRPTv1; rua=tls@example.net']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/tlsrpt-record\.rua-invalid/);
  });

  it('usage errors and unreadable input exit 2 without a stack trace', async () => {
    for (const args of [
      ['lint'],
      ['lint', join(dir, 'missing.txt')],
      ['lint', dir],
      ['lint', '--bogus'],
      ['lint', '--fix', '-'],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('hostile input: a clear finding, exit 1, no hang, no stack trace', async () => {
    const inputs: Array<[string, Uint8Array | string, string]> = [
      ['binary', new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), 'policy.'],
      ['ten-mb', 'x'.repeat(10 * 1024 * 1024), 'policy.too-large'],
      ['newlines', '\n'.repeat(1000), 'policy.syntax'],
      ['bad-utf8', new Uint8Array([0x76, 0x65, 0x72, 0xc3, 0x28, 0x0a]), 'policy.encoding'],
      ['hundred-thousand-lines', 'mx: a.example.com\n'.repeat(100_000), 'policy.too-large'],
      ['short-lines', 'a\n'.repeat(30_000), 'policy.syntax'],
    ];
    for (const [name, content, code] of inputs) {
      const r = await runCli(['lint', '--json', file(name, content)]);
      expect(r.code, name).toBe(1);
      const j = JSON.parse(r.stdout);
      expect(j.valid).toBe(false);
      expect(
        j.findings.some((f: { code: string }) => f.code.startsWith(code)),
        name,
      ).toBe(true);
      expect(r.stderr).toBe('');
    }
  });
});

describe('mta-sts match', () => {
  it('exit 0 on a match, 1 on none, 2 on an invalid pattern', async () => {
    expect((await runCli(['match', '*.example.com', 'MAIL.Example.COM.'])).code).toBe(0);
    expect((await runCli(['match', '*.example.com', 'a.b.example.com'])).code).toBe(1);
    expect((await runCli(['match', '*.example.com', 'example.com'])).code).toBe(1);
    expect((await runCli(['match', 'mx*.example.com', 'mx1.example.com'])).code).toBe(2);
    const j = await runCli(['match', '--json', '*.example.com', 'mail.example.com']);
    expect(JSON.parse(j.stdout)).toEqual({
      pattern: '*.example.com',
      host: 'mail.example.com',
      matches: true,
    });
  });
});
