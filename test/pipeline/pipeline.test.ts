/** The model pipeline on the real demo ONNX models: quality sanity, rules, cold start, micro-batching, exploration. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InMemoryItemCatalog } from '../../adapters/memory/item-catalog.ts';
import { openServedPipeline, type ServedPipeline } from '../../adapters/serving.ts';
import type { PipelineRequest, PipelineResult } from '../../core/pipeline/types.ts';
import { violatesRules } from '../../shared/rerank/rules.ts';
import { encodeUserTower } from '../../shared/features/encode.ts';
import { createRng } from '../../shared/util/rng.ts';
import { ARTIFACTS_ROOT, demoDataset, historiesOf, NOW } from './support.ts';

const data = demoDataset();
const catalog = new InMemoryItemCatalog(data.items);
const histories = historiesOf(data);
const users = [...histories.keys()].slice(0, 200);
const segmentOf = new Map(data.users.map((u) => [u.id, u.segment]));
let origin: ServedPipeline;

const request = (partial: Partial<PipelineRequest>): PipelineRequest => ({ surface: 'home', k: 10, history: [], sessionItems: [], excludeIds: [], now: NOW, explorationSlots: 0, ...partial });

beforeAll(async () => {
  origin = await openServedPipeline({ artifactsRoot: ARTIFACTS_ROOT, catalog, pollMs: 0, annCacheDir: null, rng: createRng(5), log: () => undefined });
  expect(origin.registry.status.lastError).toBeNull();
});
afterAll(async () => origin?.close());

/** The category's most popular items: what a real shopper of that category has seen (rare items have weak embeddings). */
function popularIn(category: string, n: number): string[] {
  const space = origin.registry.fallbackSpace()!.space;
  return data.items.filter((i) => i.category === category).sort((a, b) => space.popularity(space.itemIndex(b.id)) - space.popularity(space.itemIndex(a.id))).slice(0, n).map((i) => i.id);
}

describe('personal recommendations', () => {
  it('retrieval for a one-category history concentrates on that category (≥ 3× its catalogue share)', async () => {
    const lease = origin.registry.acquire()!;
    try {
      const { space, index } = lease.model;
      for (const category of ['Shoes', 'Baby', 'Kitchen']) {
        const history = popularIn(category, 15);
        const embedding = await lease.model.embedUsers([encodeUserTower(space, { history })]);
        const rows = [...index.search(embedding, 1000).rows];
        const c = space.data.categories.indexOf(category) + 1;
        const share = rows.filter((r) => space.category(r + 1) === c).length / rows.length;
        const base = space.data.itemCategory.filter((x) => x === c).length / space.itemCount;
        expect(share).toBeGreaterThan(3 * base);
      }
    } finally {
      lease.release();
    }
  });

  it('personal slates are personal: explained by the history, different per visitor and from the popular slate', async () => {
    const shoes = await origin.pipeline.recommend(request({ userId: 'shoe-fan', history: popularIn('Shoes', 15) }));
    const baby = await origin.pipeline.recommend(request({ userId: 'baby-fan', history: popularIn('Baby', 15) }));
    const popular = await origin.pipeline.recommend(request({ sessionId: 'anon' }));
    expect(shoes.source).toBe('personal');
    expect(shoes.degraded).toEqual([]);
    const ids = (r: PipelineResult) => r.items.map((i) => i.id);
    const overlap = (a: string[], b: string[]) => a.filter((id) => b.includes(id)).length;
    // The demo DLRM leans on popularity (see docs/pipeline.md), so slates share items; they must still differ.
    expect(overlap(ids(shoes), ids(baby))).toBeLessThan(8);
    expect(overlap(ids(shoes), ids(popular))).toBeLessThan(8);
    // Retrieval order alone is strongly personal.
    const retrievalOnly = { dlrmWeight: 0 };
    const shoesR = await origin.pipeline.recommend(request({ userId: 'shoe-fan', history: popularIn('Shoes', 15), settings: retrievalOnly }));
    const babyR = await origin.pipeline.recommend(request({ userId: 'baby-fan', history: popularIn('Baby', 15), settings: retrievalOnly }));
    expect(overlap(ids(shoesR), ids(babyR))).toBeLessThan(3);
    for (const stage of ['features', 'user_tower', 'ann', 'rules', 'dlrm', 'rerank']) expect(shoes.stageMs[stage]).toBeGreaterThanOrEqual(0);
    // Every "because you viewed" names an item of the visitor's history.
    const titles = new Set(popularIn('Shoes', 15).map((id) => catalog.get(id)?.title));
    for (const item of shoes.items) if (item.reason.startsWith('Because you viewed ')) expect(titles.has(item.reason.slice('Because you viewed '.length))).toBe(true);
  });

  it('the default category cap (40% of k) holds', async () => {
    const shoes = popularIn('Shoes', 15);
    const result = await origin.pipeline.recommend(request({ userId: 'shoe-fan', history: shoes }));
    const perCategory = new Map<string, number>();
    for (const item of result.items) perCategory.set(item.category ?? '', (perCategory.get(item.category ?? '') ?? 0) + 1);
    expect(result.items).toHaveLength(10);
    expect(Math.max(...perCategory.values())).toBeLessThanOrEqual(4);
  });

  it('never returns out-of-stock, purchased, excluded or duplicate items, and respects k (property)', async () => {
    const purchased = new Map<string, string[]>();
    for (const e of data.interactions) if (e.type === 'purchase') purchased.set(e.userId, [...(purchased.get(e.userId) ?? []), e.itemId]);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...users),
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.integer({ min: 0, max: data.items.length - 1 }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 3 }),
        async (userId, k, excludedPositions, slots) => {
          const bought = purchased.get(userId) ?? [];
          const excludeIds = [...bought, ...excludedPositions.map((p) => data.items[p]!.id)];
          const result = await origin.pipeline.recommend(request({ userId, segment: segmentOf.get(userId), k, history: histories.get(userId) ?? [], excludeIds, explorationSlots: slots }));
          const rules = { excluded: new Set(excludeIds), isAvailable: (id: string) => catalog.isAvailable(id) };
          expect(violatesRules(result.items.map((i) => i.id), rules, k)).toBeNull();
          expect(result.items.length).toBe(k);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('cold start', () => {
  it('anonymous visitors get popular items, flagged no-history, never an error', async () => {
    const result = await origin.pipeline.recommend(request({ sessionId: 'anon' }));
    expect(result.source).toBe('popular');
    expect(result.degraded).toContain('no-history');
    expect(result.items).toHaveLength(10);
    expect(result.items.every((i) => i.reason.startsWith('Popular in'))).toBe(true);
  });
  it('unknown ids are ignored; a segment gives segment results', async () => {
    const result = await origin.pipeline.recommend(request({ userId: 'new-user', segment: data.users[0]!.segment, history: ['not-an-item'] }));
    expect(result.source).toBe('segment');
    expect(result.items).toHaveLength(10);
  });
  it('session items without history take the session path', async () => {
    const session = data.items.filter((i) => i.category === 'Baby').slice(0, 3).map((i) => i.id);
    const result = await origin.pipeline.recommend(request({ sessionId: 's1', sessionItems: session }));
    expect(result.source).toBe('session');
    expect(result.items.map((i) => i.id).some((id) => session.includes(id))).toBe(false);
  });
});

describe('micro-batching', () => {
  it('concurrent requests share runs and give the same answers as one at a time', async () => {
    const requests = users.slice(0, 16).map((userId) => request({ userId, segment: segmentOf.get(userId), history: histories.get(userId) ?? [] }));
    const sequential: PipelineResult[] = [];
    for (const r of requests) sequential.push(await origin.pipeline.recommend(r));
    const before = origin.pipeline.batchSizes.length;
    const concurrent = await Promise.all(requests.map((r) => origin.pipeline.recommend(r)));
    const sizes = origin.pipeline.batchSizes.slice(before);
    expect(sizes.length).toBeLessThan(requests.length);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    concurrent.forEach((result, i) => {
      expect(result.items.map((x) => x.id)).toEqual(sequential[i]!.items.map((x) => x.id));
      result.items.forEach((x, j) => expect(x.score).toBeCloseTo(sequential[i]!.items[j]!.score, 4));
    });
    const batch = await origin.pipeline.recommendBatch(requests);
    batch.forEach((result, i) => expect(result.items.map((x) => x.id)).toEqual(sequential[i]!.items.map((x) => x.id)));
  });
});

describe('exploration', () => {
  it('is reproducible with a seeded RNG, uses item stats, and is off when slots = 0', async () => {
    const stats = async (ids: readonly string[]) => new Map(ids.map((id, n) => [id, { impressions: 100, clicks: n % 7 === 0 ? 60 : 1 }]));
    const make = () => openServedPipeline({ artifactsRoot: ARTIFACTS_ROOT, catalog, pollMs: 0, annCacheDir: null, rng: createRng(42), itemStats: stats, log: () => undefined });
    const [a, b] = await Promise.all([make(), make()]);
    try {
      const userId = users[3]!;
      const r = request({ userId, history: histories.get(userId) ?? [], explorationSlots: 2 });
      const ra = await a.pipeline.recommend(r);
      const rb = await b.pipeline.recommend(r);
      expect(ra.items.map((i) => i.id)).toEqual(rb.items.map((i) => i.id));
      expect(ra.items.filter((i) => i.reason === 'Something new to try')).toHaveLength(2);
      const off = await a.pipeline.recommend({ ...r, explorationSlots: 0 });
      expect(off.items.some((i) => i.reason === 'Something new to try')).toBe(false);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
