// The in-memory cache (postfix-mta-sts-resolver's `internal`): a Map bounded by cache_size,
// dropping the least recently written entry when full.
import type { PolicyCacheEntry } from '../../core/policy-cache.js';
import type { PolicyCacheStore } from '../../ports.js';

export class MemoryPolicyStore implements PolicyCacheStore {
  private readonly entries = new Map<string, PolicyCacheEntry>();
  constructor(private readonly maxEntries = 10_000) {}

  get size(): number {
    return this.entries.size;
  }

  peek(domain: string): PolicyCacheEntry | undefined {
    return this.entries.get(domain);
  }

  async get(domain: string): Promise<PolicyCacheEntry | undefined> {
    return this.entries.get(domain);
  }

  async set(entry: PolicyCacheEntry): Promise<void> {
    this.put(entry);
  }

  /** Synchronous write, for stores that layer on this one. Returns a domain pushed out, if any. */
  put(entry: PolicyCacheEntry): string | undefined {
    this.entries.delete(entry.domain);
    this.entries.set(entry.domain, entry);
    if (this.entries.size <= this.maxEntries) return undefined;
    const oldest = this.entries.keys().next().value as string;
    this.entries.delete(oldest);
    return oldest;
  }

  async delete(domain: string): Promise<void> {
    this.entries.delete(domain);
  }

  async list(): Promise<PolicyCacheEntry[]> {
    return [...this.entries.values()];
  }

  async close(): Promise<void> {}
}
