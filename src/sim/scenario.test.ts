import { describe, expect, it } from 'vitest';
import { demoScenario } from './demo-scenario.js';
import { parseScenario, parseScenarioYaml, ScenarioError } from './scenario.js';

function issues(input: unknown): string[] {
  try {
    parseScenario(input);
  } catch (err) {
    if (err instanceof ScenarioError) return err.issues;
    throw err;
  }
  return [];
}

describe('scenario validation', () => {
  it('accepts the demo scenario and fills defaults', () => {
    const s = parseScenario(demoScenario);
    expect(s.delayMs).toBe(0);
    expect(s.domains.map((d) => d.name)).toEqual(['healthy.example', 'testing.example', 'stale.example']);
    expect(s.domains[0]?.mx[1]).toMatchObject({ addresses: 1, faults: { cert: 'valid', noStarttls: false } });
    expect(s.domains[0]?.policyHost).toMatchObject({ absent: false, faults: { cert: 'valid' } });
  });

  it('names the bad key with its path', () => {
    expect(
      issues({ domains: [{ name: 'a.test', mx: [{ host: 'mx.a.test', faults: { noStartTLS: true } }] }] }),
    ).toEqual([expect.stringMatching(/^domains\[0\]\.mx\[0\]\.faults: .*noStartTLS/)]);
    expect(issues({ domains: [{ name: 'a.test', policyHost: { faults: { cert: 'rotten' } } }] })).toEqual([
      expect.stringMatching(/^domains\[0\]\.policyHost\.faults\.cert: /),
    ]);
    expect(issues({ domains: [] })).toEqual([expect.stringMatching(/^domains: /)]);
    expect(issues({ domains: [{ name: 'not a host' }] })).toEqual([
      expect.stringMatching(/^domains\[0\]\.name: /),
    ]);
    expect(issues({ domains: [{ name: 'a.test', stsRecord: { id: 'has space' } }] })).toEqual([
      expect.stringMatching(/^domains\[0\]\.stsRecord\.id: id must be/),
    ]);
  });

  it('reports duplicate domains and contradictory faults', () => {
    expect(issues({ domains: [{ name: 'a.test' }, { name: 'A.test.' }] })).toEqual([
      'domains[1].name: duplicate domain a.test',
    ]);
    expect(
      issues({
        domains: [
          { name: 'a.test', mx: [{ host: 'mx.a.test', faults: { noBanner: true, endlessBanner: true } }] },
        ],
      }),
    ).toHaveLength(1);
  });

  it('parses YAML and reports YAML errors as scenario errors', () => {
    const s = parseScenarioYaml('domains:\n  - name: y.test\n    stsRecord: { id: abc }\n', 'x.yaml');
    expect(s.domains[0]?.stsRecord?.id).toBe('abc');
    expect(() => parseScenarioYaml('domains: [', 'x.yaml')).toThrow(ScenarioError);
    expect(() => parseScenarioYaml('domains: 3', 'x.yaml')).toThrow(/x\.yaml: invalid scenario/);
  });
});
