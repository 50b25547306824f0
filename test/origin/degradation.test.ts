/**
 * Redis stopped → recommend still answers, without session features, flagged 'redis-unavailable' in the
 * response and in metrics, without hanging; events are still stored in Postgres and flagged. Uses a private
 * redis-server on a random port that the test kills (never the shared 6379). Also the 429 rate limit.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecommendResponseSchema } from '../../shared/contracts/recommend.ts';
import { API_KEY, REDIS_URL, createTestDatabase, deleteRedisPrefix, postJson, startOrigin, uniqueId, type RunningOrigin } from './support.ts';
import { freePort } from '../nightly/helpers.ts';
import { startRedis } from '../resilience/support.ts';

let database: { url: string; drop: () => Promise<void> };
let redis: ChildProcess | undefined;
let origin: RunningOrigin;

beforeAll(async () => {
  database = await createTestDatabase();
  const port = await freePort();
  redis = await startRedis(port);
  origin = await startOrigin({ DATABASE_URL: database.url, REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_COMMAND_TIMEOUT_MS: '150' });
});
afterAll(async () => {
  redis?.kill('SIGKILL');
  await origin?.close();
  await database?.drop();
});

describe('Redis stopped', () => {
  it('serves without session features, flagged in the response and metrics, and keeps storing events', async () => {
    const userId = uniqueId('u');
    const sessionId = uniqueId('s');
    await postJson(`${origin.url}/v1/events`, { events: ['i200', 'i201'].map((itemId) => ({ eventId: uniqueId('e'), type: 'view', itemId, userId, sessionId })) }, { 'x-api-key': API_KEY });
    const healthy = RecommendResponseSchema.parse(await (await postJson(`${origin.url}/v1/recommend`, { userId, sessionId, k: 5 })).json());
    expect(healthy.degraded).not.toContain('redis-unavailable');
    expect(healthy.items.map((i) => i.id)).not.toContain('i201'); // session items known → not recommended back

    const stopped = new Promise((resolve) => redis!.once('exit', resolve));
    redis!.kill('SIGKILL');
    await stopped;

    const started = performance.now();
    const response = await postJson(`${origin.url}/v1/recommend`, { userId, sessionId, k: 5 });
    const elapsed = performance.now() - started;
    expect(response.status).toBe(200);
    const degraded = RecommendResponseSchema.parse(await response.json());
    expect(degraded.degraded).toContain('redis-unavailable');
    expect(degraded.items).toHaveLength(5);
    expect(elapsed).toBeLessThan(5_000); // bounded by the command timeout, not a hang (generous for a loaded CI box)

    const events = await postJson(`${origin.url}/v1/events`, { events: [{ eventId: uniqueId('e'), type: 'view', itemId: 'i300', userId, sessionId }] }, { 'x-api-key': API_KEY });
    expect(events.status).toBe(200);
    expect(await events.json()).toEqual({ accepted: 1, duplicates: 0, degraded: ['redis-unavailable'] });

    const metrics = await (await fetch(`${origin.url}/metrics`)).text();
    expect(metrics).toMatch(/origin_fallbacks_total\{reason="redis-unavailable"\} [1-9]/);
    expect(metrics).toMatch(/origin_feature_lookups_total\{result="error"\} [1-9]/);
    const ready = await (await fetch(`${origin.url}/readyz`)).json();
    expect(ready).toMatchObject({ ready: true, featureStore: 'down', database: 'up' });
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After once a client exhausts its bucket, per key and per IP', async () => {
    const limitedEnv = { REDIS_URL, REDIS_KEY_PREFIX: `test:${uniqueId('rl')}:`, RATE_LIMIT_BURST: '5', RATE_LIMIT_RPS: '0.01', SEED_CATALOG: 'false' };
    const limited = await startOrigin(limitedEnv);
    try {
      const statuses: number[] = [];
      for (let n = 0; n < 8; n++) statuses.push((await postJson(`${limited.url}/v1/recommend`, { sessionId: 's1', k: 1 })).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      const refused = await postJson(`${limited.url}/v1/recommend`, { sessionId: 's1', k: 1 });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // A client with its own API key has its own bucket.
      expect((await postJson(`${limited.url}/v1/recommend`, { sessionId: 's1', k: 1 }, { 'x-api-key': 'another-client-key-000' })).status).toBe(200);
      expect(await (await fetch(`${limited.url}/metrics`)).text()).toMatch(/origin_rate_limited_total\{kind="ip"\} [1-9]/);
      // A second replica on the same Redis prefix shares the buckets: this IP is already out of tokens there.
      const replica = await startOrigin({ ...limitedEnv, SEED_CATALOG: 'false' });
      try {
        expect((await postJson(`${replica.url}/v1/recommend`, { sessionId: 's1', k: 1 })).status).toBe(429);
      } finally {
        await replica.close();
      }
    } finally {
      await limited.close();
      await deleteRedisPrefix(limitedEnv.REDIS_KEY_PREFIX);
    }
  });
});
