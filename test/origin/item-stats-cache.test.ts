/**
 * The item-stats cache in front of a real Redis feature store: repeated ids are answered without Redis until
 * their TTL runs out (so a click reaches exploration's priors at most ttlMs late), only the misses of a call are
 * read, the LRU bound holds, a failing read caches nothing and fails the call as before, and ttlMs 0 reads Redis
 * every time.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedItemStats } from '../../adapters/memory/item-stats-cache.ts';
import { RedisFeatureStore } from '../../adapters/redis/feature-store.ts';
import { REDIS_URL, deleteRedisPrefix } from './support.ts';

const prefix = `test:${randomUUID()}:`;
const store = new RedisFeatureStore(REDIS_URL, { keyPrefix: prefix, commandTimeoutMs: 2000 });
afterAll(async () => {
  await store.close();
  await deleteRedisPrefix(prefix);
});

/** The real store's itemStats, with each call's ids written down. */
function readsOf(): { calls: string[][]; source: (ids: readonly string[]) => ReturnType<RedisFeatureStore['itemStats']> } {
  const calls: string[][] = [];
  return { calls, source: (ids) => (calls.push([...ids]), store.itemStats(ids)) };
}

const click = (itemId: string): Promise<void> => store.record({ userId: 'u', sessionId: 's', itemId, type: 'click', ts: Date.now() });

describe('cachedItemStats over Redis', () => {
  it('answers repeated ids from the cache until their TTL runs out, then reads the new counts', async () => {
    const { calls, source } = readsOf();
    const lookups: [number, number][] = [];
    const read = cachedItemStats(source, { ttlMs: 300, maxItems: 100 }, (hits, misses) => lookups.push([hits, misses]));
    await click('a');
    expect((await read(['a', 'b'])).get('a')).toEqual({ impressions: 0, clicks: 1 });
    await click('a');
    // Within the TTL: the cached count, and only the new id goes to Redis.
    const cached = await read(['a', 'b', 'c']);
    expect(cached.get('a')).toEqual({ impressions: 0, clicks: 1 });
    expect(cached.get('c')).toEqual({ impressions: 0, clicks: 0 });
    expect(calls).toEqual([['a', 'b'], ['c']]);
    expect(lookups).toEqual([[0, 2], [2, 1]]);
    await sleep(350);
    expect((await read(['a'])).get('a')).toEqual({ impressions: 0, clicks: 2 });
    expect(calls.at(-1)).toEqual(['a']);
  });

  it('keeps at most maxItems ids (least recently used out first)', async () => {
    const { calls, source } = readsOf();
    const read = cachedItemStats(source, { ttlMs: 60_000, maxItems: 2 });
    await read(['x', 'y']);
    await read(['z']); // evicts x
    await read(['y', 'x']);
    expect(calls).toEqual([['x', 'y'], ['z'], ['x']]);
  });

  it('fails the call when Redis fails and caches nothing from it', async () => {
    const down = new RedisFeatureStore('redis://127.0.0.1:1', { keyPrefix: prefix, commandTimeoutMs: 200 });
    let failing = true;
    const calls: string[][] = [];
    const read = cachedItemStats((ids) => (calls.push([...ids]), (failing ? down : store).itemStats(ids)), { ttlMs: 60_000, maxItems: 100 });
    try {
      await expect(read(['f1', 'f2'])).rejects.toThrow();
      failing = false;
      await click('f1');
      expect((await read(['f1', 'f2'])).get('f1')).toEqual({ impressions: 0, clicks: 1 });
      expect(calls).toEqual([['f1', 'f2'], ['f1', 'f2']]);
    } finally {
      await down.close();
    }
  });

  it('reads Redis on every call when ttlMs is 0', async () => {
    const { calls, source } = readsOf();
    const lookups: [number, number][] = [];
    const read = cachedItemStats(source, { ttlMs: 0, maxItems: 100 }, (hits, misses) => lookups.push([hits, misses]));
    await read(['p']);
    await click('p');
    expect((await read(['p'])).get('p')).toEqual({ impressions: 0, clicks: 1 });
    expect(calls).toEqual([['p'], ['p']]);
    expect(lookups).toEqual([[0, 1], [0, 1]]);
  });
});
