/**
 * Personal reads at the edge need proof of identity from the site's backend (issue 12 item 1), in real
 * workerd: a user's slate — and its reasons, which name what the server remembers about them — is served only
 * with a valid X-User-Token for that user, from a page whose origin is allowed. Everything else is answered
 * like an anonymous visitor: the popular slate, reranked with the items the browser sent, with reasons naming
 * only those items. Secrets rotate: the current and the previous secret are both accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUserToken } from '../../shared/auth/user-token.ts';
import type { RecommendResponse } from '../../shared/contracts/recommend.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import { tempDir } from '../nightly/helpers.ts';
import { buildEdge, cardOf, openKv, slateOf, space, startEdge, TOKEN_SECRET, userToken, writeVersion, type RunningEdge } from './support.ts';

const V = 'vpersonal';
const NEW_SECRET = 'rotated-user-token-secret-abcdefghijklmnop';
const SHOP = 'https://shop.example';
/** What the nightly remembered about u5: their slate's reasons name their browsing history. */
const U5_SLATE = ['i11', 'i12', 'i13', 'i14', 'i15', 'i16'];
const U5_REASON = 'Because you viewed Private Purchase X';
const POPULAR = ['i502', 'i501', 'i500', 'i17', 'i18', 'i19'];
/** An item in no slate, of the same category as the top popular item: a browser-sent view the rerank can cite. */
const VIEWED = Array.from({ length: 2000 }, (_, n) => `i${n + 40}`).find((id) => space.category(space.itemIndex(id)) === space.category(space.itemIndex('i502'))) ?? 'i40';
let edge: RunningEdge;
let kv: KvWriter;

beforeAll(async () => {
  buildEdge();
  const persistTo = await tempDir('personal-kv');
  kv = await openKv(persistTo);
  await writeVersion(
    kv,
    V,
    [
      [{ kind: 'user', id: 'u5' }, slateOf(V, U5_SLATE, Date.now(), U5_REASON)],
      [{ kind: 'user', id: 'u6' }, slateOf(V, ['i21', 'i22'], Date.now(), 'Because you viewed Something Of u6')],
      [{ kind: 'popular' }, slateOf(V, POPULAR, Date.now(), 'Popular right now')],
    ],
    [...U5_SLATE, ...POPULAR, 'i21', 'i22', VIEWED].map((id) => [id, cardOf(id)]),
  );
  // No origin: every answer must come from KV (a personal one can only be the user's own slate).
  edge = await startEdge(persistTo, { ORIGIN_URL: 'http://127.0.0.1:9', ORIGIN_TIMEOUT_MS: '100', USER_TOKEN_SECRET: NEW_SECRET, USER_TOKEN_SECRET_PREVIOUS: TOKEN_SECRET, ALLOWED_ORIGINS: SHOP });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
  await kv?.close();
});

async function ask(query: string, headers: Record<string, string> = {}): Promise<{ response: Response; json: RecommendResponse }> {
  const response = await fetch(`${edge.url}/v1/recommendations?${query}`, { headers });
  return { response, json: (await response.json()) as RecommendResponse };
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function expectAnonymous(json: RecommendResponse, because: string): void {
  expect(json.path).toBe('kv-popular-slate');
  expect(json.degraded).toEqual([because]);
  const ids = json.items.map((i) => i.id);
  for (const id of U5_SLATE) expect(ids).not.toContain(id);
  for (const item of json.items) expect(item.reason).not.toContain('Private Purchase');
}

describe('personal reads need a user token', () => {
  it("does not serve another user's slate without a token: the anonymous answer, flagged", async () => {
    const { response, json } = await ask('user=u5&k=4');
    expect(response.status).toBe(200);
    expectAnonymous(json, 'user-token-missing');
    expect(json.items.map((i) => i.id)).toEqual(POPULAR.slice(0, 4));
    expect(response.headers.get('access-control-allow-origin')).toBe('*'); // nothing private in it
  });

  it("gives the anonymous answer for an expired, forged, malformed, too long-lived or other user's token", async () => {
    const cases: [string, string][] = [
      [await signUserToken(NEW_SECRET, 'u5', nowSeconds() - 1), 'user-token-expired'],
      [await signUserToken('an-attacker-guessed-secret-0123456789', 'u5', nowSeconds() + 600), 'user-token-invalid'],
      [await signUserToken(NEW_SECRET, 'u6', nowSeconds() + 600), 'user-token-invalid'], // u6's token, asking for u5
      [await signUserToken(NEW_SECRET, 'u5', nowSeconds() + 3 * 86_400), 'user-token-invalid'],
      [(await signUserToken(NEW_SECRET, 'u5', nowSeconds() + 600)).replace(/\.(\d+)\./, (_, exp: string) => `.${Number(exp) + 3600}.`), 'user-token-invalid'],
      ['v1.9999999999.AAAA', 'user-token-invalid'],
      ['garbage', 'user-token-invalid'],
    ];
    for (const [token, because] of cases) expectAnonymous((await ask('user=u5&k=4', { 'x-user-token': token })).json, because);
  });

  it('serves the slate to its user with a valid token, signed with the current or the previous secret', async () => {
    for (const token of [await signUserToken(NEW_SECRET, 'u5', nowSeconds() + 600), await userToken('u5')]) {
      const { response, json } = await ask('user=u5&k=4', { 'x-user-token': token });
      expect(json).toMatchObject({ path: 'kv-slate', degraded: [] });
      expect(json.items.map((i) => i.id)).toEqual(U5_SLATE.slice(0, 4));
      expect(json.items[0]?.reason).toBe(U5_REASON);
      expect(response.headers.get('access-control-allow-origin')).toBeNull(); // no Origin: same-origin page or server
      expect(response.headers.get('cache-control')).toBe('private, no-store');
    }
  });

  it('names only items the browser sent in the reasons of an anonymous answer', async () => {
    const recent = [VIEWED, 'i17']; // sent by the browser; VIEWED is in no slate, its card names it
    const { json } = await ask(`user=u5&k=6&recent=${recent.join(',')}`);
    expect(json.path).toBe('kv-popular-slate');
    const sentTitles = recent.map((id) => `Because you viewed Item ${id}`);
    for (const item of json.items) expect(['Popular right now', ...sentTitles]).toContain(item.reason);
    expect(json.items.some((i) => sentTitles.includes(i.reason))).toBe(true); // the session rerank did name one
  });

  it('answers pages of origins not in ALLOWED_ORIGINS anonymously, even with a valid token; allowed pages get their origin echoed', async () => {
    const token = await userToken('u5');
    const evil = await ask('user=u5&k=4', { 'x-user-token': token, origin: 'https://evil.example' });
    expectAnonymous(evil.json, 'origin-not-allowed');
    expect(evil.response.headers.get('access-control-allow-origin')).toBe('*');

    const shop = await ask('user=u5&k=4', { 'x-user-token': token, origin: SHOP });
    expect(shop.json.path).toBe('kv-slate');
    expect(shop.response.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(shop.response.headers.get('vary')).toContain('Origin');

    const preflight = await fetch(`${edge.url}/v1/recommendations?user=u5`, { method: 'OPTIONS', headers: { origin: SHOP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-user-token' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-user-token');
  });

  it('never accepts the token in the URL (where logs and Referer headers would keep it)', async () => {
    const { response } = await ask(`user=u5&k=4&token=${encodeURIComponent(await userToken('u5'))}`);
    expect(response.status).toBe(400);
  });
});
