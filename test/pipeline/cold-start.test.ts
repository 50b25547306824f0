/**
 * Items that arrived after the last training are retrievable before the next retrain: the content fallback
 * (core/registry/cold-start.ts) embeds them from the trained items that share their category, brand and price
 * bucket (and their median popularity), the ONNX loader appends them to the feature space and the ANN index, and the pipeline serves them —
 * on the committed demo models, with the real ONNX sessions and usearch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryItemCatalog } from '../../adapters/memory/item-catalog.ts';
import { openServedPipeline, type ServedPipeline } from '../../adapters/serving.ts';
import { extendWithNewItems } from '../../core/registry/cold-start.ts';
import type { Item } from '../../shared/catalog/types.ts';
import type { FeatureSpaceData } from '../../shared/features/feature-space.ts';
import { encodeUserTower } from '../../shared/features/encode.ts';
import { priceBucket } from '../../shared/features/spec.ts';
import { ARTIFACTS_ROOT, demoDataset, historiesOf, NOW } from './support.ts';

describe('extendWithNewItems (pure)', () => {
  const space: FeatureSpaceData = {
    items: ['a', 'b', 'c'], categories: ['Shoes', 'Toys'], brands: ['Acme', 'Zed'], segments: [],
    itemCategory: [1, 1, 2], itemBrand: [1, 1, 2], itemPriceBucket: [priceBucket(20), priceBucket(20), priceBucket(5)],
    itemPopularity: [3, 2, 1], itemCreatedAt: [0, 0, 0], referenceTime: 0,
  };
  const emb = Float32Array.from([1, 0, 0.6, 0.8, 0, 1]);
  const item = (id: string, category: string, brand: string, price: number, title = 'x'): Item => ({ id, title, category, brand, price, stock: 1, image: '', createdAt: 5 });

  it('appends new items after the trained ones, trained rows unchanged, by the most specific content match', () => {
    const titles = new Map([['c', 'Wooden Train Set']]);
    const out = extendWithNewItems(space, emb, 2, [item('a', 'Shoes', 'Acme', 20), item('n1', 'Shoes', 'Acme', 20), item('n2', 'Hats', 'New', 9, 'Toy train deluxe'), item('n3', 'Hats', 'New', 9, 'zz')], titles);
    expect(out.added).toBe(3);
    expect(out.space.items).toEqual(['a', 'b', 'c', 'n1', 'n2', 'n3']);
    expect([...out.embeddings.slice(0, 6)]).toEqual([...emb]);
    // n1: mean of a and b (same category, brand, price bucket), normalised.
    const mean = [0.8, 0.4].map((v) => v / Math.hypot(0.8, 0.4));
    expect(out.embeddings[6]).toBeCloseTo(mean[0]!, 5);
    expect(out.embeddings[7]).toBeCloseTo(mean[1]!, 5);
    // n2: unknown category and brand → shares the title word "train" with c.
    expect([...out.embeddings.slice(8, 10)]).toEqual([0, 1]);
    expect(out.levels).toEqual([1, 6, 7]);
    // Unknown vocabularies stay 0 (the trained models' tables are not extended), popularity borrowed, own created-at.
    expect(out.space.itemCategory.slice(3)).toEqual([1, 0, 0]);
    expect(out.space.itemPopularity.slice(3)).toEqual([3, 1, 2]); // median popularity of the group each was embedded from
    expect(out.space.itemCreatedAt.slice(3)).toEqual([5, 5, 5]);
  });

  it('returns the version unchanged when the catalogue holds nothing new', () => {
    const out = extendWithNewItems(space, emb, 2, [item('b', 'Shoes', 'Acme', 20)]);
    expect(out.added).toBe(0);
    expect(out.space).toBe(space);
  });
});

describe('a new item on the demo models', () => {
  const data = demoDataset();
  const histories = historiesOf(data);
  // As in the origin: the rules' catalogue is upserted, the cold-start source is the latest catalogue read.
  let items: Item[] = [...data.items];
  const catalog = new InMemoryItemCatalog(items);
  let served: ServedPipeline;
  // A new pair of sneakers from the brand its fans buy most, priced like that brand's shoes.
  const shoes = data.items.filter((i) => i.category === 'Shoes');
  const brand = [...shoes.reduce((m, i) => m.set(i.brand, (m.get(i.brand) ?? 0) + 1), new Map<string, number>())].sort((a, b) => b[1] - a[1])[0]![0];
  const template = shoes.find((i) => i.brand === brand)!;
  const fresh: Item = { ...template, id: 'new-sneaker-1', title: `${brand} Future Runner Z1`, stock: 50, createdAt: NOW - 86_400_000 };
  const fans = [...histories.entries()].filter(([, h]) => h.filter((id) => data.items.find((i) => i.id === id)?.brand === brand).length >= 3).map(([id]) => id);

  beforeAll(async () => {
    served = await openServedPipeline({ artifactsRoot: ARTIFACTS_ROOT, catalog, coldStartItems: () => items, pollMs: 0, annCacheDir: null, settings: { explorationSlots: 0 }, log: () => undefined });
  }, 120_000);
  afterAll(async () => served?.close());

  it('is unknown to the trained version, then retrievable and recommended once the catalogue changes', async () => {
    expect(served.registry.status.lastError).toBeNull();
    expect(fans.length).toBeGreaterThan(0);
    let lease = served.registry.acquire()!;
    expect(lease.model.space.itemIndex(fresh.id)).toBe(0);
    lease.release();
    expect(await served.catalogChanged()).toBe(false); // nothing new yet: no reload

    items = [...items, fresh];
    catalog.upsert([fresh]);
    expect(await served.catalogChanged()).toBe(true);
    lease = served.registry.acquire()!;
    try {
      const { space, index, manifest } = lease.model;
      expect(space.itemIndex(fresh.id)).toBe(manifest.itemCount + 1);
      expect(lease.model.coldStartItems).toBe(1);
      // Retrieval: among a brand fan's nearest items.
      const found = [];
      for (const user of fans.slice(0, 20)) {
        const embedding = await lease.model.embedUsers([encodeUserTower(space, { history: histories.get(user) ?? [] })]);
        if ([...index.search(embedding, 500).rows].includes(space.itemIndex(fresh.id) - 1)) found.push(user);
      }
      expect(found.length).toBeGreaterThan(0);
    } finally {
      lease.release();
    }
    // Slates (the nightly's size, 100): the pipeline (ANN → rules → DLRM with the id clamped to unknown →
    // re-rank) puts it in some shoppers' slates.
    const results = await served.pipeline.recommendBatch([...histories.keys()].slice(0, 500).map((userId) => ({ userId, surface: 'home', k: 100, history: histories.get(userId) ?? [], sessionItems: [], excludeIds: [], now: NOW, explorationSlots: 0 })));
    expect(results.every((r) => r.degraded.length === 0)).toBe(true);
    expect(results.filter((r) => r.items.some((i) => i.id === fresh.id)).length).toBeGreaterThan(0);
  }, 120_000);
});
