/**
 * Maximal Marginal Relevance with category caps. Greedy: each step takes the candidate maximising
 *   λ · relevance − (1 − λ) · max similarity to what is already chosen,
 * skipping candidates whose category already holds `maxPerCategory` items. Relevance is min-max normalised
 * over the pool so λ means the same whatever the score scale (click probabilities, cosine similarities).
 * When the caps leave too few items, the cap is relaxed rather than returning fewer than k.
 */
export interface MmrCandidate {
  id: string;
  score: number;
  category: number;
}

export interface MmrOptions {
  k: number;
  /** 1 = pure relevance, 0 = pure diversity. */
  lambda: number;
  /** At most this many items per category (Infinity = no cap). */
  maxPerCategory: number;
  /** Similarity in [0, 1] (or [-1, 1]) between two candidates, by position in the pool. */
  similarity: (a: number, b: number) => number;
}

/** Returns positions into `pool`, in the order chosen. */
export function mmrSelect(pool: readonly MmrCandidate[], options: MmrOptions): number[] {
  const k = Math.min(options.k, pool.length);
  if (k <= 0) return [];
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of pool) {
    lo = Math.min(lo, c.score);
    hi = Math.max(hi, c.score);
  }
  const span = hi - lo || 1;
  const relevance = pool.map((c) => (c.score - lo) / span);
  const maxSim = new Float64Array(pool.length).fill(-Infinity);
  const taken = new Uint8Array(pool.length);
  const perCategory = new Map<number, number>();
  const chosen: number[] = [];
  for (let capRelaxed = false; chosen.length < k; ) {
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < pool.length; i++) {
      if (taken[i]) continue;
      const category = pool[i]!.category;
      if (!capRelaxed && (perCategory.get(category) ?? 0) >= options.maxPerCategory) continue;
      const redundancy = chosen.length === 0 ? 0 : maxSim[i]!;
      const value = options.lambda * relevance[i]! - (1 - options.lambda) * redundancy;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    if (best < 0) {
      if (capRelaxed) break;
      capRelaxed = true; // every remaining candidate is capped: fill the rest by MMR alone
      continue;
    }
    taken[best] = 1;
    chosen.push(best);
    const category = pool[best]!.category;
    perCategory.set(category, (perCategory.get(category) ?? 0) + 1);
    for (let i = 0; i < pool.length; i++) if (!taken[i]) maxSim[i] = Math.max(maxSim[i]!, options.similarity(i, best));
  }
  return chosen;
}

/** Category cap for a slate of k from a share (e.g. 0.4 → at most 4 of 10 from one category). */
export function categoryCapFor(k: number, share: number): number {
  if (share >= 1) return Infinity;
  return Math.max(1, Math.ceil(k * share));
}

/** A similarity usable without embeddings (edge, nightly fallbacks): same category 0.7, same brand +0.3. */
export function attributeSimilarity(a: { category: number; brand: number }, b: { category: number; brand: number }): number {
  return (a.category === b.category ? 0.7 : 0) + (a.brand === b.brand ? 0.3 : 0);
}
