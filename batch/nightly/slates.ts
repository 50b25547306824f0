/**
 * Pure conversion from pipeline answers to KV values: slates (shared/contracts/slate.ts, with the item
 * features the edge reranker needs and the cards of their items, so the edge reads one key per request) and
 * item cards. No I/O.
 */
import type { Item } from '../../shared/catalog/types.ts';
import type { RecommendedItem } from '../../shared/contracts/recommend.ts';
import { encodeSlate, type ItemCard, type Slate, type SlateEntry } from '../../shared/contracts/slate.ts';
import type { FeatureSpace } from '../../shared/features/feature-space.ts';
import { itemFeaturesOf } from '../../shared/features/encode.ts';
import { encodeSessionVector } from '../../shared/features/session-vectors.ts';

export interface VersionInfo {
  slateVersion: string;
  modelVersion: string;
  /** Epoch ms the version was computed for (also the pipeline's `now`, so a resumed run is identical). */
  at: number;
}

/**
 * `catalog` (id → item) supplies the cards the slate carries; without it the slate is card-less. `vectors`: the
 * version's session vectors (core/registry/artifacts.ts readSessionVectors); without them the slate carries none.
 */
export function slateOf(space: FeatureSpace, version: VersionInfo, items: readonly RecommendedItem[], catalog?: ReadonlyMap<string, Item>, vectors?: Int8Array): Slate {
  const entries: SlateEntry[] = items.map((item) => {
    const features = itemFeaturesOf(space, space.itemIndex(item.id), vectors);
    return { id: item.id, score: item.score, reason: item.reason, ...features };
  });
  const cards = catalog ? items.map((item) => {
    const known = catalog.get(item.id);
    return known ? itemCardOf(space, known, vectors) : undefined;
  }) : undefined;
  return encodeSlate(version, entries, cards);
}

export function itemCardOf(space: FeatureSpace, item: Item, vectors?: Int8Array): ItemCard {
  const features = itemFeaturesOf(space, space.itemIndex(item.id), vectors);
  return {
    id: item.id,
    t: item.title,
    pr: item.price,
    img: item.image,
    cat: item.category,
    f: [features.category, features.brand, features.priceBucket],
    ...(features.vector ? { v: encodeSessionVector(features.vector) } : {}),
    st: item.stock,
  };
}

/** Nearest-rank percentile of a numeric sample (p in [0, 1]). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
}
