/**
 * The origin on a real 3-master Redis Cluster (REDIS_URL=redis+cluster://…, started by this file from
 * redis-server processes and removed after): events reach the online features on the cluster (a session's items
 * are not recommended back), a user's history seeded there is used, and the rate limit is one budget in the
 * cluster, shared by two origin instances.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecommendResponseSchema } from '../../shared/contracts/recommend.ts';
import { RedisFeatureStore } from '../../adapters/redis/feature-store.ts';
import { API_KEY, createTestDatabase, postJson, startOrigin, uniqueId, type RunningOrigin } from './support.ts';
import { startRedisCluster, type RedisClusterFixture } from './redis-cluster.ts';

let cluster: RedisClusterFixture;
let database: { url: string; drop: () => Promise<void> };
let origin: RunningOrigin;
const env = (): Record<string, string> => ({ DATABASE_URL: database.url, REDIS_URL: cluster.url, REDIS_KEY_PREFIX: 'origin:', RATE_LIMIT_BURST: '30', RATE_LIMIT_RPS: '0.05', REDIS_COMMAND_TIMEOUT_MS: '1000' });

beforeAll(async () => {
  cluster = await startRedisCluster();
  database = await createTestDatabase();
  origin = await startOrigin(env());
}, 120_000);
afterAll(async () => {
  await origin?.close();
  await database?.drop();
  await cluster?.stop();
});

describe('origin on a Redis Cluster', () => {
  it('stores events in the cluster and serves from them', async () => {
    const sessionId = uniqueId('s');
    const items = ['i200', 'i201', 'i202'];
    const posted = await postJson(`${origin.url}/v1/events`, { events: items.map((itemId) => ({ eventId: uniqueId('e'), type: 'view', itemId, sessionId })) });
    expect(await posted.json()).toEqual({ accepted: 3, duplicates: 0, degraded: [] });
    const answer = RecommendResponseSchema.parse(await (await postJson(`${origin.url}/v1/recommend`, { sessionId, k: 10 })).json());
    expect(answer.degraded).toEqual([]);
    expect(answer.items).toHaveLength(10);
    for (const id of items) expect(answer.items.map((i) => i.id)).not.toContain(id);

    // The same store, read directly: the session list is in the cluster.
    const store = new RedisFeatureStore(cluster.url, { keyPrefix: 'origin:', commandTimeoutMs: 2000 });
    try {
      expect(await store.sessionItems(sessionId)).toEqual(items);
      await store.seedUsers([{ userId: 'cluster-user', history: ['i10', 'i11'], purchased: ['i12'], features: { segment: 'gamers' } }]);
    } finally {
      await store.close();
    }
    const personal = RecommendResponseSchema.parse(await (await postJson(`${origin.url}/v1/recommend`, { userId: 'cluster-user', sessionId: uniqueId('s'), k: 10 }, { 'x-api-key': API_KEY })).json());
    expect(personal.degraded).toEqual([]);
    for (const id of ['i10', 'i11', 'i12']) expect(personal.items.map((i) => i.id)).not.toContain(id);
  });

  it('keeps one rate-limit budget per client in the cluster, shared by a second origin', async () => {
    const replica = await startOrigin(env());
    try {
      // 30 per window; the first test used 2 of this address's (events, anonymous recommend; the API-key call has
      // its own bucket). Alternate between the two origins.
      const statuses: number[] = [];
      for (let n = 0; n < 30; n++) statuses.push((await postJson(`${(n % 2 === 0 ? origin : replica).url}/v1/recommend`, { sessionId: 'rl', k: 1 })).status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(28);
      expect(statuses.slice(28)).toEqual([429, 429]);
    } finally {
      await replica.close();
    }
  });
});
