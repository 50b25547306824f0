/**
 * The ranker's popularity correction (logit adjustment): score = logit(p) − β · log item popularity, mapped
 * back through the sigmoid so scores stay click-probability-like. A listwise ranker trained on what people did
 * learns that popular items get clicked and, left alone, fills every slate with the same head items (coverage
 * collapse); β trades a little of that for a slate that differs per visitor. β is chosen per model version on
 * the ranker's validation lists (models/evaluate/choose-serving.ts) and shipped in the manifest (serving).
 * Pure; monotone for a fixed popularity, so β = 0 is the identity.
 */
export function correctForPopularity(probabilities: Float32Array, logPopularity: (row: number) => number, beta: number): Float32Array {
  if (!(beta > 0)) return probabilities;
  return Float32Array.from(probabilities, (p, row) => {
    const clamped = Math.min(1 - 1e-7, Math.max(1e-7, p));
    const logit = Math.log(clamped / (1 - clamped)) - beta * logPopularity(row);
    return 1 / (1 + Math.exp(-logit));
  });
}
