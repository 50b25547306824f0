/** InMemoryItemCatalog: availability follows stock through construction and upserts (its in-stock set). */
import { describe, expect, it } from 'vitest';
import { InMemoryItemCatalog } from '../../adapters/memory/item-catalog.ts';
import type { CatalogItem } from '../../core/ports/catalog.ts';

const item = (id: string, stock: number): CatalogItem => ({ id, title: id, category: 'c', price: 1, image: '', stock, createdAt: 0 });

describe('InMemoryItemCatalog availability', () => {
  it('is known and in stock, and follows stock changes and new items', () => {
    const catalog = new InMemoryItemCatalog([item('a', 3), item('b', 0), item('c', Number.NaN)]);
    expect(['a', 'b', 'c', 'unknown'].map((id) => catalog.isAvailable(id))).toEqual([true, false, false, false]);
    catalog.upsert([item('a', 0), item('b', 2), item('d', 1)]);
    expect(['a', 'b', 'c', 'd'].map((id) => catalog.isAvailable(id))).toEqual([false, true, false, true]);
    expect(catalog.get('a')?.stock).toBe(0);
    expect(catalog.size).toBe(4);
    catalog.upsert([item('a', 5)]);
    expect(catalog.isAvailable('a')).toBe(true);
  });

  it('keeps the last of duplicate ids, as get does', () => {
    const catalog = new InMemoryItemCatalog([item('a', 1), item('a', 0)]);
    expect(catalog.get('a')?.stock).toBe(0);
    expect(catalog.isAvailable('a')).toBe(false);
  });
});
