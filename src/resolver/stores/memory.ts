// The in-memory cache (postfix-mta-sts-resolver's `internal`), bounded by cache_size. When full
// it drops the least recently written entry that holds no policy ("no policy" answers, failures)
// before any entry that does: a burst of lookups for domains without MTA-STS must not push out
// the policies that protect mail (a first-contact downgrade window, RFC 8461 §10.2).
import type { PolicyCacheEntry } from '../../core/policy-cache.js';
import type { PolicyCacheStore } from '../../ports.js';

export class MemoryPolicyStore implements PolicyCacheStore {
  private readonly withPolicy = new Map<string, PolicyCacheEntry>();
  private readonly withoutPolicy = new Map<string, PolicyCacheEntry>();
  constructor(private readonly maxEntries = 10_000) {}

  get size(): number {
    return this.withPolicy.size + this.withoutPolicy.size;
  }

  peek(domain: string): PolicyCacheEntry | undefined {
    return this.withPolicy.get(domain) ?? this.withoutPolicy.get(domain);
  }

  async get(domain: string): Promise<PolicyCacheEntry | undefined> {
    return this.peek(domain);
  }

  async set(entry: PolicyCacheEntry): Promise<void> {
    this.put(entry);
  }

  /** Synchronous write, for stores that layer on this one. Returns a domain pushed out, if any. */
  put(entry: PolicyCacheEntry): string | undefined {
    this.withPolicy.delete(entry.domain);
    this.withoutPolicy.delete(entry.domain);
    (entry.policy ? this.withPolicy : this.withoutPolicy).set(entry.domain, entry);
    if (this.size <= this.maxEntries) return undefined;
    const from = this.withoutPolicy.size > 0 ? this.withoutPolicy : this.withPolicy;
    const oldest = from.keys().next().value as string;
    from.delete(oldest);
    return oldest;
  }

  async delete(domain: string): Promise<void> {
    this.withPolicy.delete(domain);
    this.withoutPolicy.delete(domain);
  }

  async list(): Promise<PolicyCacheEntry[]> {
    return [...this.withPolicy.values(), ...this.withoutPolicy.values()];
  }

  async close(): Promise<void> {}
}
