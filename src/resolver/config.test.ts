import { describe, expect, it } from 'vitest';
import { parseResolverConfigYaml, ResolverConfigError, zoneFor } from './config.js';

// The shape of postfix-mta-sts-resolver's documented example configuration.
const PMSR_STYLE = `
host: 127.0.0.1
port: 8461
reuse_port: true
shutdown_timeout: 20
cache_grace: 60
proactive_policy_fetching:
  enabled: true
  interval: 86400
  concurrency_limit: 100
  grace_ratio: 2
cache:
  type: internal
  options:
    cache_size: 10000
default_zone:
  strict_testing: false
  timeout: 4
zones:
  myzone:
    strict_testing: true
    timeout: 4
`;

describe('resolver configuration', () => {
  it('reads a postfix-mta-sts-resolver configuration unchanged, without warnings', () => {
    const { config, warnings } = parseResolverConfigYaml(PMSR_STYLE);
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8461,
      cache: { type: 'internal', cacheSize: 10000 },
      proactive: { enabled: true, interval: 86400, concurrencyLimit: 100, graceRatio: 2 },
      defaultZone: { strictTesting: false, timeout: 4, requireSni: true, tlsrpt: false },
    });
    expect(zoneFor(config, 'myzone').strictTesting).toBe(true);
    expect(zoneFor(config, 'postfix').strictTesting).toBe(false);
  });

  it('reads a unix socket with an octal mode as YAML 1.1 (PyYAML) does', () => {
    const { config } = parseResolverConfigYaml(
      'path: /run/mta-sts.sock\nmode: 0660\nowner: postfix\ngroup: 107\n',
    );
    expect(config).toMatchObject({ path: '/run/mta-sts.sock', mode: 0o660, owner: 'postfix', group: 107 });
  });

  it('defaults to the persistent SQLite cache; sqlite options as pmsr writes them', () => {
    expect(parseResolverConfigYaml('').config.cache.type).toBe('sqlite');
    const { config, warnings } = parseResolverConfigYaml(
      'cache:\n  type: sqlite\n  options:\n    filename: /var/lib/x.db\n    threads: 4\n',
    );
    expect(config.cache).toEqual({ type: 'sqlite', filename: '/var/lib/x.db', timeout: 5 });
    expect(warnings).toEqual(['cache.options.threads: accepted for compatibility, has no effect here']);
  });

  it('reads our own keys', () => {
    const { config } = parseResolverConfigYaml(
      'resolver: [127.0.0.1:5353]\nca_file: /tmp/ca.pem\nconnect_to: ["mta-sts.a.test:443:127.0.0.1:8443"]\nnegative_cache_ttl: 120\nmetrics: {host: 127.0.0.1, port: 9100}\n',
    );
    expect(config).toMatchObject({
      resolver: ['127.0.0.1:5353'],
      caFile: '/tmp/ca.pem',
      connectTo: ['mta-sts.a.test:443:127.0.0.1:8443'],
      negativeCacheTtl: 120,
      metrics: { host: '127.0.0.1', port: 9100 },
    });
  });

  it('reports unknown keys instead of ignoring them silently', () => {
    const { warnings } = parseResolverConfigYaml('prot: 8461\ndefault_zone:\n  strict_tests: true\n');
    expect(warnings).toEqual([
      'prot: unknown key, ignored',
      'default_zone.strict_tests: unknown key, ignored',
    ]);
  });

  it('rejects wrong values, naming each key', () => {
    try {
      parseResolverConfigYaml('port: eighty\ndefault_zone: {timeout: -1}\ncache: {type: postgres}\n');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ResolverConfigError);
      const problems = (err as ResolverConfigError).problems.join('\n');
      expect(problems).toMatch(/^port:/m);
      expect(problems).toMatch(/default_zone\.timeout/);
      expect(problems).toMatch(/cache\.type: "postgres" is not supported/);
    }
  });
});
