// The shared cache: several MTAs (each running this resolver) read and write one Redis, so a
// policy fetched by one protects mail sent by all. Each key expires when its entry would be
// evicted anyway, so Redis does the eviction.
import { Redis, type RedisOptions } from 'ioredis';
import type { PolicyCacheEntry } from '../../core/policy-cache.js';
import type { PolicyCacheStore } from '../../ports.js';
import { decodeEntry, encodeEntry } from './entry-codec.js';

export interface RedisStoreOptions {
  /** redis://[:password@]host:port/db (postfix-mta-sts-resolver's `url`). */
  url?: string;
  options?: RedisOptions;
  /** Key prefix, default "mta-sts-kit:policy:". */
  prefix?: string;
  /** How long an entry is worth keeping (ms from now); Redis expires it after that. */
  ttlMs: (entry: PolicyCacheEntry) => number;
}

export class RedisPolicyStore implements PolicyCacheStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlMs: RedisStoreOptions['ttlMs'];

  constructor(options: RedisStoreOptions) {
    const base: RedisOptions = { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true };
    this.redis = options.url
      ? new Redis(options.url, { ...base, ...options.options })
      : new Redis({ ...base, ...options.options });
    // A Redis outage must not crash the daemon: lookups fall back to the network.
    this.redis.on('error', () => {});
    this.prefix = options.prefix ?? 'mta-sts-kit:policy:';
    this.ttlMs = options.ttlMs;
  }

  async get(domain: string): Promise<PolicyCacheEntry | undefined> {
    const text = await this.redis.get(this.prefix + domain);
    if (text === null) return undefined;
    const entry = decodeEntry(text);
    return entry && entry.domain === domain ? entry : undefined;
  }

  async set(entry: PolicyCacheEntry): Promise<void> {
    const ttl = Math.max(1000, Math.ceil(this.ttlMs(entry)));
    await this.redis.set(this.prefix + entry.domain, encodeEntry(entry), 'PX', ttl);
  }

  async delete(domain: string): Promise<void> {
    await this.redis.del(this.prefix + domain);
  }

  async list(): Promise<PolicyCacheEntry[]> {
    const out: PolicyCacheEntry[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length === 0) continue;
      const values = await this.redis.mget(...keys);
      for (const v of values) {
        const e = v === null ? undefined : decodeEntry(v);
        if (e) out.push(e);
      }
    } while (cursor !== '0');
    return out;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
