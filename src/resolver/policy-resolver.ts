// The sender's side of RFC 8461: discover a domain's policy (TXT record, HTTPS fetch), cache
// it by the rules in core/policy-cache.ts, and say which policy applies now. One lookup per
// domain is in flight at a time; concurrent lookups for the same domain share it.
import {
  applyFetchOutcome,
  type CachedPolicy,
  type CacheRules,
  DEFAULT_CACHE_RULES,
  type FetchOutcome,
  isEvictable,
  type PolicyCacheEntry,
  type ProactiveRules,
  planAfterRecord,
  planLookup,
  policyExpiresAt,
  proactiveRefreshDue,
  type RecordOutcome,
} from '../core/policy-cache.js';
import { judgePolicyFetch } from '../core/policy-fetch-verdict.js';
import { parseStsPolicy } from '../core/sts-policy.js';
import { parseStsRecords } from '../core/sts-record.js';
import type { Clock, DnsResolver, PolicyCacheStore, PolicyFetcher } from '../ports.js';

export interface ResolverNetwork {
  dns: DnsResolver;
  fetcher: PolicyFetcher;
}

export type ResolutionSource = 'cache' | 'negative-cache' | 'backoff' | 'network';

export interface Resolution {
  domain: string;
  policy: CachedPolicy | undefined;
  source: ResolutionSource;
  /** What went wrong on the way, when something did (the cached policy may still apply). */
  failure?: string;
}

export interface ResolverEvents {
  cacheHit?(kind: 'fresh' | 'negative' | 'backoff'): void;
  dnsQuery?(outcome: RecordOutcome['status']): void;
  fetch?(outcome: 'ok' | string): void;
  storeError?(err: unknown): void;
}

export interface PolicyResolverOptions {
  /** The network for a lookup with this time limit (seconds); per zone in the config. */
  network: (timeoutSec: number) => ResolverNetwork;
  store: PolicyCacheStore;
  clock: Clock;
  rules?: CacheRules;
  events?: ResolverEvents;
}

export class PolicyResolver {
  private readonly inflight = new Map<string, Promise<Resolution>>();
  readonly rules: CacheRules;

  constructor(private readonly options: PolicyResolverOptions) {
    this.rules = options.rules ?? DEFAULT_CACHE_RULES;
  }

  /** The answer the cache can give right now without I/O, or undefined when it cannot. */
  peek(domain: string): Resolution | undefined {
    const entry = this.options.store.peek?.(domain);
    if (!entry) return undefined;
    const plan = planLookup(entry, this.options.clock.now().getTime(), this.rules);
    if (plan.action !== 'answer') return undefined;
    this.options.events?.cacheHit?.(plan.reason);
    return this.fromPlan(domain, plan.policy, plan.reason);
  }

  resolve(domain: string, timeoutSec = 4): Promise<Resolution> {
    const running = this.inflight.get(domain);
    if (running) return running;
    const work = this.lookup(domain, timeoutSec, false).finally(() => this.inflight.delete(domain));
    this.inflight.set(domain, work);
    return work;
  }

  /** Proactive refresh (RFC 8461 §5.1): re-check DNS and fetch the policy again. */
  refresh(domain: string, timeoutSec = 4): Promise<Resolution> {
    const running = this.inflight.get(domain);
    if (running) return running;
    const work = this.lookup(domain, timeoutSec, true).finally(() => this.inflight.delete(domain));
    this.inflight.set(domain, work);
    return work;
  }

  private fromPlan(
    domain: string,
    policy: CachedPolicy | undefined,
    reason: 'fresh' | 'negative' | 'backoff',
  ): Resolution {
    const source: ResolutionSource =
      reason === 'fresh' ? 'cache' : reason === 'negative' ? 'negative-cache' : 'backoff';
    return { domain, policy, source };
  }

  private async readEntry(domain: string): Promise<PolicyCacheEntry | undefined> {
    try {
      return await this.options.store.get(domain);
    } catch (err) {
      this.options.events?.storeError?.(err);
      return undefined;
    }
  }

  private async writeEntry(entry: PolicyCacheEntry): Promise<void> {
    try {
      await this.options.store.set(entry);
    } catch (err) {
      this.options.events?.storeError?.(err);
    }
  }

  private async lookup(domain: string, timeoutSec: number, force: boolean): Promise<Resolution> {
    const { clock, events } = this.options;
    const previous = await this.readEntry(domain);
    if (!force) {
      const plan = planLookup(previous, clock.now().getTime(), this.rules);
      if (plan.action === 'answer') {
        events?.cacheHit?.(plan.reason);
        return this.fromPlan(domain, plan.policy, plan.reason);
      }
    }
    // One time limit for the whole lookup (Postfix is waiting): the fetch gets what DNS left.
    const started = Date.now();
    const net = this.options.network(timeoutSec);
    const record = await discoverRecord(net.dns, domain);
    events?.dnsQuery?.(record.status);
    const decision = planAfterRecord(previous, domain, record, clock.now().getTime(), this.rules, {
      forceFetch: force,
    });
    if (decision.fetchId === undefined) {
      await this.writeEntry(decision.entry);
      return {
        domain,
        policy: decision.policy,
        source: 'network',
        ...(record.status === 'error' ? { failure: `dns: ${record.detail}` } : {}),
      };
    }
    const remainingSec = Math.max(0.5, timeoutSec - (Date.now() - started) / 1000);
    const outcome = await fetchAndParse(net.fetcher, domain, remainingSec, clock);
    events?.fetch?.(outcome.ok ? 'ok' : outcome.reason);
    const applied = applyFetchOutcome(
      decision.entry,
      decision.fetchId,
      outcome,
      clock.now().getTime(),
      this.rules,
    );
    await this.writeEntry(applied.entry);
    return {
      domain,
      policy: applied.policy,
      source: 'network',
      ...(outcome.ok ? {} : { failure: outcome.detail }),
    };
  }

  /** Drop entries that no longer change any answer. Returns how many went. */
  async evictExpired(): Promise<number> {
    const now = this.options.clock.now().getTime();
    let n = 0;
    for (const entry of await this.options.store.list()) {
      if (!isEvictable(entry, now, this.rules)) continue;
      await this.options.store.delete(entry.domain);
      n++;
    }
    return n;
  }

  /** Refresh every cached policy that is due, at most `concurrency` at a time. */
  async refreshDue(rules: ProactiveRules, concurrency: number, timeoutSec = 4): Promise<number> {
    const now = this.options.clock.now().getTime();
    const due = (await this.options.store.list())
      .filter((e) => proactiveRefreshDue(e, now, rules))
      .sort((a, b) => policyExpiresAt(a.policy!) - policyExpiresAt(b.policy!));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length) {
        const entry = due[next++]!;
        await this.refresh(entry.domain, timeoutSec).catch(() => undefined);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, due.length)) }, worker));
    return due.length;
  }
}

/** RFC 8461 §3.1: the _mta-sts TXT record; exactly one v=STSv1 record, else no policy. */
export async function discoverRecord(dns: DnsResolver, domain: string): Promise<RecordOutcome> {
  const answer = await dns.txt(`_mta-sts.${domain}`);
  if (answer.status === 'error') return { status: 'error', detail: `${answer.error}: ${answer.detail}` };
  if (answer.status !== 'ok') return { status: 'absent', detail: answer.status };
  const parsed = parseStsRecords(answer.records);
  if (!parsed.ok) return { status: 'absent', detail: parsed.findings[0]?.code ?? 'sts-record.invalid' };
  return { status: 'found', id: parsed.value.id };
}

export type DetailedFetchOutcome =
  | (FetchOutcome & { ok: true })
  | { ok: false; reason: string; detail: string };

/** RFC 8461 §3.3 fetch, judged as a sender must, then read leniently (design.md §4). */
export async function fetchAndParse(
  fetcher: PolicyFetcher,
  domain: string,
  timeoutSec: number,
  clock: Clock,
): Promise<DetailedFetchOutcome> {
  let result: Awaited<ReturnType<PolicyFetcher['fetchPolicy']>>;
  try {
    result = await fetcher.fetchPolicy(domain, { signal: AbortSignal.timeout(timeoutSec * 1000) });
  } catch (err) {
    return { ok: false, reason: 'network', detail: (err as Error).message };
  }
  const verdict = judgePolicyFetch(result, domain, clock.now());
  if (!verdict.ok) return { ok: false, reason: verdict.reason, detail: verdict.detail };
  const parsed = parseStsPolicy(verdict.body, { lenient: true });
  if (!parsed.ok) {
    const first = parsed.findings.find((f) => f.severity === 'error');
    return {
      ok: false,
      reason: 'policy-invalid',
      detail: first ? `${first.code}: ${first.message}` : 'invalid',
    };
  }
  return { ok: true, policy: parsed.value };
}
