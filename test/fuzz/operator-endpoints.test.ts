/**
 * Bad input on the origin's operator endpoints (the recommend/events inputs are fuzzed in test/origin/api.test.ts,
 * the edge's in test/edge/edge.test.ts): random export query strings and random user ids → 200 or a 4xx with a
 * reason, never a 5xx, and an erase never touches another user's rows. Real Postgres and Redis.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, createTestDatabase, deleteRedisPrefix, postJson, REDIS_URL, startOrigin, uniqueId, type RunningOrigin } from '../origin/support.ts';

let db: { url: string; drop: () => Promise<void> };
let origin: RunningOrigin;
const auth = { 'x-api-key': API_KEY };
const prefix = `${uniqueId('fuzz')}:`;
const weird = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("' OR 1=1 --", '%00', '../../etc/passwd', '<script>', 'ü', '-1', '1e9', 'NaN', 'a'.repeat(300)));

beforeAll(async () => {
  db = await createTestDatabase();
  origin = await startOrigin({ DATABASE_URL: db.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_RPS: '100000', RATE_LIMIT_BURST: '100000' });
}, 120_000);

afterAll(async () => {
  await origin?.close();
  await db?.drop();
  await deleteRedisPrefix(prefix);
});

async function sentinelRows(): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE user_id = 'sentinel-user'");
  await client.end();
  return rows[0]?.n ?? -1;
}

describe('operator endpoints under random input', () => {
  it('GET /v1/export answers 200 or a 4xx with a reason for any query string', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom('k', 'segment', 'modelVersion', 'format', 'version', 'x'), weird, { maxKeys: 3 }), fc.integer({ min: -2, max: 3 }), async (params, limit) => {
        const query = new URLSearchParams({ ...params, limit: String(limit) });
        const response = await fetch(`${origin.url}/v1/export?${query}`, { headers: auth });
        const text = await response.text();
        expect(response.status, `${query} → ${text.slice(0, 200)}`).toBeLessThan(500);
        if (response.status >= 400) expect((JSON.parse(text) as { error?: string }).error?.length).toBeGreaterThan(0);
      }),
      { numRuns: 40 },
    );
  });

  it('DELETE /v1/users/:id answers 200 or a 4xx for any id and erases nobody else', async () => {
    await postJson(`${origin.url}/v1/events`, { events: [{ eventId: uniqueId('e'), type: 'view', itemId: 'i5', userId: 'sentinel-user', sessionId: 's-sentinel' }] }, auth);
    expect(await sentinelRows()).toBe(1);
    await fc.assert(
      fc.asyncProperty(weird.filter((id) => id !== 'sentinel-user' && id.length > 0), async (id) => {
        const response = await fetch(`${origin.url}/v1/users/${encodeURIComponent(id)}`, { method: 'DELETE', headers: auth });
        await response.text();
        expect(response.status, id).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
    expect(await sentinelRows()).toBe(1);
  });
});
