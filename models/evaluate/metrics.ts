/** Offline ranking metrics over one recommendation list per user (pure). */
export interface ListMetrics {
  /** 1 when any relevant item is in the top K (HR@K). */
  hit: number;
  recall: number;
  ndcg: number;
  ap: number;
  rr: number;
}

/** Recall@K, NDCG@K, AP@K and reciprocal rank for a ranked list against the user's relevant items. */
export function scoreList(ranked: readonly number[], relevant: ReadonlySet<number>, k: number): ListMetrics {
  let hits = 0;
  let dcg = 0;
  let apSum = 0;
  let rr = 0;
  ranked.slice(0, k).forEach((item, position) => {
    if (!relevant.has(item)) return;
    hits++;
    dcg += 1 / Math.log2(position + 2);
    apSum += hits / (position + 1);
    if (rr === 0) rr = 1 / (position + 1);
  });
  let idcg = 0;
  for (let p = 0; p < Math.min(k, relevant.size); p++) idcg += 1 / Math.log2(p + 2);
  return {
    hit: hits > 0 ? 1 : 0,
    recall: relevant.size === 0 ? 0 : hits / relevant.size,
    ndcg: idcg === 0 ? 0 : dcg / idcg,
    ap: Math.min(k, relevant.size) === 0 ? 0 : apSum / Math.min(k, relevant.size),
    rr,
  };
}

/** Intra-list diversity: share of item pairs from different categories. */
export function intraListDiversity(ranked: readonly number[], categoryOf: (item: number) => number): number {
  let pairs = 0;
  let different = 0;
  for (let a = 0; a < ranked.length; a++) {
    for (let b = a + 1; b < ranked.length; b++) {
      pairs++;
      if (categoryOf(ranked[a] ?? 0) !== categoryOf(ranked[b] ?? 0)) different++;
    }
  }
  return pairs === 0 ? 0 : different / pairs;
}

/** Indices of the k largest scores, skipping excluded ones (scores[i] belongs to item index i + 1). */
export function topK(scores: Float32Array | Float64Array, k: number, exclude: ReadonlySet<number>): number[] {
  const best: { item: number; score: number }[] = [];
  for (let i = 0; i < scores.length; i++) {
    const item = i + 1;
    const score = scores[i] ?? -Infinity;
    if (exclude.has(item)) continue;
    if (best.length < k) {
      best.push({ item, score });
      if (best.length === k) best.sort((x, y) => y.score - x.score);
    } else if (score > (best[k - 1]?.score ?? -Infinity)) {
      let p = k - 1;
      while (p > 0 && (best[p - 1]?.score ?? -Infinity) < score) p--;
      best.splice(p, 0, { item, score });
      best.pop();
    }
  }
  if (best.length < k) best.sort((x, y) => y.score - x.score);
  return best.map((b) => b.item);
}
