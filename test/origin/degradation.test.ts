/**
 * Redis stopped → recommend still answers, without session features, flagged 'redis-unavailable' in the
 * response and in metrics, without hanging; events are still stored in Postgres and flagged. Uses a private
 * redis-server on a random port that the test kills (never the shared 6379). Also the 429 rate limit:
 * buckets per accepted API key or per client address (invented keys share the address's), the Redis-shared budget,
 * and the in-process insurance limiter while Redis is down.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecommendResponseSchema } from '../../shared/contracts/recommend.ts';
import { Redis } from 'ioredis';
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
  it('answers 429 with Retry-After once a client exhausts its bucket; an accepted API key has its own bucket, an unknown one does not', async () => {
    const limitedEnv = { REDIS_URL, REDIS_KEY_PREFIX: `test:${uniqueId('rl')}:`, RATE_LIMIT_BURST: '5', RATE_LIMIT_RPS: '0.01', SEED_CATALOG: 'false' };
    const limited = await startOrigin(limitedEnv);
    try {
      const statuses: number[] = [];
      for (let n = 0; n < 8; n++) statuses.push((await postJson(`${limited.url}/v1/recommend`, { sessionId: 's1', k: 1 })).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      const refused = await postJson(`${limited.url}/v1/recommend`, { sessionId: 's1', k: 1 });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // An authenticated client (a key in API_KEYS) has its own bucket ...
      expect((await postJson(`${limited.url}/v1/recommend`, { sessionId: 's1', k: 1 }, { 'x-api-key': API_KEY })).status).toBe(200);
      // ... a key that is not accepted is just this address: still out of tokens.
      expect((await postJson(`${limited.url}/v1/recommend`, { sessionId: 's1', k: 1 }, { 'x-api-key': 'another-client-key-000' })).status).toBe(429);
      expect((await postJson(`${limited.url}/v1/recommend`, { sessionId: 's1', k: 1 }, { authorization: 'Bearer another-client-key-001' })).status).toBe(429);
      const metrics = await (await fetch(`${limited.url}/metrics`)).text();
      expect(metrics).toMatch(/origin_rate_limited_total\{kind="ip"\} [1-9]/);
      expect(metrics).not.toMatch(/origin_rate_limited_total\{kind="api-key"\}/);
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

  it('300 requests with 300 invented API keys share one address bucket: all but the burst get 429', async () => {
    const env = { REDIS_URL, REDIS_KEY_PREFIX: `test:${uniqueId('rl')}:`, RATE_LIMIT_BURST: '10', RATE_LIMIT_RPS: '0.01', SEED_CATALOG: 'false' };
    const limited = await startOrigin(env);
    try {
      const counts = new Map<number, number>();
      for (let i = 0; i < 300; i++) {
        const status = (await postJson(`${limited.url}/v1/recommend`, { sessionId: 's1', k: 1 }, { 'x-api-key': `garbage-${i}` })).status;
        counts.set(status, (counts.get(status) ?? 0) + 1);
      }
      expect(Object.fromEntries(counts)).toEqual({ 200: 10, 429: 290 });
      // Limits are kept per address, not per key: no bucket was made for any invented key.
      const redis = new Redis(REDIS_URL);
      try {
        const keys: string[] = [];
        for await (const batch of redis.scanStream({ match: `${env.REDIS_KEY_PREFIX}rl:*`, count: 1000 })) keys.push(...(batch as string[]));
        expect(keys.map((k) => k.slice(env.REDIS_KEY_PREFIX.length))).toEqual(['rl:ip:127.0.0.1']);
      } finally {
        redis.disconnect();
      }
    } finally {
      await limited.close();
      await deleteRedisPrefix(env.REDIS_KEY_PREFIX);
    }
  });

  it('keeps limiting from the in-process insurance limiter while its Redis is down', async () => {
    const port = await freePort();
    const ownRedis = await startRedis(port);
    const limited = await startOrigin({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_COMMAND_TIMEOUT_MS: '150', RATE_LIMIT_BURST: '4', RATE_LIMIT_RPS: '0.01', SEED_CATALOG: 'false' });
    try {
      const before: number[] = [];
      for (let n = 0; n < 6; n++) before.push((await postJson(`${limited.url}/v1/recommend`, { sessionId: 's1', k: 1 })).status);
      expect(before).toEqual([200, 200, 200, 200, 429, 429]);
      const stopped = new Promise((resolve) => ownRedis.once('exit', resolve));
      ownRedis.kill('SIGKILL');
      await stopped;
      // The insurance limiter starts with this process's own window: the burst again, then 429 — never unlimited, never a 5xx.
      const during: number[] = [];
      for (let n = 0; n < 7; n++) during.push((await postJson(`${limited.url}/v1/recommend`, { sessionId: 's1', k: 1 }, { 'x-api-key': `garbage-${n}` })).status);
      expect(during).toEqual([200, 200, 200, 200, 429, 429, 429]);
    } finally {
      ownRedis.kill('SIGKILL');
      await limited.close();
    }
  });
});
