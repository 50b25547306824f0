/**
 * Event ingestion against real stores: idempotency (Postgres and PGlite), event → Postgres row + Redis
 * session list, unknown items refused without a row, variant recorded, and Postgres down → 503 + Retry-After
 * with the same batch stored once the database is back (nothing lost).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, REDIS_URL, createTestDatabase, deleteRedisPrefix, postJson, startOrigin, uniqueId, type RunningOrigin } from './support.ts';

const prefix = `test:${randomUUID()}:`;
let database: { url: string; drop: () => Promise<void> };
const running: RunningOrigin[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
  await database?.drop();
  await deleteRedisPrefix(prefix);
});

const batchOf = (n: number, sessionId: string, userId?: string) => ({
  events: Array.from({ length: n }, (_, i) => ({ eventId: uniqueId('e'), type: 'view', itemId: `i${10 + i}`, sessionId, ...(userId ? { userId } : {}), ts: 1_700_000_000_000 + i })),
});

describe.each([
  ['postgres', () => ({ DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: prefix })],
  ['pglite', () => ({})],
] as const)('events on %s', (_kind, env) => {
  let origin: RunningOrigin;
  beforeAll(async () => {
    origin = await startOrigin(env());
    running.push(origin);
  });

  it('stores a repeated batch once and counts duplicates', async () => {
    const batch = batchOf(5, uniqueId('s'));
    const first = await postJson(`${origin.url}/v1/events`, batch);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ accepted: 5, duplicates: 0, degraded: [] });
    const again = await postJson(`${origin.url}/v1/events`, batch);
    expect(await again.json()).toEqual({ accepted: 0, duplicates: 5, degraded: [] });
    const withRepeat = { events: [...batch.events.slice(0, 2), ...batchOf(1, 's-x').events, batchOf(1, 's-y').events[0]] };
    withRepeat.events.push(withRepeat.events[2]!);
    expect(await (await postJson(`${origin.url}/v1/events`, withRepeat)).json()).toEqual({ accepted: 2, duplicates: 3, degraded: [] });
  });

  it('writes the session list of the feature store once per new event', async () => {
    const sessionId = uniqueId('s');
    const batch = batchOf(3, sessionId, uniqueId('u'));
    await postJson(`${origin.url}/v1/events`, batch);
    await postJson(`${origin.url}/v1/events`, batch);
    expect(await origin.service.featureStore.sessionItems(sessionId)).toEqual(['i10', 'i11', 'i12']);
  });

  it('refuses unknown item ids and wrong types with reasons, storing nothing', async () => {
    const sessionId = uniqueId('s');
    const unknown = await postJson(`${origin.url}/v1/events`, { events: [{ eventId: uniqueId('e'), type: 'view', itemId: 'i-no-such-item', sessionId }] });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain('i-no-such-item');
    const wrongType = await postJson(`${origin.url}/v1/events`, { events: [{ eventId: uniqueId('e'), type: 'hover', itemId: 'i1', sessionId }] });
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { reasons: string[] }).reasons.join()).toMatch(/events\.0\.type/);
    expect(await origin.service.featureStore.sessionItems(sessionId)).toEqual([]);
  });
});

describe('events row in Postgres', () => {
  it('keeps every field, fills the timestamp and records the variant', async () => {
    const origin = await startOrigin({ DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: prefix });
    running.push(origin);
    const eventId = uniqueId('e');
    const response = await postJson(`${origin.url}/v1/events`, { events: [{ eventId, type: 'click', itemId: 'i7', sessionId: 's1', userId: 'u42', position: 3, surface: 'pdp', variant: 'exp1:b', modelVersion: 'm1' }] }, { 'x-api-key': API_KEY });
    expect(response.status).toBe(200);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query('select * from events where event_id = $1', [eventId]);
    await client.end();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ type: 'click', item_id: 'i7', user_id: 'u42', session_id: 's1', position: 3, surface: 'pdp', variant: 'exp1:b', model_version: 'm1' });
    expect(Math.abs(Number(rows[0].ts) - Date.now())).toBeLessThan(60_000);
  });
});

describe('Postgres unreachable', () => {
  it('answers 503 with Retry-After, and the same batch is stored once the database answers', async () => {
    const deadPort = 1 + Math.floor(Math.random() * 1000) + 64_000; // nothing listens on these in the test machines
    const down = await startOrigin({ DATABASE_URL: `postgres://postgres@127.0.0.1:${deadPort}/none`, REDIS_URL, REDIS_KEY_PREFIX: prefix, SEED_CATALOG: 'false' });
    running.push(down);
    const sessionId = uniqueId('s');
    const batch = batchOf(4, sessionId);
    const refused = await postJson(`${down.url}/v1/events`, batch);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await down.service.featureStore.sessionItems(sessionId)).toEqual([]); // nothing half-applied
    const ready = await fetch(`${down.url}/readyz`);
    expect(ready.status).toBe(503);

    const up = await startOrigin({ DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: prefix });
    running.push(up);
    expect(await (await postJson(`${up.url}/v1/events`, batch)).json()).toEqual({ accepted: 4, duplicates: 0, degraded: [] });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query('select count(*)::int as n from events where event_id = any($1)', [batch.events.map((e) => e.eventId)]);
    await client.end();
    expect(rows[0].n).toBe(4);
    const redis = new Redis(REDIS_URL, { keyPrefix: prefix });
    expect(await redis.lrange(`sess:${sessionId}`, 0, -1)).toEqual(['i10', 'i11', 'i12', 'i13']);
    redis.disconnect();
  });
});
