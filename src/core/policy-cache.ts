// The sender's policy cache rules (RFC 8461 §3.3, §5.1), as pure decisions: every function
// takes the time as an argument and returns the new cache entry and what to do next. The
// resolver (src/resolver/) does the I/O these decisions ask for.
import type { StsMode, StsPolicy } from './sts-policy.js';

export interface CachedPolicy {
  /** The _mta-sts TXT id the policy was fetched under. */
  id: string;
  mode: StsMode;
  mx: string[];
  /** Seconds. */
  maxAge: number;
  /** When the policy was last fetched successfully (ms since the epoch). */
  fetchedAt: number;
}

export interface PolicyCacheEntry {
  domain: string;
  /** The last successfully fetched policy; it applies until fetchedAt + max_age. */
  policy?: CachedPolicy;
  /** When DNS last confirmed this entry (the id is unchanged, or there is no record). */
  checkedAt: number;
  /** DNS said the domain has no MTA-STS record and there was no valid policy to keep. */
  absent?: boolean;
  /** The last failure, and when the network may be tried again for this domain. */
  failure?: { at: number; reason: string; retryAt: number };
}

export interface CacheRules {
  /** After a DNS check, lookups within this time use the cache without asking DNS again. */
  graceMs: number;
  /** How long "no MTA-STS record" is remembered. */
  negativeTtlMs: number;
  /** After a failed policy fetch, how long before the next attempt (RFC 8461 §3.3). */
  fetchRetryMs: number;
  /** After a failed DNS lookup (SERVFAIL, timeout), how long before the next attempt. */
  dnsRetryMs: number;
}

export const DEFAULT_CACHE_RULES: CacheRules = {
  graceMs: 60_000,
  negativeTtlMs: 300_000,
  fetchRetryMs: 300_000,
  dnsRetryMs: 60_000,
};

export function policyExpiresAt(policy: CachedPolicy): number {
  return policy.fetchedAt + policy.maxAge * 1000;
}

/** RFC 8461 §5.1: a cached policy applies until max_age seconds after its fetch. */
export function validPolicy(entry: PolicyCacheEntry | undefined, now: number): CachedPolicy | undefined {
  const p = entry?.policy;
  return p && now < policyExpiresAt(p) ? p : undefined;
}

export function cachedPolicyFrom(id: string, policy: StsPolicy, now: number): CachedPolicy {
  return { id, mode: policy.mode, mx: [...policy.mx], maxAge: policy.maxAge, fetchedAt: now };
}

export type LookupPlan =
  /** Answer from the cache (policy undefined: no policy applies). */
  | { action: 'answer'; policy: CachedPolicy | undefined; reason: 'fresh' | 'negative' | 'backoff' }
  /** Ask DNS for the _mta-sts TXT record, then call planAfterRecord. */
  | { action: 'discover' };

export function planLookup(entry: PolicyCacheEntry | undefined, now: number, rules: CacheRules): LookupPlan {
  if (!entry) return { action: 'discover' };
  const policy = validPolicy(entry, now);
  // RFC 8461 §3.3: failures are not retried on every message.
  if (entry.failure && now < entry.failure.retryAt) return { action: 'answer', policy, reason: 'backoff' };
  if (entry.absent && !policy && now - entry.checkedAt < rules.negativeTtlMs)
    return { action: 'answer', policy: undefined, reason: 'negative' };
  if (policy && now - entry.checkedAt < rules.graceMs) return { action: 'answer', policy, reason: 'fresh' };
  return { action: 'discover' };
}

export type RecordOutcome =
  | { status: 'found'; id: string }
  /** NXDOMAIN, NODATA, no v=STSv1 record, or an invalid record set: the domain has no policy. */
  | { status: 'absent'; detail: string }
  /** SERVFAIL, timeout…: could not tell. */
  | { status: 'error'; detail: string };

export interface RecordDecision {
  entry: PolicyCacheEntry;
  /** Fetch the policy (then call applyFetchOutcome with this id); otherwise answer now. */
  fetchId?: string;
  policy: CachedPolicy | undefined;
}

export function planAfterRecord(
  previous: PolicyCacheEntry | undefined,
  domain: string,
  record: RecordOutcome,
  now: number,
  rules: CacheRules,
  options: { forceFetch?: boolean } = {},
): RecordDecision {
  const policy = validPolicy(previous, now);
  const keep = policy ? { policy } : {};
  switch (record.status) {
    case 'found': {
      const entry: PolicyCacheEntry = { domain, ...keep, checkedAt: now };
      // RFC 8461 §5.1: an unchanged id means the cached policy is current. It still expires
      // max_age after its fetch, so once half of that is gone the policy is fetched again.
      const halfLife = policy ? now - policy.fetchedAt >= (policy.maxAge * 1000) / 2 : true;
      if (policy && policy.id === record.id && !halfLife && !options.forceFetch) return { entry, policy };
      return { entry, policy, fetchId: record.id };
    }
    case 'absent':
      // RFC 8461 §5.1: a vanished record does not cancel a cached, unexpired policy (it may be
      // a DNS-stripping attack); domains withdraw a policy by publishing mode "none".
      if (policy) return { entry: { domain, policy, checkedAt: now }, policy };
      return { entry: { domain, checkedAt: now, absent: true }, policy: undefined };
    case 'error':
      return {
        entry: {
          domain,
          ...keep,
          checkedAt: previous?.checkedAt ?? now,
          failure: { at: now, reason: 'dns-error', retryAt: now + rules.dnsRetryMs },
        },
        policy,
      };
  }
}

export type FetchOutcome = { ok: true; policy: StsPolicy } | { ok: false; reason: string };

export function applyFetchOutcome(
  previous: PolicyCacheEntry,
  id: string,
  outcome: FetchOutcome,
  now: number,
  rules: CacheRules,
): { entry: PolicyCacheEntry; policy: CachedPolicy | undefined } {
  if (outcome.ok) {
    const policy = cachedPolicyFrom(id, outcome.policy, now);
    return { entry: { domain: previous.domain, policy, checkedAt: now }, policy };
  }
  // RFC 8461 §5.1: when the fetch fails, a cached unexpired policy still applies.
  const policy = validPolicy(previous, now);
  return {
    entry: {
      domain: previous.domain,
      ...(policy ? { policy } : {}),
      checkedAt: now,
      failure: { at: now, reason: outcome.reason, retryAt: now + rules.fetchRetryMs },
    },
    policy,
  };
}

/** An entry that no longer changes any answer or rate limit can be dropped. */
export function isEvictable(entry: PolicyCacheEntry, now: number, rules: CacheRules): boolean {
  if (validPolicy(entry, now)) return false;
  if (entry.failure && now < entry.failure.retryAt) return false;
  if (entry.absent && now - entry.checkedAt < rules.negativeTtlMs) return false;
  return true;
}

export interface ProactiveRules {
  intervalMs: number;
  /** postfix-mta-sts-resolver's grace_ratio: skip policies younger than interval / ratio. */
  graceRatio: number;
}

/**
 * RFC 8461 §5.1 advises refreshing cached policies before they expire, so that a domain
 * stays protected between messages. Due: old enough, or it would expire before the next round.
 */
export function proactiveRefreshDue(entry: PolicyCacheEntry, now: number, rules: ProactiveRules): boolean {
  const policy = validPolicy(entry, now);
  if (!policy) return false;
  if (entry.failure && now < entry.failure.retryAt) return false;
  if (policyExpiresAt(policy) - now <= rules.intervalMs) return true;
  return now - policy.fetchedAt >= rules.intervalMs / rules.graceRatio;
}
