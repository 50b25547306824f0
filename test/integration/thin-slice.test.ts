/**
 * The thin slice through every box, on real parts: widget-style calls to the edge in workerd, the real origin
 * (Hono, ONNX pipeline) on real PostgreSQL and Redis, slates in local KV.
 *  - an event posted through the edge is queued, reaches the origin and is stored in Postgres and in the session store;
 *  - a signed-in shopper's recommend call at the edge returns the KV slate when present and the origin's answer
 *    (asked with the edge's API key, so the user's history counts) when not.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecommendResponseSchema } from '../../shared/contracts/recommend.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import { RedisFeatureStore } from '../../adapters/redis/feature-store.ts';
import { buildEdge, cardOf, fetchRecommendations, openKv, slateOf, startEdge, userToken, writeVersion, type RunningEdge } from '../edge/support.ts';
import { tempDir } from '../nightly/helpers.ts';
import { API_KEY, createTestDatabase, deleteRedisPrefix, REDIS_URL, startOrigin, type RunningOrigin } from '../origin/support.ts';

const prefix = `thin:${randomBytes(4).toString('hex')}:`;
let db: { url: string; drop: () => Promise<void> };
let origin: RunningOrigin;
let edge: RunningEdge;
let kv: KvWriter;
let persistTo = '';

beforeAll(async () => {
  buildEdge();
  db = await createTestDatabase();
  origin = await startOrigin({ DATABASE_URL: db.url, REDIS_URL, REDIS_KEY_PREFIX: prefix });
  persistTo = await tempDir('thin-kv');
  kv = await openKv(persistTo);
  await writeVersion(kv, 'vthin', [[{ kind: 'user', id: 'u1' }, slateOf('vthin', ['i10', 'i11', 'i12'], Date.now(), 'Picked for you')]], ['i10', 'i11', 'i12'].map((id) => [id, cardOf(id)]));
  edge = await startEdge(persistTo, { ORIGIN_URL: origin.url, ORIGIN_TIMEOUT_MS: '3000', ORIGIN_API_KEY: API_KEY });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
  await kv?.close();
  await origin?.close();
  await db?.drop();
  await deleteRedisPrefix(prefix);
  if (persistTo) await rm(persistTo, { recursive: true, force: true });
});

describe('thin slice: widget → edge → origin → Postgres / Redis, and KV slates', () => {
  it('stores an event posted through the edge in Postgres and in the session store', async () => {
    const event = { eventId: `e-${randomBytes(4).toString('hex')}`, type: 'view', itemId: 'i42', userId: 'u7', sessionId: 'sess-thin', ts: Date.now() };
    const response = await fetch(`${edge.url}/v1/events`, { method: 'POST', body: JSON.stringify({ events: [event], userToken: await userToken('u7') }) });
    expect(response.status).toBe(202);
    expect(((await response.json()) as { forwarded: string }).forwarded).toBe('queued');

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const select = () => client.query('SELECT event_id, type, item_id, user_id, session_id FROM events WHERE event_id = $1', [event.eventId]);
    let rows = await select();
    // Queued first: the consumer's batch window and, when the origin asked for it, a Retry-After pass before it lands.
    for (let attempt = 0; attempt < 300 && rows.rows.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rows = await select();
    }
    await client.end();
    expect(rows.rows).toEqual([{ event_id: event.eventId, type: 'view', item_id: 'i42', user_id: 'u7', session_id: 'sess-thin' }]);

    const store = new RedisFeatureStore(REDIS_URL, { keyPrefix: prefix, commandTimeoutMs: 2000 });
    expect(await store.sessionItems('sess-thin')).toEqual(['i42']);
    expect(await store.userHistory('u7')).toEqual(['i42']);
    await store.close();
  });

  it('answers from the KV slate when the user has one', async () => {
    const json = RecommendResponseSchema.parse(await (await fetchRecommendations(edge.url, 'user=u1&k=3')).json());
    expect(json).toMatchObject({ servedBy: 'edge', path: 'kv-slate', slateVersion: 'vthin' });
    expect(json.items.map((i) => i.id)).toEqual(['i10', 'i11', 'i12']);
  });

  it("answers with the origin's pipeline when the user has no slate", async () => {
    const json = RecommendResponseSchema.parse(await (await fetchRecommendations(edge.url, 'user=u7&session=sess-thin&k=5')).json());
    expect(json.servedBy).toBe('origin');
    expect(json.path).toBe('origin');
    expect(json.items).toHaveLength(5);
    expect(json.items.map((i) => i.id)).not.toContain('i42'); // just viewed
    for (const item of json.items) expect(item.reason.length).toBeGreaterThan(0);
  });
});
