/**
 * One contract, three adapters: the in-process store, real Redis and a real 3-master Redis Cluster (started by
 * this file from redis-server processes, test/origin/redis-cluster.ts) must behave the same (history rule, caps,
 * purchases, item stats, erase). Redis tests use their own key prefix on the shared server.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_ITEMS_CAP, type FeatureStore } from '../../core/ports/feature-store.ts';
import { USER_HISTORY_CAP } from '../../shared/features/history.ts';
import { MemoryFeatureStore } from '../../adapters/memory/feature-store.ts';
import { RedisFeatureStore } from '../../adapters/redis/feature-store.ts';
import { deleteRedisPrefix } from './support.ts';
import { startRedisCluster, type RedisClusterFixture } from './redis-cluster.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:${randomUUID()}:`;
let cluster: RedisClusterFixture | undefined;
const stores: [string, () => FeatureStore][] = [
  ['memory', () => new MemoryFeatureStore()],
  ['redis', () => new RedisFeatureStore(REDIS_URL, { keyPrefix: `${prefix}${randomUUID()}:`, commandTimeoutMs: 2000 })],
  ['redis-cluster', () => new RedisFeatureStore(cluster!.url, { keyPrefix: `${prefix}${randomUUID()}:`, commandTimeoutMs: 2000 })],
];
const opened: FeatureStore[] = [];
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await deleteRedisPrefix(prefix);
  await cluster?.stop();
});

describe.each(stores)('%s feature store', (_name, make) => {
  const open = (): FeatureStore => {
    const store = make();
    opened.push(store);
    return store;
  };

  it('answers ping (the test fails when the service is down)', async () => {
    expect(await open().ping()).toBe(true);
  });

  it('keeps positive interactions in order and collapses an immediate repeat', async () => {
    const store = open();
    const base = { userId: 'u1', sessionId: 's1', ts: 1 };
    for (const [itemId, type] of [['i1', 'view'], ['i1', 'add_to_cart'], ['i2', 'impression'], ['i2', 'click'], ['i2', 'view'], ['i1', 'view']] as const) {
      await store.record({ ...base, itemId, type });
    }
    expect(await store.sessionItems('s1')).toEqual(['i1', 'i2', 'i1']);
    expect(await store.userHistory('u1')).toEqual(['i1', 'i2', 'i1']);
    expect(await store.sessionItems('unknown')).toEqual([]);
  });

  it('caps session and history lists, keeping the newest', async () => {
    const store = open();
    const events = Array.from({ length: USER_HISTORY_CAP + 5 }, (_, n) => ({ userId: 'u2', sessionId: 's2', itemId: `i${n}`, type: 'view' as const, ts: n }));
    await store.recordMany(events);
    const session = await store.sessionItems('s2');
    const history = await store.userHistory('u2');
    expect(session).toHaveLength(SESSION_ITEMS_CAP);
    expect(session.at(-1)).toBe(`i${USER_HISTORY_CAP + 4}`);
    expect(history).toHaveLength(USER_HISTORY_CAP);
    expect(history[0]).toBe('i5');
  });

  it('tracks purchases, item stats and user features, and erases a user', async () => {
    const store = open();
    await store.recordMany([
      { userId: 'u3', sessionId: 's3', itemId: 'i9', type: 'purchase', ts: 1 },
      { sessionId: 's3', itemId: 'i9', type: 'impression', ts: 2 },
      { sessionId: 's3', itemId: 'i9', type: 'impression', ts: 3 },
      { sessionId: 's3', itemId: 'i9', type: 'click', ts: 4 },
    ]);
    await store.setUserFeatures('u3', { segment: 'gamers' });
    expect(await store.purchased('u3')).toEqual(['i9']);
    expect((await store.itemStats(['i9', 'i10'])).get('i9')).toEqual({ impressions: 2, clicks: 1 });
    expect((await store.itemStats(['i10'])).get('i10')).toEqual({ impressions: 0, clicks: 0 });
    expect(await store.userFeatures('u3')).toEqual({ segment: 'gamers' });
    await store.eraseUser('u3');
    expect(await store.userHistory('u3')).toEqual([]);
    expect(await store.purchased('u3')).toEqual([]);
    expect(await store.userFeatures('u3')).toEqual({});
  });
});

describe('redis-cluster feature store at scale', () => {
  it('spreads a batch over all three masters, keeps each user in one slot, and reads back every event', async () => {
    const keyPrefix = `${prefix}${randomUUID()}:`;
    const store = new RedisFeatureStore(cluster!.url, { keyPrefix, commandTimeoutMs: 2000 });
    opened.push(store);
    const users = Array.from({ length: 300 }, (_, u) => `u${u}`);
    // One batch across 300 users, sessions and items: the pipeline is split per node.
    await store.recordMany(users.flatMap((userId, u) => [
      { userId, sessionId: `s${u}`, itemId: `i${u}`, type: 'view' as const, ts: 1 },
      { userId, sessionId: `s${u}`, itemId: `i${u + 1}`, type: 'purchase' as const, ts: 2 },
      { userId, sessionId: `s${u}`, itemId: `i${u}`, type: 'impression' as const, ts: 3 },
    ]));
    await store.seedUsers(users.slice(0, 100).map((userId) => ({ userId, history: ['i1', 'i2'], purchased: ['i3'], features: { segment: 'gamers' } })));
    expect(await store.userHistory('u5')).toEqual(['i1', 'i2']);
    expect(await store.userHistory('u150')).toEqual(['i150', 'i151']);
    expect(await store.purchased('u150')).toEqual(['i151']);
    expect(await store.sessionItems('s150')).toEqual(['i150', 'i151']);
    expect(await store.userFeatures('u5')).toEqual({ segment: 'gamers' });
    const stats = await store.itemStats(users.map((_, u) => `i${u}`));
    expect([...stats.values()].every((s) => s.impressions === 1)).toBe(true);

    // Every master holds some of it; a user's keys share one slot (the hash tag), so erasure is one DEL.
    const { Redis } = await import('ioredis');
    const sizes: number[] = [];
    for (const port of cluster!.ports) {
      const node = new Redis(port, '127.0.0.1');
      let keys = 0;
      for await (const batch of node.scanStream({ match: `${keyPrefix}*`, count: 1000 })) keys += (batch as string[]).length;
      sizes.push(keys);
      node.disconnect();
    }
    expect(sizes.every((n) => n > 0)).toBe(true);
    await store.eraseUser('u5');
    expect(await store.userHistory('u5')).toEqual([]);
    expect(await store.purchased('u5')).toEqual([]);
    expect(await store.userFeatures('u5')).toEqual({});
  });
});
