// One fresh lookup, as `mta-sts resolver query` shows it (like postfix-mta-sts-resolver's
// mta-sts-query): the record, the policy, why it failed if it did, and the exact reply
// Postfix would get. No cache is read or written.
import { type CachedPolicy, cachedPolicyFrom } from '../core/policy-cache.js';
import { formatPolicyReply, NOTFOUND_REPLY, socketmapKeyToDomain } from '../core/socketmap.js';
import type { Clock } from '../ports.js';
import type { ZoneConfig } from './config.js';
import { discoverRecord, fetchAndParse, type ResolverNetwork } from './policy-resolver.js';

export interface PolicyQueryResult {
  domain: string;
  /** found: an id; absent: no MTA-STS; error: DNS could not tell. */
  record: { status: 'found'; id: string } | { status: 'absent' | 'error'; detail: string };
  policy?: Omit<CachedPolicy, 'fetchedAt'>;
  /** Why the policy could not be fetched or read. */
  fetchFailure?: { reason: string; detail: string };
  /** The socketmap reply text (before netstring framing). */
  reply: string;
}

export async function queryPolicy(
  key: string,
  net: ResolverNetwork,
  zone: ZoneConfig,
  clock: Clock,
): Promise<PolicyQueryResult | undefined> {
  const domain = socketmapKeyToDomain(key);
  if (!domain) return undefined;
  const record = await discoverRecord(net.dns, domain);
  if (record.status !== 'found') return { domain, record, reply: NOTFOUND_REPLY };
  const outcome = await fetchAndParse(net.fetcher, domain, zone.timeout, clock);
  if (!outcome.ok)
    return {
      domain,
      record,
      fetchFailure: { reason: outcome.reason, detail: outcome.detail },
      reply: NOTFOUND_REPLY,
    };
  const { fetchedAt: _, ...policy } = cachedPolicyFrom(record.id, outcome.policy, clock.now().getTime());
  return { domain, record, policy, reply: formatPolicyReply(domain, policy, zone) };
}
