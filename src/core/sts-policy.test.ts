import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixStsPolicy } from './lint.js';
import { buildStsPolicy, formatStsPolicy, parseStsPolicy, type StsMode } from './sts-policy.js';

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
const host = fc
  .array(label, { minLength: 2, maxLength: 4 })
  .map((l) => l.join('.'))
  .filter((h) => !/\.\d+$/.test(h));
const pattern = fc.tuple(fc.boolean(), host).map(([wild, h]) => (wild ? `*.${h}` : h));
const policyArb = fc.record({
  mode: fc.constantFrom<StsMode>('enforce', 'testing', 'none'),
  mx: fc.uniqueArray(pattern, { minLength: 1, maxLength: 6 }),
  maxAge: fc.integer({ min: 0, max: 31_557_600 }),
  extensions: fc.uniqueArray(
    fc.record({
      name: fc.stringMatching(/^x-[a-z0-9_.-]{1,20}$/),
      value: fc.stringMatching(/^[!-~](?:[ -~]{0,30}[!-~])?$/),
    }),
    { maxLength: 3, selector: (e) => e.name },
  ),
});

describe('policy parse/format', () => {
  it('parse(format(p)) returns p', () => {
    fc.assert(
      fc.property(policyArb, (p) => {
        const r = parseStsPolicy(formatStsPolicy(p));
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.value).toEqual({ version: 'STSv1', ...p });
      }),
    );
  });

  it('format is stable: format(parse(format(p))) === format(p), with LF or CRLF input', () => {
    fc.assert(
      fc.property(policyArb, fc.constantFrom<'\n' | '\r\n'>('\n', '\r\n'), (p, eol) => {
        const text = formatStsPolicy(p, eol);
        const r = parseStsPolicy(text);
        if (!r.ok) throw new Error('expected ok');
        expect(formatStsPolicy(r.value)).toBe(formatStsPolicy(p));
      }),
    );
  });

  it('never throws on arbitrary strings or bytes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        const r = parseStsPolicy(s);
        expect(Array.isArray(r.findings)).toBe(true);
        if (!r.ok) expect(r.findings.some((f) => f.severity === 'error')).toBe(true);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        parseStsPolicy(b);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on line-shaped random input', () => {
    const line = fc.oneof(
      fc
        .constantFrom('version', 'mode', 'mx', 'max_age', 'Mode', '#x', ' mode', 'x-ext')
        .chain((k) =>
          fc
            .tuple(fc.constant(k), fc.constantFrom(':', ' :', ': ', ':\t', ''), fc.string({ maxLength: 20 }))
            .map((t) => t.join('')),
        ),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r'), (lines, eol) => {
        const r = parseStsPolicy(lines.join(eol));
        expect(r.ok === true || r.findings.length > 0).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('buildStsPolicy validates with the lint codes', () => {
    expect(
      buildStsPolicy({ mode: 'enforce', mx: ['mail.example.com'], maxAge: 99_999_999 }).findings.map(
        (f) => f.code,
      ),
    ).toContain('policy.max-age');
    const ok = buildStsPolicy({ mode: 'enforce', mx: ['mail.example.com'], maxAge: 604800 });
    expect(ok.ok).toBe(true);
    expect(ok.text).toBe('version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 604800\n');
  });

  it('rejects a policy over 64 KiB without reading it line by line', () => {
    const big = `version: STSv1\nmode: enforce\nmx: a.example.com\nmax_age: 1\n${'x-pad: y\n'.repeat(10_000)}`;
    const r = parseStsPolicy(big);
    expect(r.findings.map((f) => f.code)).toEqual(['policy.too-large']);
  });

  it('reports invalid UTF-8 with its line', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('version: STSv1\nx-a: '), 0xff, 0xfe, 0x0a]);
    const r = parseStsPolicy(bytes);
    const enc = r.findings.find((f) => f.code === 'policy.encoding');
    expect(enc?.line).toBe(2);
  });

  it('caps the number of syntax findings listed', () => {
    const r = parseStsPolicy('\n'.repeat(5000));
    expect(r.findings.length).toBeLessThan(120);
    expect(r.findings.some((f) => /more malformed lines/.test(f.message))).toBe(true);
  });

  it('lenient parsing (the sender) ignores stray lines but not malformed known fields', () => {
    const stray = '# comment\nversion: STSv1\nmode: enforce\n\nmx: mail.example.com\nmax_age: 604800\n';
    expect(parseStsPolicy(stray).ok).toBe(false);
    expect(parseStsPolicy(stray, { lenient: true }).ok).toBe(true);
    const badMode = 'version: STSv1\nmode: enforce # on\nmx: mail.example.com\nmax_age: 604800\n';
    expect(parseStsPolicy(badMode, { lenient: true }).ok).toBe(false);
    const noMode = 'version: STSv1\nmode :enforce\nmx: mail.example.com\nmax_age: 604800\n';
    expect(parseStsPolicy(noMode, { lenient: true }).ok).toBe(false);
  });
});

describe('fixStsPolicy', () => {
  it('strips comments, blank lines and CRLF when the intent is clear', () => {
    const r = fixStsPolicy(
      '# policy\r\nversion: STSv1\r\n\r\nmode: enforce   # go\r\nmx: MAIL.Example.com.\r\nmax_age : 604800\r\n',
    );
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.text).toBe('version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 604800\n');
  });

  it('refuses when the mode cannot be guessed (GitHub Pages template)', () => {
    const r = fixStsPolicy(
      'version: STSv1\nmode: [enforce|testing|none] # 1. Decide your mode.\nmx: mx1.example.com # 2.\nmax_age: 604800 # 4.\n',
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reasons.join(' ')).toMatch(/mode/);
  });

  it('refuses conflicting duplicates and keeps identical ones once', () => {
    expect(
      fixStsPolicy('version: STSv1\nmode: testing\nmode: enforce\nmx: a.example.com\nmax_age: 86400\n').ok,
    ).toBe(false);
    const same = fixStsPolicy(
      'version: STSv1\nmode: testing\nmode: testing\nmx: a.example.com\nmax_age: 86400\n',
    );
    expect(same.ok && same.text.match(/mode:/g)?.length).toBe(1);
  });

  it('is idempotent on canonical text', () => {
    const text = 'version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 604800\n';
    const r = fixStsPolicy(text);
    expect(r.ok && r.changed).toBe(false);
  });
});

describe('the lenient (sender) reading, edge cases', () => {
  const base = 'version: STSv1\nmode: enforce\nmx: a.example.com\nmax_age: 604800\n';
  it('a malformed mx line makes the policy invalid instead of narrowing it', () => {
    for (const bad of [' mx: b.example.com\n', 'mx : b.example.com\n']) {
      const r = parseStsPolicy(base + bad, { lenient: true });
      expect(r.ok, JSON.stringify(bad)).toBe(false);
    }
  });
  it('a bad UTF-8 byte in an ignored line does not switch the policy off', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode(`${base}x-note: caf`), 0xe9, 0x0a]);
    expect(parseStsPolicy(bytes, { lenient: true }).ok).toBe(true);
    expect(parseStsPolicy(bytes).ok).toBe(false);
  });
  it('a tab inside an extension value is not in the grammar', () => {
    expect(parseStsPolicy(`${base}x-note: a\tb\n`).findings.map((f) => f.code)).toContain('policy.syntax');
    expect(parseStsPolicy(`${base}x-note: a b\n`).ok).toBe(true);
  });
});
