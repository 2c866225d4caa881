import { describe, expect, it } from 'vitest';
import type { PolicyCacheEntry } from '../../core/policy-cache.js';
import { MemoryPolicyStore } from './memory.js';

const withPolicy = (domain: string): PolicyCacheEntry => ({
  domain,
  checkedAt: 0,
  policy: { id: 'a1', mode: 'enforce', mx: [`mx.${domain}`], maxAge: 86400, fetchedAt: 0 },
});
const absent = (domain: string): PolicyCacheEntry => ({ domain, checkedAt: 0, absent: true });

describe('MemoryPolicyStore', () => {
  it('when full, drops "no policy" entries before any policy', async () => {
    const store = new MemoryPolicyStore(3);
    store.put(withPolicy('a.test'));
    store.put(withPolicy('b.test'));
    for (let i = 0; i < 50; i++) store.put(absent(`n${i}.test`));
    expect(store.size).toBe(3);
    expect(store.peek('a.test')?.policy).toBeDefined();
    expect(store.peek('b.test')?.policy).toBeDefined();
    expect(store.peek('n49.test')?.absent).toBe(true);
    expect(store.peek('n0.test')).toBeUndefined();
  });

  it('drops the oldest policy when only policies are left, and moves entries between kinds', async () => {
    const store = new MemoryPolicyStore(2);
    store.put(withPolicy('a.test'));
    store.put(withPolicy('b.test'));
    expect(store.put(withPolicy('c.test'))).toBe('a.test');
    store.put(absent('b.test'));
    expect(store.size).toBe(2);
    expect(store.peek('b.test')?.absent).toBe(true);
    await store.delete('c.test');
    expect(await store.list()).toHaveLength(1);
  });
});
