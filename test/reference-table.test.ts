// Runs the reference table in test/fixtures/reference-cases.yaml against the core.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { normalizeDomain } from '../src/core/domain.js';
import { lint } from '../src/core/lint.js';
import { matchMxPattern } from '../src/core/mx-pattern.js';

interface Expect {
  name: string;
  valid: boolean;
  codes: string[];
}
interface Table {
  policy: Array<Expect & { text: string }>;
  record: Array<Expect & { records: Array<string | string[]> }>;
  tlsrpt: Array<Expect & { records: Array<string | string[]> }>;
  match: Array<{ pattern: string; host: string; matches: boolean }>;
  domain: Array<{ input: string; value?: string; error?: boolean }>;
  'lint-mx': Array<Expect & { text: string; mx: string[] }>;
}

const table = parse(
  readFileSync(new URL('./fixtures/reference-cases.yaml', import.meta.url), 'utf8'),
) as Table;
const distinct = (codes: string[]) => [...new Set(codes)].sort();

describe('reference table', () => {
  it('has at least 80 cases', () => {
    const n =
      table.policy.length +
      table.record.length +
      table.tlsrpt.length +
      table.match.length +
      table.domain.length +
      table['lint-mx'].length;
    expect(n).toBeGreaterThanOrEqual(80);
  });

  describe('policy files', () => {
    it.each(table.policy.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const r = lint({ policy: c.text });
      expect(distinct(r.findings.map((f) => f.code))).toEqual(distinct(c.codes));
      expect(r.valid).toBe(c.valid);
      // The same answer for the bytes as for the string.
      expect(lint({ policy: new TextEncoder().encode(c.text) }).findings.map((f) => f.code)).toEqual(
        r.findings.map((f) => f.code),
      );
    });
  });

  describe('_mta-sts records', () => {
    it.each(table.record.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const r = lint({ records: c.records });
      expect(distinct(r.findings.map((f) => f.code))).toEqual(distinct(c.codes));
      expect(r.valid).toBe(c.valid);
      expect(r.record !== undefined).toBe(c.valid);
    });
  });

  describe('_smtp._tls records', () => {
    it.each(table.tlsrpt.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const r = lint({ tlsrpt: c.records });
      expect(distinct(r.findings.map((f) => f.code))).toEqual(distinct(c.codes));
      expect(r.valid).toBe(c.valid);
    });
  });

  describe('mx matching', () => {
    it.each(table.match.map((c) => [`${c.pattern} ~ ${c.host}`, c] as const))('%s', (_name, c) => {
      expect(matchMxPattern(c.pattern, c.host)).toBe(c.matches);
    });
  });

  describe('domain normalisation', () => {
    it.each(table.domain.map((c) => [JSON.stringify(c.input), c] as const))('%s', (_name, c) => {
      const r = normalizeDomain(c.input);
      if (c.error) expect(r.ok).toBe(false);
      else expect(r).toEqual({ ok: true, value: c.value });
    });
  });

  describe('policy against MX hosts', () => {
    it.each(table['lint-mx'].map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const r = lint({ policy: c.text, mx: c.mx });
      expect(distinct(r.findings.map((f) => f.code))).toEqual(distinct(c.codes));
      expect(r.valid).toBe(c.valid);
    });
  });
});
