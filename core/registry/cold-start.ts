/**
 * Cold start for items that arrived after the last training: a documented fallback that gives such an item an
 * embedding from its content, so the ANN retrieves it (and the ranker and rules see it) before the next
 * retrain. The new item's vector is the mean of the TRAINED embeddings of the items that share the most of its
 * content, tried in this order:
 *   1. same category, brand and price bucket   2. same category and brand   3. same category and price bucket
 *   4. same category   5. same brand   6. items sharing a title word (≥ 3 letters)   7. all trained items;
 * (the most specific level with at least one trained item wins). New items are appended after the trained
 * ones, so trained indices never move; their category/brand indices come from the trained vocabularies (a
 * category or brand the model never saw is 0 = unknown). Their popularity feature is the median popularity of
 * that same group: with 0 the ranker (which leans on popularity) would bury every new item, so until it has
 * events of its own a new item is ranked like a typical item of its kind. The ONNX inputs see a
 * new item's id as unknown (adapters/onnx clamps ids above the trained count to 0), its content features as is.
 * Pure: takes data, returns data (the ONNX loader applies it when it loads a version).
 */
import type { Item } from '../../shared/catalog/types.ts';
import type { FeatureSpaceData } from '../../shared/features/feature-space.ts';
import { priceBucket } from '../../shared/features/spec.ts';

export interface ExtendedSpace {
  space: FeatureSpaceData;
  /** (trained + added) × dim, row-major; the trained rows unchanged. */
  embeddings: Float32Array;
  /** How many catalogue items were appended, and the fallback level each one used (1–7, see above). */
  added: number;
  levels: number[];
}

const words = (title: string): string[] => [...new Set(title.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 3))];

/** Appends every item of `catalog` missing from `space`, embedded by the content fallback. */
export function extendWithNewItems(space: FeatureSpaceData, embeddings: Float32Array, dim: number, catalog: readonly Item[], titles: ReadonlyMap<string, string> = new Map()): ExtendedSpace {
  const trained = space.items.length;
  const known = new Set(space.items);
  const fresh = catalog.filter((item) => !known.has(item.id));
  if (fresh.length === 0) return { space, embeddings, added: 0, levels: [] };
  const categoryIndex = new Map(space.categories.map((name, i) => [name, i + 1]));
  const brandIndex = new Map(space.brands.map((name, i) => [name, i + 1]));

  // Group trained rows by each content key once; a group's mean is computed on first use.
  const groups = new Map<string, number[]>();
  const add = (key: string, row: number): void => {
    const list = groups.get(key);
    if (list) list.push(row);
    else groups.set(key, [row]);
  };
  for (let r = 0; r < trained; r++) {
    const c = space.itemCategory[r] ?? 0;
    const b = space.itemBrand[r] ?? 0;
    const p = space.itemPriceBucket[r] ?? 0;
    if (c > 0 && b > 0) add(`cbp:${c}:${b}:${p}`, r), add(`cb:${c}:${b}`, r);
    if (c > 0) add(`cp:${c}:${p}`, r), add(`c:${c}`, r);
    if (b > 0) add(`b:${b}`, r);
    for (const w of words(titles.get(space.items[r] ?? '') ?? '')) add(`w:${w}`, r);
  }
  const means = new Map<string, Float32Array>();
  const popularity = new Map<string, number>();
  const popularityOf = (rows: readonly number[], key: string): number => {
    let value = popularity.get(key);
    if (value === undefined) {
      const sorted = rows.map((r) => space.itemPopularity[r] ?? 0).sort((a, b) => a - b);
      value = sorted[Math.floor(sorted.length / 2)] ?? 0;
      popularity.set(key, value);
    }
    return value;
  };
  const meanOf = (rows: readonly number[], key: string): Float32Array => {
    const cached = means.get(key);
    if (cached) return cached;
    const v = new Float32Array(dim);
    for (const r of rows) for (let d = 0; d < dim; d++) v[d]! += embeddings[r * dim + d]!;
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += v[d]! ** 2;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dim; d++) v[d]! *= inv;
    means.set(key, v);
    return v;
  };
  const allRows = Array.from({ length: trained }, (_, r) => r);

  const out = new Float32Array((trained + fresh.length) * dim);
  out.set(embeddings.subarray(0, trained * dim));
  const next: FeatureSpaceData = {
    ...space,
    items: [...space.items],
    itemCategory: [...space.itemCategory],
    itemBrand: [...space.itemBrand],
    itemPriceBucket: [...space.itemPriceBucket],
    itemPopularity: [...space.itemPopularity],
    itemCreatedAt: [...space.itemCreatedAt],
  };
  const levels: number[] = [];
  fresh.forEach((item, n) => {
    const c = categoryIndex.get(item.category) ?? 0;
    const b = brandIndex.get(item.brand) ?? 0;
    const p = priceBucket(item.price);
    const titleKeys = words(item.title).map((w) => `w:${w}`).filter((k) => groups.has(k));
    const candidates: (string | undefined)[] = [
      c > 0 && b > 0 ? `cbp:${c}:${b}:${p}` : undefined,
      c > 0 && b > 0 ? `cb:${c}:${b}` : undefined,
      c > 0 ? `cp:${c}:${p}` : undefined,
      c > 0 ? `c:${c}` : undefined,
      b > 0 ? `b:${b}` : undefined,
      titleKeys.length > 0 ? titleKeys.join('|') : undefined,
    ];
    let level = candidates.findIndex((key) => key !== undefined && (key.includes('|') || key.startsWith('w:') ? true : groups.has(key)));
    const key = level >= 0 ? candidates[level] : undefined;
    if (key === undefined) level = 6;
    const rows = key === undefined ? allRows : key.startsWith('w:') ? [...new Set(key.split('|').flatMap((k) => groups.get(k) ?? []))] : (groups.get(key) ?? allRows);
    out.set(meanOf(rows, key ?? '*'), (trained + n) * dim);
    levels.push(level + 1);
    next.items.push(item.id);
    next.itemCategory.push(c);
    next.itemBrand.push(b);
    next.itemPriceBucket.push(p);
    next.itemPopularity.push(popularityOf(rows, key ?? '*'));
    next.itemCreatedAt.push(item.createdAt);
  });
  return { space: next, embeddings: out, added: fresh.length, levels };
}
