/**
 * The origin's public recommend route honours a userId only with proof (issue 12 item 1): a valid user token
 * for that user (X-User-Token) or an API key (server-to-server, e.g. the edge). Without it — no token, an
 * expired, forged or other user's token — the answer is the anonymous session's: no reason names an item of
 * the user's history, and `degraded` says why. The same proof guards writes: POST /v1/events keeps an event's
 * userId only with a user token for it or an API key; otherwise the event is stored as a session event, so a
 * forged post cannot write into a user's history (Postgres row, Redis history, purchases).
 * Real service on Postgres and Redis, committed demo models.
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
  expect((await postJson(`${origin.url}/v1/events`, { events }, { 'x-api-key': API_KEY })).status).toBe(200);
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

describe('POST /v1/events: a userId needs proof too', () => {
  async function storedUser(eventId: string): Promise<string | null | undefined> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query<{ user_id: string | null }>('SELECT user_id FROM events WHERE event_id = $1', [eventId])).rows[0]?.user_id;
    } finally {
      await client.end();
    }
  }

  it('stores an unproven userId as a session event: no row, history or purchase of that user is written', async () => {
    const victim = uniqueId('uvictim');
    const sessionId = uniqueId('s-forger');
    const forged = (eventId: string, itemId: string, type = 'view') => ({ eventId, type, itemId, userId: victim, sessionId, ts: Date.now() });
    const cases: [string, Record<string, unknown>, Record<string, string>, string][] = [
      ['f-none', {}, {}, 'user-token-missing'],
      ['f-other', { userToken: await userToken('someone-else') }, {}, 'user-token-invalid'],
      ['f-expired', {}, { 'x-user-token': await signUserToken(TOKEN_SECRET, victim, nowSeconds() - 5) }, 'user-token-expired'],
      ['f-badkey', {}, { 'x-api-key': 'not-a-key-0123456789abcdef' }, 'user-token-missing'],
    ];
    for (const [suffix, extra, headers, because] of cases) {
      const eventId = uniqueId(suffix);
      const response = await postJson(`${origin.url}/v1/events`, { events: [forged(eventId, 'i401', 'purchase')], ...extra }, headers);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ accepted: 1, anonymised: 1, degraded: [because] });
      expect(await storedUser(eventId)).toBeNull(); // stored (nothing lost), without the user
    }
    const store = origin.service.featureStore;
    expect(await store.userHistory(victim)).toEqual([]);
    expect(await store.purchased(victim)).toEqual([]);
    expect(await store.sessionItems(sessionId)).toEqual(['i401']); // kept as the session's
  });

  it('keeps a proven userId: a user token (header or body) for that user, or an API key', async () => {
    const user = uniqueId('uproven');
    const ids = [uniqueId('p-header'), uniqueId('p-body'), uniqueId('p-key')];
    const event = (eventId: string, itemId: string) => ({ eventId, type: 'view', itemId, userId: user, sessionId: uniqueId('s'), ts: Date.now() });
    const token = await userToken(user);
    const answers = [
      await postJson(`${origin.url}/v1/events`, { events: [event(ids[0]!, 'i501')] }, { 'x-user-token': token }),
      await postJson(`${origin.url}/v1/events`, { events: [event(ids[1]!, 'i502')], userToken: token }),
      await postJson(`${origin.url}/v1/events`, { events: [event(ids[2]!, 'i503')] }, { authorization: `Bearer ${API_KEY}` }),
    ];
    for (const answer of answers) expect(await answer.json()).toEqual({ accepted: 1, duplicates: 0, degraded: [] });
    for (const id of ids) expect(await storedUser(id)).toBe(user);
    expect(await origin.service.featureStore.userHistory(user)).toEqual(['i501', 'i502', 'i503']);
  });
});
