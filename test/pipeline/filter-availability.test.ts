/**
 * The filter stage's availability cache (core/pipeline/stages/filter.ts): answers remembered by item index must
 * follow the catalogue — a stock change (upsert → new revision) or another catalogue object is seen at once — and
 * the kept candidates equal the uncached rules' (shared/rerank/rules.ts with isAvailable by id).
 */
import { describe, expect, it } from 'vitest';
import { InMemoryItemCatalog } from '../../adapters/memory/item-catalog.ts';
import { filterCandidates } from '../../core/pipeline/stages/filter.ts';
import type { ItemCatalog } from '../../core/ports/catalog.ts';
import { buildFeatureSpace, FeatureSpace } from '../../shared/features/feature-space.ts';
import { applyRules } from '../../shared/rerank/rules.ts';

const items = Array.from({ length: 8 }, (_, i) => ({ id: `sku-${i + 1}`, title: `t${i}`, category: 'c', brand: 'b', price: 1, stock: i % 3 === 0 ? 0 : 2, image: '', createdAt: 0 }));
const space = new FeatureSpace(buildFeatureSpace(items, ['all'], [], 0));
// Indices 1..8, a duplicate, an unknown index (0 → id '') and one past the catalogue.
const candidates = [3, 1, 2, 2, 8, 0, 5, 9, 4, 6, 7].map((index) => ({ index, retrievalScore: 1 / (index + 1) }));
const keptIds = (catalog: ItemCatalog, excluded = new Set<string>()) => filterCandidates(space, catalog, candidates, excluded).map((c) => c.id);
const uncached = (catalog: ItemCatalog, excluded = new Set<string>()) =>
  applyRules(candidates.map((c) => ({ ...c, id: space.itemId(c.index) ?? '' })), { excluded, isAvailable: (id) => catalog.isAvailable(id) }).kept.map((c) => c.id);

describe('filter stage availability by index', () => {
  it('keeps what the uncached rules keep, and sees stock changes at once', () => {
    const catalog = new InMemoryItemCatalog(items);
    expect(keptIds(catalog)).toEqual(uncached(catalog));
    expect(keptIds(catalog)).toEqual(['sku-3', 'sku-2', 'sku-8', 'sku-5', 'sku-6']);
    expect(keptIds(catalog)).toEqual(['sku-3', 'sku-2', 'sku-8', 'sku-5', 'sku-6']); // from the cache
    catalog.upsert([{ ...items[2]!, stock: 0 }, { ...items[0]!, stock: 5 }]); // sku-3 sold out, sku-1 back in stock
    expect(keptIds(catalog)).toEqual(['sku-1', 'sku-2', 'sku-8', 'sku-5', 'sku-6']);
    expect(keptIds(catalog)).toEqual(uncached(catalog));
    expect(keptIds(catalog, new Set(['sku-2']))).toEqual(uncached(catalog, new Set(['sku-2'])));
  });

  it('does not mix two catalogues of one feature space', () => {
    const a = new InMemoryItemCatalog(items);
    const b = new InMemoryItemCatalog(items.map((item) => ({ ...item, stock: 1 })));
    expect(keptIds(a)).toEqual(uncached(a));
    expect(keptIds(b)).toEqual(['sku-3', 'sku-1', 'sku-2', 'sku-8', 'sku-5', 'sku-4', 'sku-6', 'sku-7']);
    expect(keptIds(a)).toEqual(uncached(a));
  });

  it('asks a catalogue without a revision every time', () => {
    let stocked = true;
    const live: ItemCatalog = { get: () => undefined, isAvailable: (id) => stocked && id !== '', size: 8 };
    expect(keptIds(live)).toHaveLength(8);
    stocked = false;
    expect(keptIds(live)).toEqual([]);
  });
});
