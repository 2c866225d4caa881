import { describe, expect, it } from 'vitest';
import { lint } from '../core/lint.js';
import {
  applyPolicyChange,
  policyText,
  reconcileDomain,
  SetupError,
  setupAdvice,
  validateSetup,
} from './model.js';

const now = new Date('2026-11-30T12:00:00Z');
const later = new Date('2026-11-30T12:00:00.500Z');

function setup(over: Record<string, unknown> = {}) {
  const r = validateSetup({ domain: 'Example.COM.', mx: ['MX1.example.com.', 'mx2.example.com'], ...over });
  if (!r.ok) throw new Error(JSON.stringify(r.findings));
  return r.value;
}

describe('validateSetup', () => {
  it('normalises and applies the defaults (testing, one week)', () => {
    const s = setup();
    expect(s).toMatchObject({
      domain: 'example.com',
      mode: 'testing',
      maxAge: 604800,
      mx: ['mx1.example.com', 'mx2.example.com'],
      rua: [],
    });
    expect(lint({ policy: policyText(s) }).valid).toBe(true);
  });

  it.each([
    [{ maxAge: 31557601 }, 'policy.max-age'],
    [{ mx: ['mx1.example.com', '*.*.example.com'] }, 'policy.mx-invalid'],
    [{ mx: ['192.0.2.1'] }, 'policy.mx-invalid'],
    [{ mx: [] }, 'policy.mx-missing'],
    [{ mode: 'Enforce' }, 'policy.mode'],
    [{ rua: ['tlsrpt@example.net'] }, 'tlsrpt-record.rua-invalid'],
    [{ pagesHost: 'not a host' }, 'setup.pages-host-invalid'],
    [{ domain: 'https://example.com/' }, 'setup.domain-invalid'],
  ])('refuses %j with the same code as lint (%s)', (over, code) => {
    const r = validateSetup({ domain: 'example.com', mx: ['mx1.example.com'], ...over });
    expect(r.ok).toBe(false);
    expect(r.findings.map((f) => f.code)).toContain(code);
  });

  it('accepts mode none without mx', () => {
    expect(validateSetup({ domain: 'example.com', mode: 'none', mx: [] }).ok).toBe(true);
  });
});

describe('reconcileDomain', () => {
  it('keeps the id when the policy content is the same for senders', () => {
    const first = reconcileDomain(setup(), undefined, now);
    expect(first.idChanged).toBe(true);
    const same = reconcileDomain(setup(), first.state, later);
    expect(same).toMatchObject({ idChanged: false, changed: false });
    expect(same.state.id).toBe(first.state.id);
    // Reordered mx, another rua, a pages host: not the policy's content.
    const cosmetic = reconcileDomain(
      setup({
        mx: ['mx2.example.com', 'mx1.example.com'],
        rua: ['mailto:r@example.net'],
        pagesHost: 'octo.github.io',
      }),
      first.state,
      later,
    );
    expect(cosmetic.idChanged).toBe(false);
    expect(cosmetic.changed).toBe(true);
  });

  it('mints a strictly later id when the content changes, even within the same second', () => {
    const first = reconcileDomain(setup(), undefined, now);
    const enforce = reconcileDomain(setup({ mode: 'enforce' }), first.state, later);
    expect(enforce.idChanged).toBe(true);
    expect(enforce.state.id > first.state.id).toBe(true);
    expect(enforce.changes).toEqual(['mode testing -> enforce']);
    expect(enforce.state.modeSince).toBe(later.toISOString());
    const moreMx = reconcileDomain(
      setup({ mode: 'enforce', mx: ['mx1.example.com', 'mx2.example.com', 'mx3.example.com'] }),
      enforce.state,
      later,
    );
    expect(moreMx.state.id > enforce.state.id).toBe(true);
    expect(moreMx.state.modeSince).toBe(enforce.state.modeSince);
  });
});

describe('applyPolicyChange', () => {
  it('adds and removes mx patterns; removing an absent one is an error', () => {
    const s = setup();
    expect(applyPolicyChange(s, { addMx: ['MX3.example.com'], removeMx: ['mx1.example.com'] }).mx).toEqual([
      'mx2.example.com',
      'mx3.example.com',
    ]);
    expect(() => applyPolicyChange(s, { removeMx: ['mx9.example.com'] })).toThrow(SetupError);
  });
});

describe('setupAdvice', () => {
  it('warns about a report mailbox on the domain itself, testing for long and a short max_age', () => {
    const s = {
      ...setup({ rua: ['mailto:tlsrpt@example.com', 'mailto:tlsrpt@reports.example.net'], maxAge: 3600 }),
      modeSince: '2026-09-01T00:00:00Z',
    };
    const codes = setupAdvice(s, now).map((f) => f.code);
    expect(codes).toEqual(
      expect.arrayContaining([
        'tlsrpt-record.rua-self-domain',
        'setup.testing-long',
        'policy.max-age-short',
        'policy.mode-testing',
      ]),
    );
    expect(setupAdvice(s, now).filter((f) => f.code === 'tlsrpt-record.rua-self-domain')).toHaveLength(1);
    const fresh = { ...setup({ mode: 'enforce' }), modeSince: now.toISOString() };
    expect(setupAdvice(fresh, now)).toEqual([]);
  });
});
