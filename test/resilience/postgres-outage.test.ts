/**
 * Postgres stopped mid-load (immediate shutdown of a private cluster), then started again, in the same origin
 * process: every event batch answers 200 or 503 + Retry-After (never another 5xx, never a silent drop), a
 * client that retries the same batch on 503 gets every batch stored, and N events posted = N rows stored.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../nightly/helpers.ts';
import { deleteRedisPrefix, postJson, startOrigin, uniqueId, type RunningOrigin, REDIS_URL } from '../origin/support.ts';
import { createPrivatePostgres, type PrivatePostgres } from './private-postgres.ts';

let postgres: PrivatePostgres;
let origin: RunningOrigin;
const BATCH = 5;
const prefix = `${uniqueId('pgout')}:`;

beforeAll(async () => {
  postgres = await createPrivatePostgres(await freePort());
  await postgres.start();
  origin = await startOrigin({ DATABASE_URL: postgres.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_RPS: '100000', RATE_LIMIT_BURST: '100000' });
}, 120_000);

afterAll(async () => {
  await origin?.close();
  await postgres?.destroy();
  await deleteRedisPrefix(prefix);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Postgres stopped mid-load', () => {
  it('answers 503 with a retry hint while down, and every posted event is stored after recovery', async () => {
    const sessionId = uniqueId('s');
    const postedIds: string[] = [];
    const statuses = new Map<number, number>();
    let retryHints = 0;
    let acceptedTotal = 0;
    let stopLoad = false;
    const deadline = Date.now() + 40_000; // bound: the load never outlives the test
    const load = (async () => {
      for (let b = 0; !stopLoad && Date.now() < deadline; b++) {
        const batch = { events: Array.from({ length: BATCH }, (_, i) => ({ eventId: uniqueId('e'), type: 'view', itemId: `i${10 + i}`, sessionId, ts: 1_700_000_000_000 + b * BATCH + i })) };
        postedIds.push(...batch.events.map((e) => e.eventId));
        for (;;) {
          const response = await postJson(`${origin.url}/v1/events`, batch);
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (response.status === 200) {
            const body = (await response.json()) as { accepted: number; duplicates: number };
            acceptedTotal += body.accepted;
            break;
          }
          await response.text();
          if (response.status !== 503 || Date.now() > deadline) return;
          if (Number(response.headers.get('retry-after')) > 0) retryHints++;
          await sleep(100); // the hint is in seconds; the test retries sooner to stay short
        }
      }
    })();

    await sleep(1_500);
    await postgres.stop();
    await sleep(2_500);
    await postgres.start();
    await sleep(3_000);
    stopLoad = true;
    await load;

    const unexpected = [...statuses.keys()].filter((s) => s !== 200 && s !== 503);
    expect(unexpected, JSON.stringify(Object.fromEntries(statuses))).toEqual([]);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0); // the outage was seen, not slept through
    expect(retryHints).toBe(statuses.get(503));
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE event_id = ANY($1)', [postedIds]);
    await client.end();
    expect(rows[0]?.n).toBe(postedIds.length);
    expect(acceptedTotal).toBe(postedIds.length);
  }, 60_000);
});
