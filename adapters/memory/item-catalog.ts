/**
 * The in-memory item catalogue: the origin fills it from Postgres (and refreshes stock), the nightly and
 * tests build it from the generated Item[]. Lookups are a Map, so rules and reasons cost no I/O per request.
 */
import type { Item } from '../../shared/catalog/types.ts';
import type { CatalogItem, ItemCatalog } from '../../core/ports/catalog.ts';

export class InMemoryItemCatalog implements ItemCatalog {
  private readonly byId: Map<string, CatalogItem>;
  /**
   * Ids in stock, kept beside byId: the rules ask for every candidate (~1,000 per slate in the nightly), and a Set
   * probe does not also read the item object (one cache miss less per candidate on a big catalogue).
   */
  private readonly inStock = new Set<string>();
  private changes = 0;

  constructor(items: readonly Item[] | readonly CatalogItem[]) {
    this.byId = new Map(items.map((item) => [item.id, { id: item.id, title: item.title, category: item.category, price: item.price, image: item.image, stock: item.stock, createdAt: item.createdAt }]));
    for (const item of this.byId.values()) if (item.stock > 0) this.inStock.add(item.id);
  }

  get(id: string): CatalogItem | undefined {
    return this.byId.get(id);
  }
  isAvailable(id: string): boolean {
    return this.inStock.has(id);
  }
  get size(): number {
    return this.byId.size;
  }
  /** Bumped by every upsert (ItemCatalog.revision). */
  get revision(): number {
    return this.changes;
  }
  /** Replaces or adds items (stock changes, new arrivals) without rebuilding. */
  upsert(items: readonly CatalogItem[]): void {
    this.changes++;
    for (const item of items) {
      this.byId.set(item.id, item);
      if (item.stock > 0) this.inStock.add(item.id);
      else this.inStock.delete(item.id);
    }
  }
}
