/**
 * The closed loop on real parts — PostgreSQL, Redis, the edge in workerd, the origin, PyTorch training, the
 * nightly CLI into local KV:
 *   shop history in the event store → a brand-new shopper's views posted through the edge (with a user token)
 *   → `npm run cycle` (train on the event store → gate → nightly → pointer flip) → the edge serves that shopper a
 *   personal slate whose reasons name items they viewed;
 *   an item added to the catalogue after training shows up in some slate at the next nightly, before any retrain;
 *   an erased shopper gets no slate.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../shared/catalog/generator.ts';
import type { Item } from '../../shared/catalog/types.ts';
import { RecommendResponseSchema, type RecommendResponse } from '../../shared/contracts/recommend.ts';
import { SLATE_POINTER_KEY } from '../../shared/kv/keys.ts';
import { buildEdge, NAMESPACE_ID, startEdge, userToken, type RunningEdge } from '../edge/support.ts';
import { dumpLocalKv } from '../nightly/helpers.ts';
import { API_KEY, createTestDatabase, seedDatabase, deleteRedisPrefix, REDIS_URL, startOrigin, type RunningOrigin } from '../origin/support.ts';

const root = join(import.meta.dirname, '..', '..');
const prefix = `loop:${randomBytes(4).toString('hex')}:`;
const shop = generateDataset({ items: 300, users: 120, endTime: Date.now() - 3_600_000, days: 30 });
const shopper = `new-${randomBytes(4).toString('hex')}`;
let db: { url: string; drop: () => Promise<void> };
let origin: RunningOrigin;
let edge: RunningEdge;
let base = '';

const env = (): NodeJS.ProcessEnv => ({ ...process.env, DATABASE_URL: db.url, REDIS_URL, REDIS_KEY_PREFIX: prefix });
const nightlyArgs = (): string[] => ['--kv', 'local', '--persist-to', join(base, 'kv'), '--namespace-id', NAMESPACE_ID, '--users', 'store', '--database-url', db.url, '--shards', '2', '--no-progress', '--state-dir', join(base, 'nightly-state')];
function run(script: string, args: string[]): string {
  const result = spawnSync(process.execPath, [join(root, script), ...args], { cwd: root, encoding: 'utf8', env: env() });
  if (result.status !== 0) throw new Error(`${script} exited with ${result.status}:\n${result.stderr.slice(-4000)}\n${result.stdout.slice(-2000)}`);
  return result.stdout;
}
/** As the widget asks: the signed-in user's token, and the recent views it keeps in localStorage. */
async function recommendations(user: string, recent: readonly string[] = []): Promise<RecommendResponse> {
  const query = new URLSearchParams({ user, k: '8', ...(recent.length > 0 ? { recent: recent.join(',') } : {}) });
  const response = await fetch(`${edge.url}/v1/recommendations?${query}`, { headers: { 'x-user-token': await userToken(user) } });
  return RecommendResponseSchema.parse(await response.json());
}
/** The edge reads the slate pointer with a short cache: ask until the answer comes from the wanted version. */
async function slateFrom(user: string, version: string, recent: readonly string[] = []): Promise<RecommendResponse> {
  let last: RecommendResponse | undefined;
  for (let attempt = 0; attempt < 60; attempt++) {
    last = await recommendations(user, recent);
    if (last.slateVersion === version) return last;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return last!;
}
async function liveSlates(): Promise<{ version: string; slates: Map<string, string> }> {
  const all = await dumpLocalKv(join(base, 'kv'), NAMESPACE_ID);
  const { version } = JSON.parse(all.get(SLATE_POINTER_KEY) ?? '{}') as { version: string };
  return { version, slates: new Map([...all].filter(([key]) => key.startsWith(`slate:${version}:`))) };
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'reco-loop-'));
  buildEdge();
  db = await createTestDatabase();
  await seedDatabase(db.url, shop);
  origin = await startOrigin({ DATABASE_URL: db.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, MODELS_DIR: join(base, 'artifacts'), MODEL_POLL_MS: '500', SEED_CATALOG: 'false', USER_TOKEN_SECRET: 'test-user-token-secret-0123456789abcdef' });
  edge = await startEdge(join(base, 'kv'), { ORIGIN_URL: origin.url, ORIGIN_TIMEOUT_MS: '3000', ORIGIN_API_KEY: API_KEY });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
  await origin?.close();
  await db?.drop();
  await deleteRedisPrefix(prefix);
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('closed loop: edge events → cycle → edge slates', () => {
  // The shopper looks at the best sellers of one category, in one session, a few minutes ago.
  const category = shop.categories.find((c) => shop.items.filter((i) => i.category === c).length >= 20)!;
  const popularity = new Map<string, number>();
  for (const e of shop.interactions) popularity.set(e.itemId, (popularity.get(e.itemId) ?? 0) + 1);
  const viewed = shop.items.filter((i) => i.category === category).sort((a, b) => (popularity.get(b.id) ?? 0) - (popularity.get(a.id) ?? 0)).slice(0, 6);
  let trained = '';

  it('a brand-new shopper\'s views posted through the edge reach the event store', async () => {
    const now = Date.now();
    const events = viewed.map((item, n) => ({ eventId: `${shopper}-${n}`, type: 'view', itemId: item.id, userId: shopper, sessionId: `${shopper}-s1`, ts: now - (viewed.length - n) * 30_000 }));
    const response = await fetch(`${edge.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user-token': await userToken(shopper) }, body: JSON.stringify({ events }) });
    expect(response.status).toBe(202);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      let stored = 0;
      for (let attempt = 0; attempt < 200 && stored < events.length; attempt++) {
        stored = Number((await client.query('SELECT count(*) AS n FROM events WHERE user_id = $1', [shopper])).rows[0].n);
        if (stored < events.length) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(stored).toBe(events.length);
    } finally {
      await client.end();
    }
  }, 60_000);

  it('npm run cycle trains on the event store and the edge then serves the shopper a personal slate explained by their views', async () => {
    const out = run('scripts/cycle.ts', ['--artifacts', join(base, 'artifacts'), '--epochs', '2', '--dim', '16', `--nightly=${nightlyArgs().join(' ')}`]);
    const summary = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { decision: string; serving: string };
    expect(summary.decision).toBe('published');
    trained = summary.serving;
    const { version, slates } = await liveSlates();
    expect(slates.has(`slate:${version}:user:${shopper}`)).toBe(true);

    const answer = await slateFrom(shopper, version, viewed.map((i) => i.id));
    expect(answer).toMatchObject({ servedBy: 'edge', path: 'kv-slate', modelVersion: trained });
    const titles = viewed.map((i) => i.title);
    const explained = answer.items.filter((i) => titles.some((t) => i.reason === `Because you viewed ${t}`));
    expect(explained.length).toBeGreaterThan(0);
    for (const item of answer.items) expect(viewed.map((v) => v.id)).not.toContain(item.id);
  }, 240_000);

  it('an item added after training shows up in some slate at the next nightly, before any retrain', async () => {
    // A new product like the category's best seller (same brand, price, category), added through the catalogue API.
    const template = viewed[0]!;
    const fresh: Item = { ...template, id: `fresh-${randomBytes(3).toString('hex')}`, title: `${template.brand} Brand New Edition`, stock: 25, createdAt: Date.now() };
    const put = await fetch(`${origin.url}/v1/items`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY }, body: JSON.stringify({ items: [{ id: fresh.id, title: fresh.title, category: fresh.category, brand: fresh.brand, price: fresh.price, stock: fresh.stock, createdAt: fresh.createdAt }] }) });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ stored: 1, rejected: [] });
    // The origin (which followed the cycle's pointer flip) hears the catalogue change and embeds the item at once.
    const knows = (): boolean => {
      const lease = origin.service.models.acquire();
      try {
        return lease !== null && lease.model.version === trained && lease.model.space.itemIndex(fresh.id) > 0;
      } finally {
        lease?.release();
      }
    };
    for (let attempt = 0; attempt < 100 && !knows(); attempt++) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(knows()).toBe(true);
    run('scripts/nightly.ts', [...nightlyArgs(), '--artifacts', join(base, 'artifacts')]);
    const { slates } = await liveSlates();
    const holding = [...slates].filter(([, value]) => value.includes(`"${fresh.id}"`)).map(([key]) => key);
    expect(holding.length).toBeGreaterThan(0);
    // Still the model trained before the item existed.
    expect((JSON.parse((await dumpLocalKv(join(base, 'kv'), NAMESPACE_ID)).get(SLATE_POINTER_KEY) ?? '{}') as { modelVersion: string }).modelVersion).toBe(trained);
  }, 120_000);

  it('an erased shopper gets no slate', async () => {
    const before = await liveSlates();
    const victim = shop.users.map((u) => u.id).find((id) => before.slates.has(`slate:${before.version}:user:${id}`))!;
    expect(victim).toBeDefined();
    const erased = await fetch(`${origin.url}/v1/users/${victim}`, { method: 'DELETE', headers: { 'x-api-key': API_KEY } });
    expect(erased.status).toBeLessThan(300);
    run('scripts/nightly.ts', [...nightlyArgs(), '--artifacts', join(base, 'artifacts')]);
    const after = await liveSlates();
    expect(after.version).not.toBe(before.version);
    expect(after.slates.has(`slate:${after.version}:user:${victim}`)).toBe(false);
    await slateFrom(shopper, after.version); // the edge has moved to the new version
    const answer = await recommendations(victim);
    expect(answer.path).not.toBe('kv-slate');
  }, 120_000);
});
