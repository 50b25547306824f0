/** The p-th percentile (0–100) of ascending samples, nearest-rank below; 0 for no samples. One rule for every benchmark's p50/p99. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}
