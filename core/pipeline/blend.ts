/**
 * Final ranking score: the DLRM click probability, optionally blended with the retrieval similarity.
 * The blend weight is a pipeline setting (experiments can vary it); 1 = DLRM only.
 */
export function blendScores(dlrm: Float32Array, retrieval: Float32Array, dlrmWeight: number): Float32Array {
  if (dlrmWeight >= 1) return dlrm;
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of retrieval) {
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  const span = hi - lo || 1;
  return Float32Array.from(dlrm, (p, i) => dlrmWeight * p + (1 - dlrmWeight) * ((retrieval[i]! - lo) / span));
}
