/**
 * Events at a sustained rate for a bounded time (10 s, 4 senders, batches of 20 every 50 ms each, 10 % of
 * batches re-sent as a client retry would): every unique event is stored exactly once in Postgres, and the
 * service's memory stays bounded. Real Postgres and Redis.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { API_KEY, createTestDatabase, deleteRedisPrefix, postJson, REDIS_URL, startOrigin, type RunningOrigin } from '../origin/support.ts';

let db: { url: string; drop: () => Promise<void> };
let origin: RunningOrigin;
const prefix = `soak:${randomBytes(4).toString('hex')}:`;

beforeAll(async () => {
  db = await createTestDatabase();
  origin = await startOrigin({ DATABASE_URL: db.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_RPS: '100000', RATE_LIMIT_BURST: '100000' });
}, 120_000);

afterAll(async () => {
  await origin?.close();
  await db?.drop();
  await deleteRedisPrefix(prefix);
});

describe('event ingestion soak', () => {
  it('stores every event exactly once at a sustained rate, with bounded memory', async () => {
    const run = randomBytes(3).toString('hex');
    const unique = new Set<string>();
    const statuses = new Map<number, number>();
    const rssBefore = process.memoryUsage().rss;
    const deadline = Date.now() + 10_000;
    const sender = async (s: number): Promise<void> => {
      for (let b = 0; Date.now() < deadline; b++) {
        const events = Array.from({ length: 20 }, (_, e) => ({ eventId: `soak-${run}-${s}-${b}-${e}`, type: 'view' as const, itemId: `i${(b * 20 + e) % 10000}`, sessionId: `soak-${s}`, userId: `u${s}` }));
        for (const event of events) unique.add(event.eventId);
        const send = async (): Promise<void> => {
          const response = await postJson(`${origin.url}/v1/events`, { events }, { 'x-api-key': API_KEY });
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          await response.text();
        };
        await send();
        if (b % 10 === 0) await send(); // a client retry: same ids
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await Promise.all([0, 1, 2, 3].map(sender));
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1048576;

    expect([...statuses.keys()]).toEqual([200]);
    expect(unique.size).toBeGreaterThan(1000);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const stored = await client.query<{ n: number; distinct: number }>("SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct FROM events WHERE event_id LIKE $1", [`soak-${run}-%`]);
    await client.end();
    expect(stored.rows[0]).toEqual({ n: unique.size, distinct: unique.size });
    console.log(JSON.stringify({ soak: { events: unique.size, seconds: 10, rssGrowthMb: Math.round(rssGrowthMb) } }));
    expect(rssGrowthMb).toBeLessThan(300);
  });
});
