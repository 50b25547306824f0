/**
 * The origin's database down for a minute while widgets keep sending events through the edge (issue 12
 * item 5): real edge in workerd with its local Queues, real origin, a private PostgreSQL cluster stopped
 * (immediate shutdown) and restarted. Every beacon is acknowledged (202) as soon as it is queued; the queue
 * consumer retries after the origin's Retry-After while Postgres is down; afterwards N events posted = N rows
 * stored, each stored exactly once (the origin counted every one as accepted, none as a duplicate).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, tempDir } from '../nightly/helpers.ts';
import { buildEdge, startEdge, type RunningEdge } from '../edge/support.ts';
import { API_KEY, deleteRedisPrefix, startOrigin, uniqueId, type RunningOrigin, REDIS_URL } from '../origin/support.ts';
import { createPrivatePostgres, type PrivatePostgres } from './private-postgres.ts';

const OUTAGE_MS = 60_000;
let postgres: PrivatePostgres;
let origin: RunningOrigin;
let edge: RunningEdge;
const prefix = `${uniqueId('edgeout')}:`;

beforeAll(async () => {
  buildEdge();
  postgres = await createPrivatePostgres(await freePort());
  await postgres.start();
  origin = await startOrigin({ DATABASE_URL: postgres.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_RPS: '100000', RATE_LIMIT_BURST: '100000', RETRY_AFTER_SECONDS: '5' });
  edge = await startEdge(await tempDir('edge-outage-kv'), { ORIGIN_URL: origin.url, ORIGIN_API_KEY: API_KEY });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
  await origin?.close();
  await postgres?.destroy();
  await deleteRedisPrefix(prefix);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function storedCount(ids: readonly string[]): Promise<number> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE event_id = ANY($1)', [ids]);
    return rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

async function originCounter(result: string): Promise<number> {
  const text = await (await fetch(`${origin.url}/metrics`)).text();
  return Number(text.match(new RegExp(`^origin_events_total\\{result="${result}"\\} (\\d+)`, 'm'))?.[1] ?? 0);
}

describe('origin database down for a minute behind the edge', () => {
  it('acknowledges every beacon and stores each event exactly once after recovery', async () => {
    const posted: string[] = [];
    const statuses = new Map<number, number>();
    let stop = false;
    const load = (async () => {
      for (let b = 0; !stop; b++) {
        const events = Array.from({ length: 4 }, (_, i) => ({ eventId: uniqueId('edge-out-'), type: 'view', itemId: `i${10 + ((b + i) % 50)}`, sessionId: `s-${b % 7}`, ts: Date.now() }));
        const response = await fetch(`${edge.url}/v1/events`, { method: 'POST', body: JSON.stringify({ events }) });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        await response.text();
        if (response.status === 202) posted.push(...events.map((e) => e.eventId));
        await sleep(250);
      }
    })();

    await sleep(2_000);
    await postgres.stop();
    const downSince = Date.now();
    await sleep(OUTAGE_MS);
    const postedWhileDown = posted.length;
    expect(await originCounter('rejected-db-unavailable')).toBeGreaterThan(0); // the consumer did try, and was refused
    await postgres.start();
    const downFor = Date.now() - downSince;
    await sleep(2_000);
    stop = true;
    await load;

    expect(Object.fromEntries(statuses)).toEqual({ 202: posted.length / 4 }); // every beacon acknowledged, none refused
    expect(postedWhileDown).toBeGreaterThan(100);
    // Retries come every Retry-After (5 s), or on the consumer's own backoff when an attempt got no answer at
    // all (2, 4 … 64 s): all delivered within a couple of minutes after the database is back.
    const deadline = Date.now() + 150_000;
    let count = 0;
    while (Date.now() < deadline && (count = await storedCount(posted)) < posted.length) await sleep(1000);
    if (count !== posted.length) {
      // Say where the missing events are: the edge's counters (retried, dead-lettered) and its log.
      const stats = await (await fetch(`${edge.url}/v1/stats`)).text();
      const logLines = edge.log().split('\n').filter((line) => /event|dead|error/i.test(line)).slice(-30).join('\n');
      expect.fail(`stored ${count} of ${posted.length}; edge stats ${stats}; edge log:\n${logLines}`);
    }
    expect(await originCounter('accepted')).toBe(posted.length);
    expect(await originCounter('duplicate')).toBe(0);
    expect(downFor).toBeGreaterThanOrEqual(OUTAGE_MS);
  }, 330_000);
});
