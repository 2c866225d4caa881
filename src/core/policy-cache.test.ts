// Each cache rule of RFC 8461 §3.3/§5.1 with a fake clock (times are plain numbers, ms).
import { describe, expect, it } from 'vitest';
import {
  applyFetchOutcome,
  isEvictable,
  type PolicyCacheEntry,
  planAfterRecord,
  planLookup,
  proactiveRefreshDue,
  DEFAULT_CACHE_RULES as rules,
} from './policy-cache.js';
import type { StsPolicy } from './sts-policy.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const stsPolicy: StsPolicy = {
  version: 'STSv1',
  mode: 'enforce',
  mx: ['mail.example.com'],
  maxAge: 86400,
  extensions: [],
};

function fetched(at = T0, id = 'id1'): PolicyCacheEntry {
  return applyFetchOutcome(
    { domain: 'example.com', checkedAt: at },
    id,
    { ok: true, policy: stsPolicy },
    at,
    rules,
  ).entry;
}

describe('policy cache rules', () => {
  it('an unknown domain is discovered', () => {
    expect(planLookup(undefined, T0, rules)).toEqual({ action: 'discover' });
  });

  it('within the grace period a cached policy is used without DNS', () => {
    const e = fetched();
    const plan = planLookup(e, T0 + rules.graceMs - 1, rules);
    expect(plan).toMatchObject({ action: 'answer', reason: 'fresh', policy: { id: 'id1' } });
    expect(planLookup(e, T0 + rules.graceMs, rules)).toEqual({ action: 'discover' });
  });

  it('an unchanged id keeps the policy without a fetch, and does not extend its lifetime', () => {
    const e = fetched();
    const d = planAfterRecord(e, 'example.com', { status: 'found', id: 'id1' }, T0 + 3600_000, rules);
    expect(d.fetchId).toBeUndefined();
    expect(d.policy?.fetchedAt).toBe(T0);
    expect(d.entry.checkedAt).toBe(T0 + 3600_000);
  });

  it('an unchanged id past half of max_age triggers a fetch', () => {
    const d = planAfterRecord(fetched(), 'example.com', { status: 'found', id: 'id1' }, T0 + DAY / 2, rules);
    expect(d.fetchId).toBe('id1');
    expect(d.policy).toBeDefined();
  });

  it('a changed id triggers a refetch', () => {
    const d = planAfterRecord(fetched(), 'example.com', { status: 'found', id: 'id2' }, T0 + 120_000, rules);
    expect(d.fetchId).toBe('id2');
  });

  it('a policy lives max_age from its last successful fetch', () => {
    const e = fetched();
    expect(planLookup({ ...e, checkedAt: T0 + DAY - 1000 }, T0 + DAY - 1, rules)).toMatchObject({
      action: 'answer',
    });
    expect(planLookup({ ...e, checkedAt: T0 + DAY - 1000 }, T0 + DAY, rules)).toEqual({ action: 'discover' });
  });

  it('when the fetch fails, the cached unexpired policy applies and the failure is rate-limited', () => {
    const e = fetched();
    const now = T0 + 3600_000;
    const d = planAfterRecord(e, 'example.com', { status: 'found', id: 'id2' }, now, rules);
    const after = applyFetchOutcome(d.entry, 'id2', { ok: false, reason: 'network' }, now, rules);
    expect(after.policy?.id).toBe('id1');
    expect(planLookup(after.entry, now + rules.fetchRetryMs - 1, rules)).toMatchObject({
      action: 'answer',
      reason: 'backoff',
      policy: { id: 'id1' },
    });
    expect(planLookup(after.entry, now + rules.fetchRetryMs, rules)).toEqual({ action: 'discover' });
  });

  it('a failed fetch with nothing cached answers "no policy" until the retry time (5 minutes)', () => {
    const d = planAfterRecord(undefined, 'example.com', { status: 'found', id: 'id1' }, T0, rules);
    const after = applyFetchOutcome(d.entry, 'id1', { ok: false, reason: 'certificate-expired' }, T0, rules);
    expect(after.policy).toBeUndefined();
    expect(rules.fetchRetryMs).toBe(300_000);
    expect(planLookup(after.entry, T0 + 299_999, rules)).toMatchObject({
      action: 'answer',
      policy: undefined,
    });
    expect(planLookup(after.entry, T0 + 300_000, rules)).toEqual({ action: 'discover' });
  });

  it('when discovery fails (DNS error), the cached policy applies', () => {
    const d = planAfterRecord(
      fetched(),
      'example.com',
      { status: 'error', detail: 'timeout' },
      T0 + 120_000,
      rules,
    );
    expect(d.fetchId).toBeUndefined();
    expect(d.policy?.id).toBe('id1');
    expect(d.entry.failure?.retryAt).toBe(T0 + 120_000 + rules.dnsRetryMs);
  });

  it('a vanished record does not cancel a cached policy (DNS stripping)', () => {
    const d = planAfterRecord(
      fetched(),
      'example.com',
      { status: 'absent', detail: 'nxdomain' },
      T0 + 120_000,
      rules,
    );
    expect(d.policy?.id).toBe('id1');
  });

  it('"no policy" is cached for negative_cache_ttl', () => {
    const d = planAfterRecord(undefined, 'example.org', { status: 'absent', detail: 'nxdomain' }, T0, rules);
    expect(d.policy).toBeUndefined();
    expect(planLookup(d.entry, T0 + rules.negativeTtlMs - 1, rules)).toMatchObject({
      action: 'answer',
      reason: 'negative',
    });
    expect(planLookup(d.entry, T0 + rules.negativeTtlMs, rules)).toEqual({ action: 'discover' });
  });

  it('expired entries are evictable; live ones and running rate limits are not', () => {
    const e = fetched();
    expect(isEvictable(e, T0 + DAY - 1, rules)).toBe(false);
    expect(isEvictable(e, T0 + DAY, rules)).toBe(true);
    const neg = planAfterRecord(undefined, 'x.org', { status: 'absent', detail: 'nodata' }, T0, rules).entry;
    expect(isEvictable(neg, T0 + 1, rules)).toBe(false);
    expect(isEvictable(neg, T0 + rules.negativeTtlMs, rules)).toBe(true);
    const failed = applyFetchOutcome(
      { domain: 'y.org', checkedAt: T0 },
      'a',
      { ok: false, reason: 'x' },
      T0,
      rules,
    ).entry;
    expect(isEvictable(failed, T0 + 1, rules)).toBe(false);
    expect(isEvictable(failed, T0 + rules.fetchRetryMs, rules)).toBe(true);
  });

  it('proactive refresh: due when old enough or about to expire', () => {
    const e = { ...fetched(), policy: { ...fetched().policy!, maxAge: 7 * 86400 } };
    const p = { intervalMs: DAY, graceRatio: 2 };
    expect(proactiveRefreshDue(e, T0 + DAY / 2 - 1, p)).toBe(false);
    expect(proactiveRefreshDue(e, T0 + DAY / 2, p)).toBe(true);
    const short = fetched();
    expect(proactiveRefreshDue(short, T0 + 1000, { intervalMs: DAY, graceRatio: 1_000_000 })).toBe(true);
    expect(proactiveRefreshDue(short, T0 + DAY, p)).toBe(false);
  });

  it('a forced (proactive) refresh fetches even with an unchanged id', () => {
    const d = planAfterRecord(fetched(), 'example.com', { status: 'found', id: 'id1' }, T0 + 1000, rules, {
      forceFetch: true,
    });
    expect(d.fetchId).toBe('id1');
  });
});
