/**
 * Events stored while Redis is down reach the online features after recovery (issue 12.6): a private
 * redis-server is killed, events are posted (stored in Postgres, answered `redis-unavailable`; a retry is a
 * duplicate), Redis is restarted empty on the same port, and the feature outbox drainer applies exactly the
 * pending events to the session list, the user's history and purchases. The drainer leaves events younger than
 * its grace to the request applying them, so nothing is applied twice. Real Postgres, real redis-server.
 */
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisFeatureStore } from '../../adapters/redis/feature-store.ts';
import { openDatabase } from '../../adapters/postgres/database.ts';
import { drainPendingFeatures, insertEvents } from '../../adapters/postgres/repository.ts';
import { freePort } from '../nightly/helpers.ts';
import { API_KEY, createTestDatabase, postJson, startOrigin, uniqueId, type RunningOrigin } from '../origin/support.ts';
import { startRedis, stop } from './support.ts';

let db: { url: string; drop: () => Promise<void> };
let redis: ChildProcess | undefined;
let port = 0;
let origin: RunningOrigin;
const auth = { 'x-api-key': API_KEY };

beforeAll(async () => {
  db = await createTestDatabase();
  port = await freePort();
  redis = await startRedis(port);
  origin = await startOrigin({ DATABASE_URL: db.url, REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_COMMAND_TIMEOUT_MS: '150', RATE_LIMIT_RPS: '100000', RATE_LIMIT_BURST: '100000', FEATURE_OUTBOX_DRAIN_MS: '300', FEATURE_OUTBOX_GRACE_MS: '2000' });
}, 120_000);

afterAll(async () => {
  await stop(redis);
  await origin?.close();
  await db?.drop();
});

async function pendingRows(): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE features_pending')).rows[0]?.n ?? -1;
  } finally {
    await client.end();
  }
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Date.now() - started;
}

describe('Redis down while events arrive', () => {
  it('applies the events stored meanwhile to the online features once Redis is back', async () => {
    const userId = uniqueId('u-outbox');
    const sessionUp = uniqueId('s-up');
    const sessionDown = uniqueId('s-down');
    const event = (sessionId: string, itemId: string, type = 'view') => ({ eventId: uniqueId('e'), type, itemId, userId, sessionId, ts: Date.now() });
    expect(await (await postJson(`${origin.url}/v1/events`, { events: [event(sessionUp, 'i10')] }, auth)).json()).toEqual({ accepted: 1, duplicates: 0, degraded: [] });
    expect(await pendingRows()).toBe(0);
    expect(await origin.service.featureStore.sessionItems(sessionUp)).toEqual(['i10']); // applied once, by the request

    await stop(redis);
    const whileDown = { events: [event(sessionDown, 'i21'), event(sessionDown, 'i22'), event(sessionDown, 'i23', 'purchase')] };
    expect(await (await postJson(`${origin.url}/v1/events`, whileDown, auth)).json()).toEqual({ accepted: 3, duplicates: 0, degraded: ['redis-unavailable'] });
    // The client's retry is a duplicate: the events are stored once, and still owed to the feature store.
    expect(await (await postJson(`${origin.url}/v1/events`, whileDown, auth)).json()).toMatchObject({ accepted: 0, duplicates: 3 });
    expect(await pendingRows()).toBe(3);

    redis = await startRedis(port); // a fresh, empty Redis on the same address
    const store = new RedisFeatureStore(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 2000 });
    try {
      const tookMs = await until(async () => (await pendingRows()) === 0, 20_000);
      console.log(JSON.stringify({ measure: 'outbox-applied-after-redis-restart-ms', value: tookMs }));
      expect(await store.sessionItems(sessionDown)).toEqual(['i21', 'i22', 'i23']);
      expect(await store.userHistory(userId)).toEqual(['i21', 'i22', 'i23']);
      expect(await store.purchased(userId)).toEqual(['i23']);
      // Applied once: the drain does not run them again.
      await origin.service.featureOutbox.drain();
      expect(await store.sessionItems(sessionDown)).toEqual(['i21', 'i22', 'i23']);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('leaves events younger than the grace to the request that is applying them (no double apply)', async () => {
    const database = await openDatabase({ databaseUrl: db.url });
    try {
      const handle = await database.get();
      const stored = { eventId: uniqueId('e-grace'), type: 'view' as const, itemId: 'i30', userId: uniqueId('u-grace'), sessionId: uniqueId('s-grace'), ts: Date.now() };
      await insertEvents(handle, [stored], { featuresPending: true });
      const seen: string[] = [];
      const apply = async (rows: { eventId: string }[]): Promise<void> => {
        seen.push(...rows.map((r) => r.eventId));
      };
      // A request stored it a moment ago and is applying it now: the drainer must not take it.
      expect(await drainPendingFeatures(handle, 500, apply, 60_000)).toBe(0);
      expect(seen).toEqual([]);
      // Older than the grace (here: none), it is owed to the feature store and taken once.
      expect(await drainPendingFeatures(handle, 500, apply, 0)).toBeGreaterThanOrEqual(1);
      expect(seen).toContain(stored.eventId);
      expect(await drainPendingFeatures(handle, 500, apply, 0)).toBe(0);
    } finally {
      await database.close();
    }
  });
});
