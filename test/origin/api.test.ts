/**
 * The HTTP contract on the real service (Postgres + Redis, committed demo models): recommend answers match
 * the shared schema, malformed input of any shape is a 4xx with a reason (fast-check), huge bodies 413,
 * invalid UTF-8 400, API keys on export/erase, NDJSON export, erasure, OpenAPI document and metrics.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecommendResponseSchema } from '../../shared/contracts/recommend.ts';
import { ExperimentSchema } from '../../origin/experiments/definitions.ts';
import { allErasedUsers, saveExperiment } from '../../adapters/postgres/repository.ts';
import { experiments } from '../../adapters/postgres/schema.ts';
import { API_KEY, REDIS_URL, createTestDatabase, deleteRedisPrefix, postJson, startOrigin, uniqueId, type RunningOrigin } from './support.ts';

let database: { url: string; drop: () => Promise<void> };
let origin: RunningOrigin;
const prefix = `test:${randomUUID()}:`;
const auth = { authorization: `Bearer ${API_KEY}` };

beforeAll(async () => {
  database = await createTestDatabase();
  origin = await startOrigin({ DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_BURST: '100000', RATE_LIMIT_RPS: '100000', BODY_LIMIT_BYTES: '65536' });
});
afterAll(async () => {
  await origin?.close();
  await database?.drop();
  await deleteRedisPrefix(prefix);
});

describe('POST /v1/recommend', () => {
  it('answers the shared contract, personalised by events just ingested', async () => {
    const userId = uniqueId('u');
    const sessionId = uniqueId('s');
    const viewed = ['i100', 'i101', 'i102'];
    await postJson(`${origin.url}/v1/events`, { events: viewed.map((itemId, n) => ({ eventId: uniqueId('e'), type: 'view', itemId, userId, sessionId, ts: 1_750_000_000_000 + n })) }, auth);
    const response = await postJson(`${origin.url}/v1/recommend`, { userId, sessionId, k: 7, excludeIds: ['i5'], context: { page: 'home' } });
    expect(response.status).toBe(200);
    const body = RecommendResponseSchema.parse(await response.json());
    expect(body.servedBy).toBe('origin');
    expect(body.items).toHaveLength(7);
    expect(body.degraded).not.toContain('redis-unavailable');
    const ids = body.items.map((i) => i.id);
    expect(new Set(ids).size).toBe(7);
    for (const excluded of ['i5', ...viewed]) expect(ids).not.toContain(excluded);
    expect(response.headers.get('x-request-id')).toBe(body.requestId);
  });

  it('serves an anonymous session and ignores unknown session item ids', async () => {
    const response = await postJson(`${origin.url}/v1/recommend`, { sessionId: uniqueId('s'), sessionItemIds: ['i3', 'not-an-item'], k: 3 });
    expect(response.status).toBe(200);
    expect(RecommendResponseSchema.parse(await response.json()).items).toHaveLength(3);
  });

  it('refuses oversized k, missing ids, unknown fields and injection strings with reasons', async () => {
    const cases: [unknown, RegExp][] = [
      [{ userId: 'u1', k: 101 }, /k/],
      [{ k: 5 }, /userId or sessionId/],
      [{ userId: 'u1', extra: 1 }, /extra|unrecognized/i],
      [{ userId: "u1'; DROP TABLE events;--" }, /userId/],
      [{ userId: 'u1', k: '5' }, /k/],
      [[1, 2], /body|expected object/i],
    ];
    for (const [body, reason] of cases) {
      const response = await postJson(`${origin.url}/v1/recommend`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const problem = (await response.json()) as { error: string; reasons?: string[] };
      expect(`${problem.error} ${problem.reasons?.join(' ')}`).toMatch(reason);
    }
  });

  it('answers any random JSON with 200 or a 400 with a reason, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.json(), fc.record({ userId: fc.oneof(fc.string(), fc.constant('u1')), k: fc.oneof(fc.integer(), fc.double(), fc.string()), sessionItemIds: fc.array(fc.string(), { maxLength: 60 }) }, { requiredKeys: [] }).map((v) => JSON.stringify(v))), async (text) => {
        const response = await postJson(`${origin.url}/v1/recommend`, text);
        const body = (await response.json()) as { error?: string };
        if (response.status === 200) return;
        expect(response.status).toBe(400);
        expect(body.error).toBeTruthy();
      }),
      { numRuns: 60 },
    );
  });

  it('answers random event batches with 200 or a 400 with a reason, and a refused batch stores no row', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const rowCount = async (): Promise<number> => (await client.query('select count(*)::int as n from events')).rows[0].n as number;
    const event = fc.record({ eventId: fc.oneof(fc.string({ maxLength: 70 }), fc.uuid()), type: fc.oneof(fc.constantFrom('view', 'click', 'purchase'), fc.string()), itemId: fc.oneof(fc.constantFrom('i1', 'i2', 'nope'), fc.string()), sessionId: fc.oneof(fc.constant('s1'), fc.string()), ts: fc.oneof(fc.integer(), fc.double()) }, { requiredKeys: [] });
    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.record({ events: fc.array(event, { maxLength: 5 }) }), fc.jsonValue()), async (body) => {
          const before = await rowCount();
          const response = await postJson(`${origin.url}/v1/events`, body);
          const answer = (await response.json()) as { error?: string; accepted?: number };
          if (response.status === 200) {
            expect(await rowCount()).toBe(before + (answer.accepted ?? -1));
            return;
          }
          expect(response.status).toBe(400);
          expect(answer.error).toBeTruthy();
          expect(await rowCount()).toBe(before);
        }),
        { numRuns: 60 },
      );
    } finally {
      await client.end();
    }
  });

  it('refuses invalid UTF-8, non-JSON, wrong content type and bodies over the limit', async () => {
    const invalidUtf8 = Buffer.concat([Buffer.from('{"userId":"u'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const bad = await fetch(`${origin.url}/v1/recommend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: invalidUtf8 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/UTF-8/);
    expect((await postJson(`${origin.url}/v1/recommend`, '{"userId":')).status).toBe(400);
    expect((await fetch(`${origin.url}/v1/recommend`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' })).status).toBe(415);
    const huge = await postJson(`${origin.url}/v1/events`, { events: [{ eventId: 'x', type: 'view', itemId: 'i1', sessionId: 's', pad: 'x'.repeat(70_000) }] });
    expect(huge.status).toBe(413);
  });
});

describe('experiments', () => {
  it('records the variant on every response and on events that did not carry one', async () => {
    await saveExperiment(await origin.service.database.get(), ExperimentSchema.parse({ id: 'mmr-test', variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1, settings: { mmrLambda: 0.5 } }] }));
    await origin.service.experiments.refresh();
    const variants = new Set<string | null>();
    for (let n = 0; n < 12; n++) {
      const body = RecommendResponseSchema.parse(await (await postJson(`${origin.url}/v1/recommend`, { sessionId: `exp-s${n}`, k: 2 })).json());
      variants.add(body.variant);
    }
    expect([...variants].sort()).toEqual(['mmr-test:a', 'mmr-test:b']);
    const eventId = uniqueId('e');
    await postJson(`${origin.url}/v1/events`, { events: [{ eventId, type: 'view', itemId: 'i1', sessionId: 'exp-s0' }] });
    const again = RecommendResponseSchema.parse(await (await postJson(`${origin.url}/v1/recommend`, { sessionId: 'exp-s0', k: 2 })).json());
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query('select variant from events where event_id = $1', [eventId]);
    await client.end();
    expect(rows[0].variant).toBe(again.variant); // same visitor, same assignment on responses and events
    await (await origin.service.database.get()).delete(experiments);
    await origin.service.experiments.refresh();
  });
});

describe('operator endpoints', () => {
  it('require an API key: 401 without, 403 with a wrong one', async () => {
    for (const [method, path] of [['GET', '/v1/export?limit=1'], ['DELETE', '/v1/users/u1']] as const) {
      const none = await fetch(`${origin.url}${path}`, { method });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect((await fetch(`${origin.url}${path}`, { method, headers: { 'x-api-key': 'wrong-key-0123456789' } })).status).toBe(403);
    }
  });

  it('streams NDJSON slates, one line per user and an end line', async () => {
    const response = await fetch(`${origin.url}/v1/export?limit=250&k=5`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/ndjson/);
    const lines = (await response.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; userId?: string; items?: { id: string }[]; users?: number });
    expect(lines).toHaveLength(251);
    expect(lines.at(-1)).toEqual({ type: 'end', users: 250 });
    const slates = lines.slice(0, -1);
    expect(new Set(slates.map((l) => l.userId)).size).toBe(250);
    for (const slate of slates) expect(slate.items?.length).toBe(5);
    expect((await fetch(`${origin.url}/v1/export?modelVersion=m-does-not-exist&limit=1`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${origin.url}/v1/export?k=1000`, { headers: auth })).status).toBe(400);
  });

  it("erases a user's events and features, and the export omits them", async () => {
    const userId = 'u0'; // a seeded catalogue user, so the export would include them
    const sessionId = uniqueId('s');
    await postJson(`${origin.url}/v1/events`, { events: [{ eventId: uniqueId('e'), type: 'purchase', itemId: 'i9', userId, sessionId }] }, auth);
    expect(await origin.service.featureStore.purchased(userId)).toEqual(['i9']);
    const erased = await fetch(`${origin.url}/v1/users/${userId}`, { method: 'DELETE', headers: auth });
    expect(erased.status).toBe(200);
    expect(await erased.json()).toMatchObject({ userId, erasedEvents: 1 });
    expect(await origin.service.featureStore.purchased(userId)).toEqual([]);
    expect(await origin.service.featureStore.userHistory(userId)).toEqual([]);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query('select (select count(*)::int from events where user_id = $1) as events, (select count(*)::int from user_deletions where user_id = $1) as deletions', [userId]);
    await client.end();
    expect(rows[0]).toEqual({ events: 0, deletions: 1 });
    expect(await allErasedUsers(await origin.service.database.get())).toContain(userId);
    const exported = (await (await fetch(`${origin.url}/v1/export?limit=5&k=1`, { headers: auth })).text()).trim().split('\n').map((l) => JSON.parse(l) as { userId?: string });
    expect(exported.map((l) => l.userId)).not.toContain(userId);
    expect((await fetch(`${origin.url}/v1/users/bad%20id`, { method: 'DELETE', headers: auth })).status).toBe(400);
  });
});

describe('documentation and observability', () => {
  it('serves an OpenAPI 3.1 document whose references all resolve', async () => {
    const doc = (await (await fetch(`${origin.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }> } };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/recommend', '/v1/events', '/v1/export', '/v1/users/{id}', '/healthz', '/readyz', '/metrics']));
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(5);
    for (const ref of refs) expect(doc.components.schemas[ref], ref).toBeDefined();
    expect(Object.keys(doc.components.schemas.RecommendRequest?.properties ?? {})).toEqual(expect.arrayContaining(['userId', 'sessionId', 'k', 'excludeIds', 'sessionItemIds', 'context']));
    expect(doc.components.schemas.EventBatch?.required).toEqual(['events']);
  });

  it('exposes latency histograms per route and stage, fallbacks and the model version', async () => {
    await postJson(`${origin.url}/v1/recommend`, { userId: 'u1', k: 3 });
    const text = await (await fetch(`${origin.url}/metrics`)).text();
    expect(text).toMatch(/origin_http_request_duration_seconds_bucket\{le="[\d.]+",method="POST",route="\/v1\/recommend",status="200"\}/);
    for (const stage of ['feature_store', 'user_tower', 'ann', 'dlrm', 'rerank']) expect(text).toMatch(new RegExp(`origin_recommend_stage_duration_seconds_count\\{stage="${stage}"\\} [1-9]`));
    expect(text).toMatch(/origin_model_version_info\{version="m[\w]+"\} 1/);
    expect(text).toMatch(/origin_feature_lookups_total\{result="(hit|miss)"\} [1-9]/);
    // Exploration's item stats go through the process cache in front of Redis; the same user again is served from it.
    await postJson(`${origin.url}/v1/recommend`, { userId: 'u1', k: 3 });
    const again = await (await fetch(`${origin.url}/metrics`)).text();
    expect(again).toMatch(/origin_item_stats_lookups_total\{result="miss"\} [1-9]/);
    expect(again).toMatch(/origin_item_stats_lookups_total\{result="hit"\} [1-9]/);
    expect(again).toMatch(/origin_pipeline_batch_size_count [1-9]/);
    expect(text).toMatch(/origin_events_total\{result="accepted"\} [1-9]/);
  });

  it('reports readiness with the stores it depends on', async () => {
    const ready = await fetch(`${origin.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, database: 'up', featureStore: 'up', catalogItems: 10_000, onnxProviders: ['cpu'], modelWarnings: 0 });
    expect((await fetch(`${origin.url}/healthz`)).status).toBe(200);
  });
});
