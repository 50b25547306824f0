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

/**
 * Returns positions into `pool`, in the order chosen.
 *
 * Lazy greedy, exactly equal to the plain greedy (each step: scan every remaining candidate, update every
 * remaining max-similarity with the item just chosen; test/unit/mmr-lazy.test.ts compares both): a candidate's
 * max-similarity only grows as items are chosen, so a value computed against the first c chosen items is an upper
 * bound of its current value (IEEE rounding is monotonic). Each step refreshes only the candidate with the highest
 * bound (ties: lowest position, as the plain scan) until that one is fresh, then takes it. Far fewer similarity
 * calls (the nightly's dominant cost: 100 picks from a pool of 200, 64-dim dot products), and the highest bound
 * comes from a binary heap rather than a scan of the pool at every refresh.
 */
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
  const n = pool.length;
  const { lambda, similarity, maxPerCategory } = options;
  const relevance = new Float64Array(n);
  /** The candidate's MMR value as of the chosen items it has seen: an upper bound of its current value. */
  const bound = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    relevance[i] = (pool[i]!.score - lo) / span;
    bound[i] = lambda * relevance[i]! - (1 - lambda) * 0;
  }
  const maxSim = new Float64Array(n).fill(-Infinity);
  /** How many chosen items maxSim[i] covers. */
  const seen = new Int32Array(n);
  /** 1 = taken, 2 = its category is full (set aside until the cap is relaxed). */
  const out = new Uint8Array(n).fill(maxPerCategory <= 0 ? 2 : 0);
  const perCategory = new Map<number, number>();
  const chosen: number[] = [];
  const heap = new BoundHeap(bound);
  /** Candidates taken off the heap because their category was full: back on it when the cap is relaxed. */
  const capped: number[] = [];
  let capRelaxed = false;
  const eligible = (i: number): boolean => out[i] === 0 || (out[i] === 2 && capRelaxed);
  const refill = (): void => {
    heap.clear();
    capped.length = 0;
    for (let i = 0; i < n; i++) {
      if (eligible(i)) heap.push(i);
      else if (out[i] === 2) capped.push(i);
    }
  };
  refill();
  while (chosen.length < k) {
    const c = chosen.length;
    let best = -1;
    while (heap.size > 0) {
      const top = heap.peek();
      if (!eligible(top)) {
        heap.pop();
        capped.push(top); // its category filled up while it waited
        continue;
      }
      if (seen[top] === c) {
        best = top;
        break;
      }
      let m = maxSim[top]!;
      for (let j = seen[top]!; j < c; j++) m = Math.max(m, similarity(top, chosen[j]!));
      maxSim[top] = m;
      seen[top] = c;
      bound[top] = lambda * relevance[top]! - (1 - lambda) * m;
      heap.topDecreased(); // a bound only falls (or turns NaN: never taken, dropped by the heap)
    }
    if (best < 0) {
      if (capRelaxed) break;
      capRelaxed = true; // every remaining candidate is capped: fill the rest by MMR alone
      for (const i of capped) heap.push(i);
      capped.length = 0;
      continue;
    }
    heap.pop();
    out[best] = 1;
    chosen.push(best);
    const category = pool[best]!.category;
    const count = (perCategory.get(category) ?? 0) + 1;
    perCategory.set(category, count);
    if (count >= maxPerCategory) for (let i = 0; i < n; i++) if (out[i] === 0 && pool[i]!.category === category) out[i] = 2;
    if (chosen.length === 1) {
      // After the first pick every bound is made exact (as the plain greedy does), so λ = 1 never meets 0 · −∞.
      for (let i = 0; i < n; i++) {
        if (out[i] === 1) continue;
        maxSim[i] = Math.max(maxSim[i]!, similarity(i, best));
        seen[i] = 1;
        bound[i] = lambda * relevance[i]! - (1 - lambda) * maxSim[i]!;
      }
      refill();
    }
  }
  return chosen;
}

/**
 * Max-heap of candidate positions by bound, ties to the lower position: the order in which the plain greedy's
 * strict `>` scan finds its best. Bounds that are NaN or −∞ never win that scan (and never recover: a max-similarity
 * that is NaN or +∞ stays so), so they are not kept.
 */
class BoundHeap {
  private readonly items: number[] = [];
  private readonly bound: Float64Array;
  constructor(bound: Float64Array) {
    this.bound = bound;
  }
  get size(): number {
    return this.items.length;
  }
  clear(): void {
    this.items.length = 0;
  }
  peek(): number {
    return this.items[0]!;
  }
  push(i: number): void {
    if (!(this.bound[i]! > -Infinity)) return;
    const items = this.items;
    let at = items.length;
    items.push(i);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.before(i, items[parent]!)) break;
      items[at] = items[parent]!;
      at = parent;
    }
    items[at] = i;
  }
  pop(): void {
    const last = this.items.pop()!;
    if (this.items.length > 0) this.siftDown(last);
  }
  /** The top's bound fell: move it down, or drop it when it can no longer be chosen. */
  topDecreased(): void {
    const top = this.items[0]!;
    if (this.bound[top]! > -Infinity) this.siftDown(top);
    else this.pop();
  }
  private siftDown(i: number): void {
    const items = this.items;
    const n = items.length;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(items[child + 1]!, items[child]!)) child++;
      if (!this.before(items[child]!, i)) break;
      items[at] = items[child]!;
      at = child;
    }
    items[at] = i;
  }
  private before(a: number, b: number): boolean {
    const ba = this.bound[a]!;
    const bb = this.bound[b]!;
    return ba > bb || (ba === bb && a < b);
  }
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
