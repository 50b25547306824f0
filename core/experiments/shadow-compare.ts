/**
 * How a shadow configuration's slate differs from the served one: overlap@k (share of the served top k the
 * shadow also put in its top k) and Kendall's rank correlation over the items both returned (do they agree
 * on the order of what they share). Summaries come from counters summed over requests and replicas.
 */
import { quantileFromBuckets } from './guardrails.ts';

export function overlapAtK(served: readonly string[], shadow: readonly string[], k = served.length): number {
  const top = served.slice(0, k);
  if (top.length === 0) return 1;
  const other = new Set(shadow.slice(0, k));
  return top.filter((id) => other.has(id)).length / top.length;
}

/**
 * Kendall's tau-a over the items in both lists (positions as ranks): +1 same order, −1 reversed. Null when
 * fewer than two items are shared (no pair to compare).
 */
export function rankCorrelation(served: readonly string[], shadow: readonly string[]): number | null {
  const position = new Map(shadow.map((id, i) => [id, i]));
  const shared = served.filter((id) => position.has(id)).map((id) => position.get(id)!);
  if (shared.length < 2) return null;
  let concordant = 0;
  let discordant = 0;
  for (let i = 0; i < shared.length; i++) {
    for (let j = i + 1; j < shared.length; j++) {
      if (shared[i]! < shared[j]!) concordant++;
      else discordant++;
    }
  }
  return (concordant - discordant) / ((shared.length * (shared.length - 1)) / 2);
}

/** Counters of the 'shadow' arm as flushed by the origins. */
export interface ShadowCounters {
  comparisons: number;
  errors: number;
  overlapSum: number;
  overlapSq: number;
  tauSum: number;
  tauN: number;
  servedLatency: number[];
  shadowLatency: number[];
}

export interface ShadowSummary {
  comparisons: number;
  errors: number;
  /** Mean overlap@k and its standard error. */
  meanOverlapAtK: number | null;
  overlapStdError: number | null;
  /** Mean Kendall tau over comparisons that shared at least two items. */
  meanRankCorrelation: number | null;
  servedP50Ms: number | null;
  servedP99Ms: number | null;
  shadowP50Ms: number | null;
  shadowP99Ms: number | null;
}

export function summariseShadow(c: ShadowCounters): ShadowSummary {
  const ok = c.comparisons - c.errors;
  const mean = ok > 0 ? c.overlapSum / ok : null;
  const variance = ok > 1 && mean !== null ? Math.max(0, (c.overlapSq - ok * mean * mean) / (ok - 1)) : null;
  return {
    comparisons: c.comparisons,
    errors: c.errors,
    meanOverlapAtK: mean,
    overlapStdError: variance === null ? null : Math.sqrt(variance / ok),
    meanRankCorrelation: c.tauN > 0 ? c.tauSum / c.tauN : null,
    servedP50Ms: quantileFromBuckets(c.servedLatency, 0.5),
    servedP99Ms: quantileFromBuckets(c.servedLatency, 0.99),
    shadowP50Ms: quantileFromBuckets(c.shadowLatency, 0.5),
    shadowP99Ms: quantileFromBuckets(c.shadowLatency, 0.99),
  };
}
