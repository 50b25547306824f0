/**
 * Item catalogue port for business rules and display: stock, title, category name, created-at. The service
 * loads items from Postgres into the in-memory implementation; nightly and tests build it from Item[].
 */
import type { Item } from '../../shared/catalog/types.ts';

export interface CatalogItem {
  id: string;
  title: string;
  category: string;
  price: number;
  image: string;
  stock: number;
  createdAt: number;
}

export interface ItemCatalog {
  get(id: string): CatalogItem | undefined;
  /** Known and in stock. */
  isAvailable(id: string): boolean;
  readonly size: number;
}

export class InMemoryItemCatalog implements ItemCatalog {
  private readonly byId: Map<string, CatalogItem>;

  constructor(items: readonly Item[] | readonly CatalogItem[]) {
    this.byId = new Map(items.map((item) => [item.id, { id: item.id, title: item.title, category: item.category, price: item.price, image: item.image, stock: item.stock, createdAt: item.createdAt }]));
  }

  get(id: string): CatalogItem | undefined {
    return this.byId.get(id);
  }
  isAvailable(id: string): boolean {
    return (this.byId.get(id)?.stock ?? 0) > 0;
  }
  get size(): number {
    return this.byId.size;
  }
  /** Replaces or adds items (stock changes, new arrivals) without rebuilding. */
  upsert(items: readonly CatalogItem[]): void {
    for (const item of items) this.byId.set(item.id, item);
  }
}
