import { describe, expect, it } from 'vitest';
import { ConfigError, editConfigDomain, parseConfig } from './config.js';

const text = `# hosting customers
target: nginx
defaults:
  mode: testing
  rua: mailto:tlsrpt@reports.example.net
domains:
  example.com:
    mx: [mx1.example.com, mx2.example.com]  # the two MX
    mode: enforce
  Example.ORG.:
    mx: ["*.mail.example.org"]
    max_age: 86400
`;

describe('parseConfig', () => {
  it('reads domains with defaults applied and their policy text', () => {
    const cfg = parseConfig(text, { baseDir: '/etc/mta-sts' });
    expect(cfg.target).toBe('nginx');
    expect(cfg.output).toBe('/etc/mta-sts/sites');
    expect(cfg.domains.map((d) => [d.domain, d.mode, d.maxAge, d.rua])).toEqual([
      ['example.com', 'enforce', 604800, ['mailto:tlsrpt@reports.example.net']],
      ['example.org', 'testing', 86400, ['mailto:tlsrpt@reports.example.net']],
    ]);
    expect(cfg.domains[1]!.policyText).toBe(
      'version: STSv1\nmode: testing\nmx: *.mail.example.org\nmax_age: 86400\n',
    );
  });

  it.each([
    [
      'domains:\n  example.com:\n    mx: [mx.example.com]\n    maxAge: 5\n',
      /domains\.example\.com: Unrecognized key: "maxAge"/,
    ],
    [
      'domains:\n  example.com:\n    mx: [mx.example.com]\n    max_age: 99999999999\n',
      /domains\.example\.com\.max_age: .*\[policy\.max-age\]/,
    ],
    ['domains:\n  example.com:\n    mode: enforce\n', /domains\.example\.com\.mx: .*\[policy\.mx-missing\]/],
    [
      'domains:\n  example.com:\n    mx: [mx.example.com]\n    rua: tlsrpt@example.net\n',
      /domains\.example\.com\.rua: .*mailto:/,
    ],
    ['target: apache\ndomains:\n  example.com:\n    mx: [a.example.com]\n', /target: /],
    ['domains: {}\n', /domains: list at least one domain/],
    [
      'domains:\n  example.com: {mx: [a.example.com]}\n  EXAMPLE.com: {mx: [a.example.com]}\n',
      /the same domain/,
    ],
    ['domains: [\n', /not valid YAML/],
  ])('names the bad key: %s', (bad, message) => {
    expect(() => parseConfig(bad)).toThrow(ConfigError);
    expect(() => parseConfig(bad)).toThrow(message);
  });

  it('edits one domain and keeps the comments', () => {
    const cfg = parseConfig(text);
    const edited = editConfigDomain(text, cfg, 'example.org', {
      mode: 'enforce',
      addMx: ['mx9.example.org'],
    });
    expect(edited).toContain('# hosting customers');
    expect(edited).toContain('# the two MX');
    const again = parseConfig(edited);
    expect(again.domains[1]).toMatchObject({
      domain: 'example.org',
      mode: 'enforce',
      mx: ['*.mail.example.org', 'mx9.example.org'],
    });
    expect(() => editConfigDomain(text, cfg, 'example.net', { mode: 'enforce' })).toThrow(
      /no domain example.net/,
    );
  });
});
