import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatPolicyId, nextPolicyId, parsePolicyId } from './policy-id.js';

describe('policy ids', () => {
  it('formats the UTC second as YYYYMMDDhhmmssZ', () => {
    expect(formatPolicyId(new Date('2026-11-30T12:34:56.789Z'))).toBe('20261130123456Z');
    expect(parsePolicyId('20261130123456Z')?.toISOString()).toBe('2026-11-30T12:34:56.000Z');
    expect(parsePolicyId('20261340000000Z')).toBeUndefined();
    expect(parsePolicyId('2019stale')).toBeUndefined();
  });

  it('gives two changes within one second distinct, increasing ids', () => {
    const now = new Date('2026-11-30T12:00:00.100Z');
    const first = nextPolicyId(now);
    const second = nextPolicyId(new Date('2026-11-30T12:00:00.900Z'), first);
    const third = nextPolicyId(new Date('2026-11-30T12:00:00.950Z'), second);
    expect([first, second, third]).toEqual(['20261130120000Z', '20261130120001Z', '20261130120002Z']);
  });

  it('stays ahead of a clock that went back, and starts afresh after a foreign id', () => {
    expect(nextPolicyId(new Date('2026-01-01T00:00:00Z'), '20261130120000Z')).toBe('20261130120001Z');
    expect(nextPolicyId(new Date('2026-01-01T00:00:00Z'), '2019stale')).toBe('20260101000000Z');
  });

  it('is strictly increasing over any sequence of clock readings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4_000_000_000_000 }), { minLength: 1, maxLength: 50 }),
        (times) => {
          let prev: string | undefined;
          for (const t of times) {
            const id = nextPolicyId(new Date(t), prev);
            expect(id).toMatch(/^\d{14}Z$/);
            if (prev) expect(id > prev).toBe(true);
            prev = id;
          }
        },
      ),
    );
  });
});
