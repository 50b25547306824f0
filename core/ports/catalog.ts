/**
 * Item catalogue port for business rules and display: stock, title, category name, created-at. The one
 * implementation is in memory (adapters/memory/item-catalog.ts): the service loads it from Postgres, the
 * nightly and tests build it from Item[].
 */

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
  /**
   * Changes whenever any item's availability may have changed; callers may cache isAvailable answers while it
   * stays the same (the filter stage does, by feature-space index). Absent: never cached.
   */
  readonly revision?: number;
}
