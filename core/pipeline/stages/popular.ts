/**
 * Stage: popular candidates, the candidate source for visitors without a personal path (and the fallback
 * when retrieval fails): the feature space's items by popularity, scored by popularity.
 */
import type { RankCandidate } from '../../../shared/features/encode.ts';
import type { FeatureSpace } from '../../../shared/features/feature-space.ts';

const popularCache = new WeakMap<FeatureSpace, Int32Array>();

/** Item indices by popularity (desc), computed once per feature space. */
export function popularIndices(space: FeatureSpace): Int32Array {
  let order = popularCache.get(space);
  if (!order) {
    const indices = Array.from({ length: space.itemCount }, (_, i) => i + 1);
    indices.sort((a, b) => space.popularity(b) - space.popularity(a) || a - b);
    order = Int32Array.from(indices);
    popularCache.set(space, order);
  }
  return order;
}

/** The most popular `wanted` items plus as many as the rules may remove (the visitor's excluded items). */
export function popularCandidates(space: FeatureSpace, wanted: number, excludedCount: number): RankCandidate[] {
  const order = popularIndices(space);
  const n = Math.min(order.length, wanted + excludedCount);
  return Array.from({ length: n }, (_, j) => ({ index: order[j]!, retrievalScore: 0 }));
}

/** Popularity of each candidate relative to the most popular of them (the score when nothing ranks them). */
export function popularityScores(space: FeatureSpace, candidates: readonly RankCandidate[]): Float32Array {
  const max = Math.max(1, ...candidates.map((c) => space.popularity(c.index)));
  return Float32Array.from(candidates, (c) => space.popularity(c.index) / max);
}
