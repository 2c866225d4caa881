// The cache stores behind the daemon: SQLite keeps every policy across a restart, Redis is
// shared by several resolvers (real redis-server, Debian package `redis-server`).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CACHE_RULES, type PolicyCacheEntry } from '../src/core/policy-cache.js';
import type { DnsResolver, PolicyFetcher } from '../src/ports.js';
import { PolicyResolver } from '../src/resolver/policy-resolver.js';
import { RedisPolicyStore } from '../src/resolver/stores/redis.js';
import { SqlitePolicyStore } from '../src/resolver/stores/sqlite.js';
import { requirePrograms } from './helpers/postfix.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

const T0 = 1_700_000_000_000;
const entry: PolicyCacheEntry = {
  domain: 'example.com',
  policy: {
    id: 'abc',
    mode: 'enforce',
    mx: ['mail.example.com', '*.example.net'],
    maxAge: 86400,
    fetchedAt: T0,
  },
  checkedAt: T0,
};

/** A network that must not be used: the answer has to come from the cache. */
const noNetwork = () => ({
  dns: new Proxy({}, { get: () => () => Promise.reject(new Error('network used')) }) as DnsResolver,
  fetcher: { fetchPolicy: () => Promise.reject(new Error('network used')) } as PolicyFetcher,
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'resolver-cache-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SQLite store', () => {
  it('keeps every entry across a restart, and skips damaged rows', async () => {
    const file = join(dir, 'cache.sqlite');
    const a = new SqlitePolicyStore({ filename: file });
    await a.set(entry);
    await a.set({ domain: 'none.example', checkedAt: T0, absent: true });
    await a.close();
    const b = new SqlitePolicyStore({ filename: file });
    expect(b.peek('example.com')).toEqual(entry);
    expect((await b.list()).map((e) => e.domain).sort()).toEqual(['example.com', 'none.example']);
    const resolver = new PolicyResolver({
      network: noNetwork,
      store: b,
      clock: { now: () => new Date(T0 + 1000) },
    });
    expect((await resolver.resolve('example.com')).policy?.id).toBe('abc');
    await b.delete('none.example');
    await b.close();
    const db = new Database(file);
    db.prepare('INSERT INTO mta_sts_policy_cache (domain, entry, updated_at) VALUES (?, ?, 0)').run(
      'bad.example',
      '{not json',
    );
    db.close();
    const c = new SqlitePolicyStore({ filename: file });
    expect(await c.get('none.example')).toBeUndefined();
    expect(await c.get('bad.example')).toBeUndefined();
    expect(c.skippedRows).toBe(1);
    await c.close();
  });
});

const haveRedis = requirePrograms(['redis-server']);
describe.skipIf(!haveRedis)('Redis store', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('two resolvers share one cache', async () => {
    const ttlMs = () => 60_000;
    const one = new RedisPolicyStore({ url: redis.url, ttlMs });
    const two = new RedisPolicyStore({ url: redis.url, ttlMs });
    await one.set(entry);
    const resolver = new PolicyResolver({
      network: noNetwork,
      store: two,
      clock: { now: () => new Date(T0 + 1000) },
    });
    const res = await resolver.resolve('example.com');
    expect(res.source).toBe('cache');
    expect(res.policy).toEqual(entry.policy);
    expect((await two.list()).map((e) => e.domain)).toContain('example.com');
    await two.delete('example.com');
    expect(await one.get('example.com')).toBeUndefined();
    await one.close();
    await two.close();
  });

  it('entries expire in Redis when they would be evicted anyway', async () => {
    const store = new RedisPolicyStore({ url: redis.url, ttlMs: () => 1000, prefix: 'ttl-test:' });
    await store.set({ ...entry, domain: 'short.example' });
    const { Redis } = await import('ioredis');
    const raw = new Redis(redis.url);
    const pttl = await raw.pttl('ttl-test:short.example');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1000);
    // A foreign or damaged value is ignored, never trusted.
    await raw.set('ttl-test:evil.example', '{"domain":"evil.example","policy":{"mode":"enforce"}}');
    expect(await store.get('evil.example')).toBeUndefined();
    raw.disconnect();
    await store.close();
  });

  it('a resolver with the Redis cache falls back to the rules when Redis is down', async () => {
    const store = new RedisPolicyStore({ url: 'redis://127.0.0.1:1/0', ttlMs: () => 1000 });
    const resolver = new PolicyResolver({
      network: () => ({
        dns: {
          txt: async () => ({ status: 'nxdomain', cnameChain: [] }),
        } as unknown as DnsResolver,
        fetcher: { fetchPolicy: () => Promise.reject(new Error('unused')) } as PolicyFetcher,
      }),
      store,
      clock: { now: () => new Date(T0) },
      rules: DEFAULT_CACHE_RULES,
    });
    const res = await resolver.resolve('nothing.example');
    expect(res.policy).toBeUndefined();
    await store.close();
  });
});
