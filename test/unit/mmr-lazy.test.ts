/**
 * The lazy-greedy mmrSelect (shared/rerank/mmr.ts) must choose exactly what the plain greedy chooses: same
 * positions, same order, on random pools with embedding similarities, ties (equal scores, duplicate vectors),
 * category caps that bind and relax, λ from 0 to 1, and NaN similarities. The plain greedy below is the version
 * the nightly's slates were computed with before the lazy one.
 */
import { describe, expect, it } from 'vitest';
import { mmrSelect, type MmrCandidate, type MmrOptions } from '../../shared/rerank/mmr.ts';
import { createRng, type Rng } from '../../shared/util/rng.ts';

function plainGreedy(pool: readonly MmrCandidate[], options: MmrOptions): number[] {
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
      capRelaxed = true;
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

/** A pool of n candidates with unit vectors (float32, like the item embeddings) and a few duplicates and ties. */
function randomCase(rng: Rng, n: number, dim: number, categories: number) {
  const vectors = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    if (i > 0 && rng.next() < 0.05) {
      const j = rng.int(i);
      vectors.copyWithin(i * dim, j * dim, (j + 1) * dim); // duplicate item vector: tied similarities
      continue;
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const v = rng.normal();
      vectors[i * dim + d] = v;
      norm += v * v;
    }
    for (let d = 0; d < dim; d++) vectors[i * dim + d] = vectors[i * dim + d]! / Math.sqrt(norm);
  }
  const pool: MmrCandidate[] = Array.from({ length: n }, (_, i) => ({
    id: `i${i}`,
    // Scores rounded to a coarse grid: many equal relevances.
    score: Math.round(rng.next() * 40) / 40,
    category: rng.int(categories),
  }));
  const similarity = (a: number, b: number): number => {
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += vectors[a * dim + d]! * vectors[b * dim + d]!;
    return dot;
  };
  return { pool, similarity };
}

describe('mmrSelect (lazy greedy) equals the plain greedy', () => {
  it('on 400 random pools with ties, caps and λ in [0, 1]', () => {
    const rng = createRng(20261127);
    let capsBound = 0;
    for (let t = 0; t < 400; t++) {
      const n = 1 + rng.int(120);
      const { pool, similarity } = randomCase(rng, n, 1 + rng.int(16), 1 + rng.int(8));
      const lambda = [0, 1, 0.5, 0.8, rng.next()][rng.int(5)]!;
      const k = 1 + rng.int(n + 5);
      const maxPerCategory = [Infinity, 1, 2, 1 + rng.int(10), 0][rng.int(5)]!;
      const options = { k, lambda, maxPerCategory, similarity };
      const expected = plainGreedy(pool, options);
      expect(mmrSelect(pool, options), `case ${t}`).toEqual(expected);
      if (maxPerCategory < k) capsBound++;
    }
    expect(capsBound).toBeGreaterThan(50);
  });

  it('calls the similarity far less often than the plain greedy on a nightly-sized pool', () => {
    const rng = createRng(7);
    const { pool, similarity } = randomCase(rng, 200, 64, 20);
    let lazyCalls = 0;
    let plainCalls = 0;
    const options = { k: 100, lambda: 0.8, maxPerCategory: 30 };
    const lazy = mmrSelect(pool, { ...options, similarity: (a, b) => (lazyCalls++, similarity(a, b)) });
    const plain = plainGreedy(pool, { ...options, similarity: (a, b) => (plainCalls++, similarity(a, b)) });
    expect(lazy).toEqual(plain);
    expect(lazyCalls).toBeLessThan(plainCalls / 2);
  });

  it('with NaN and constant similarities', () => {
    const rng = createRng(3);
    for (let t = 0; t < 50; t++) {
      const n = 1 + rng.int(40);
      const pool: MmrCandidate[] = Array.from({ length: n }, (_, i) => ({ id: `i${i}`, score: rng.int(3), category: rng.int(3) }));
      const bad = new Set(Array.from({ length: 3 }, () => rng.int(n)));
      const similarity = (a: number, b: number): number => (bad.has(a) || bad.has(b) ? Number.NaN : t % 2 === 0 ? 0.5 : (a * 7 + b * 3) % 5 / 5);
      const options = { k: n, lambda: [0, 0.7, 1][t % 3]!, maxPerCategory: 1 + (t % 4), similarity };
      expect(mmrSelect(pool, options), `case ${t}`).toEqual(plainGreedy(pool, options));
    }
  });
});
