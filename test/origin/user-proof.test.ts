/**
 * The origin's public recommend route honours a userId only with proof (issue 12 item 1): a valid user token
 * for that user (X-User-Token) or an API key (server-to-server, e.g. the edge). Without it — no token, an
 * expired, forged or other user's token — the answer is the anonymous session's: no reason names an item of
 * the user's history, and `degraded` says why. Real service on Postgres and Redis, committed demo models.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUserToken } from '../../shared/auth/user-token.ts';
import { RecommendResponseSchema, type RecommendResponse } from '../../shared/contracts/recommend.ts';
import { TOKEN_SECRET, userToken } from '../edge/support.ts';
import { API_KEY, REDIS_URL, createTestDatabase, deleteRedisPrefix, postJson, startOrigin, uniqueId, type RunningOrigin } from './support.ts';

let database: { url: string; drop: () => Promise<void> };
let origin: RunningOrigin;
const prefix = `proof:${randomUUID()}:`;
const userId = uniqueId('uproof');
/** The user's remembered history: views of several items of a few categories. */
const HISTORY = ['i101', 'i102', 'i103', 'i104', 'i105', 'i106', 'i107', 'i108'];
let historyTitles: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  origin = await startOrigin({ DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_BURST: '100000', RATE_LIMIT_RPS: '100000', USER_TOKEN_SECRET: TOKEN_SECRET });
  const events = HISTORY.map((itemId, n) => ({ eventId: uniqueId('e'), type: 'view', itemId, userId, sessionId: uniqueId('s-old'), ts: Date.now() - 3_600_000 + n }));
  expect((await postJson(`${origin.url}/v1/events`, { events })).status).toBe(200);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  historyTitles = (await client.query<{ title: string }>('SELECT title FROM items WHERE id = ANY($1)', [HISTORY])).rows.map((r) => r.title);
  await client.end();
  expect(historyTitles).toHaveLength(HISTORY.length);
});

afterAll(async () => {
  await origin?.close();
  await database?.drop();
  await deleteRedisPrefix(prefix);
});

async function recommend(headers: Record<string, string>): Promise<RecommendResponse> {
  const response = await postJson(`${origin.url}/v1/recommend`, { userId, sessionId: uniqueId('s-new'), k: 20 }, headers);
  expect(response.status).toBe(200);
  return RecommendResponseSchema.parse(await response.json());
}

const namesHistory = (answer: RecommendResponse): boolean => answer.items.some((item) => historyTitles.some((title) => item.reason === `Because you viewed ${title}`));
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

describe('POST /v1/recommend: a userId needs proof', () => {
  it('uses the history with a valid user token or an API key (the positive control)', async () => {
    const withToken = await recommend({ 'x-user-token': await userToken(userId) });
    expect(withToken.degraded).not.toContain('user-token-missing');
    expect(namesHistory(withToken)).toBe(true);
    const withKey = await recommend({ 'x-api-key': API_KEY });
    expect(namesHistory(withKey)).toBe(true);
  });

  it('answers without a token, or with an expired, forged or other user token, as the anonymous session', async () => {
    const cases: [Record<string, string>, string][] = [
      [{}, 'user-token-missing'],
      [{ 'x-user-token': await signUserToken(TOKEN_SECRET, userId, nowSeconds() - 5) }, 'user-token-expired'],
      [{ 'x-user-token': await signUserToken('forged-secret-0123456789abcdefghijkl', userId, nowSeconds() + 600) }, 'user-token-invalid'],
      [{ 'x-user-token': await userToken('someone-else') }, 'user-token-invalid'],
      [{ 'x-api-key': 'not-a-key-0123456789abcdef' }, 'user-token-missing'],
    ];
    for (const [headers, because] of cases) {
      const answer = await recommend(headers);
      expect(answer.degraded).toContain(because);
      expect(namesHistory(answer)).toBe(false);
      for (const item of answer.items) expect(item.reason.startsWith('Because you viewed')).toBe(false); // the new session viewed nothing
    }
  });
});
