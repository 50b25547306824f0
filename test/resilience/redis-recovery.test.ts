/**
 * Redis stopped mid-load, then restarted: the origin keeps answering 200 (flagged 'redis-unavailable' while
 * it is down), never hangs, and goes back to full answers — with session features written again — once Redis
 * is back. A private redis-server on a random port (never the shared 6379); real Postgres.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecommendResponseSchema } from '../../shared/contracts/recommend.ts';
import { RedisFeatureStore } from '../../adapters/redis/feature-store.ts';
import { freePort } from '../nightly/helpers.ts';
import { createTestDatabase, postJson, startOrigin, uniqueId, type RunningOrigin } from '../origin/support.ts';
import { startRedis, stop } from './support.ts';

let db: { url: string; drop: () => Promise<void> };
let redis: ChildProcess | undefined;
let port = 0;
let origin: RunningOrigin;

beforeAll(async () => {
  db = await createTestDatabase();
  port = await freePort();
  redis = await startRedis(port);
  origin = await startOrigin({ DATABASE_URL: db.url, REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_COMMAND_TIMEOUT_MS: '150', RATE_LIMIT_RPS: '100000', RATE_LIMIT_BURST: '100000' });
}, 120_000);

afterAll(async () => {
  await stop(redis);
  await origin?.close();
  await db?.drop();
});

describe('Redis stopped mid-load', () => {
  it('degrades while Redis is down and recovers when it returns, with no 5xx', async () => {
    const sessionId = uniqueId('s');
    const statuses: number[] = [];
    const flags: { phase: string; degraded: boolean }[] = [];
    let phase = 'up';
    let stopLoad = false;
    const load = (async () => {
      let n = 0;
      while (!stopLoad) {
        const response = await postJson(`${origin.url}/v1/recommend`, { sessionId, userId: `u${n++ % 50}`, k: 5 });
        statuses.push(response.status);
        if (response.status !== 200) {
          await response.text();
          continue;
        }
        const body = RecommendResponseSchema.parse(await response.json());
        flags.push({ phase, degraded: body.degraded.includes('redis-unavailable') });
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await stop(redis);
    phase = 'down';
    await new Promise((resolve) => setTimeout(resolve, 2500));
    redis = await startRedis(port);
    phase = 'restarted';
    // ioredis reconnects with backoff (≤ 1 s between tries); give it a moment before judging recovery.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    phase = 'recovered';
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stopLoad = true;
    await load;

    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(flags.filter((f) => f.phase === 'up').every((f) => !f.degraded)).toBe(true);
    expect(flags.filter((f) => f.phase === 'down').some((f) => f.degraded)).toBe(true);
    const recovered = flags.filter((f) => f.phase === 'recovered');
    expect(recovered.length).toBeGreaterThan(0);
    expect(recovered.every((f) => !f.degraded)).toBe(true);

    // Session features are written again after recovery.
    const event = { eventId: uniqueId('e'), type: 'view', itemId: 'i321', sessionId: 'after-recovery' };
    expect((await postJson(`${origin.url}/v1/events`, { events: [event] })).status).toBe(200);
    const store = new RedisFeatureStore(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 2000 });
    expect(await store.sessionItems('after-recovery')).toEqual(['i321']);
    await store.close();
  });
});
