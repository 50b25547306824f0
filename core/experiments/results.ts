/**
 * An experiment's results from its arms' event sums and serving counters: per-variant metrics with
 * intervals, every treatment compared with the control (the first variant) on every metric by the mSPRT
 * (stats.ts), the winner on the primary metric, a sample-ratio-mismatch check, guardrails and the shadow summary.
 * Pure: the origin's repository gathers the inputs, routes and the CLI render the output.
 */
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import { guardrailsOf, type ArmServing, type Guardrails } from './guardrails.ts';
import { armEstimates, EMPTY_COUNTS, METRICS, type ArmCounts, type MetricName } from './metrics.ts';
import { summariseShadow, type ShadowCounters, type ShadowSummary } from './shadow-compare.ts';
import { compare, confidenceInterval, type Comparison, type Estimate } from './stats.ts';

export interface ExperimentDesign {
  id: string;
  /** The first variant is the control every other variant is compared with. */
  variants: readonly { id: string; weight: number }[];
  primaryMetric: MetricName;
  /** Family-wise level for the primary metric (split over the treatments, Bonferroni). */
  alpha: number;
  /** Relative effect the test is tuned for: the mixture's tau = mde × the pooled baseline of the metric. */
  mde: number;
  /** No verdict before each arm has this many visitors. */
  minVisitors: number;
}

export interface MetricValue {
  value: number;
  /** Fixed-horizon normal interval of the arm's own value (descriptive). */
  ci: [number, number] | null;
}

export interface VariantResult {
  id: string;
  weight: number;
  counts: ArmCounts;
  metrics: Record<MetricName, MetricValue | null>;
  guardrails: Guardrails;
}

export interface MetricComparison extends Comparison {
  variant: string;
  metric: MetricName;
}

export interface SampleRatioCheck {
  /** Chi-square goodness of fit of visitors per arm against the weights; null with fewer than 2 arms or no visitors. */
  pValue: number | null;
  /** p < 0.001: assignment or logging is broken for some arm, and the comparison cannot be trusted. */
  flagged: boolean;
  expectedShares: Record<string, number>;
  observedShares: Record<string, number>;
}

export interface ExperimentResults {
  experimentId: string;
  control: string;
  primaryMetric: MetricName;
  test: { name: string; alpha: number; perComparisonAlpha: number; mde: number; minVisitors: number };
  variants: VariantResult[];
  comparisons: MetricComparison[];
  /** The variant that wins on the primary metric, or null while no arm is shown better (or worse, for the control). */
  winner: string | null;
  winnerReason: string;
  srm: SampleRatioCheck;
  shadow: ShadowSummary | null;
}

export const SRM_THRESHOLD = 0.001;
export const TEST_NAME = 'mSPRT (normal mixture, always valid) on visitor-level estimates; Bonferroni over treatments';

export function sampleRatioCheck(variants: readonly { id: string; weight: number; visitors: number }[]): SampleRatioCheck {
  const active = variants.filter((v) => v.weight > 0);
  const totalWeight = active.reduce((s, v) => s + v.weight, 0);
  const totalVisitors = active.reduce((s, v) => s + v.visitors, 0);
  const expectedShares = Object.fromEntries(active.map((v) => [v.id, v.weight / totalWeight]));
  const observedShares = Object.fromEntries(active.map((v) => [v.id, totalVisitors > 0 ? v.visitors / totalVisitors : 0]));
  if (active.length < 2 || totalVisitors === 0) return { pValue: null, flagged: false, expectedShares, observedShares };
  const chi2 = active.reduce((s, v) => {
    const expected = (v.weight / totalWeight) * totalVisitors;
    return s + ((v.visitors - expected) ** 2) / expected;
  }, 0);
  const pValue = 1 - chisquareCdf(chi2, active.length - 1);
  return { pValue, flagged: pValue < SRM_THRESHOLD, expectedShares, observedShares };
}

/** Pooled value of two arms' estimates (weights = units): the baseline tau is scaled by, the same for both arms. */
function pooled(a: Estimate, b: Estimate): number {
  const n = a.n + b.n;
  return n === 0 ? 0 : (a.value * a.n + b.value * b.n) / n;
}

export function buildResults(design: ExperimentDesign, counts: ReadonlyMap<string, ArmCounts>, serving: ReadonlyMap<string, ArmServing>, shadow: ShadowCounters | null): ExperimentResults {
  const control = design.variants[0]!.id;
  const treatments = design.variants.slice(1);
  const perComparisonAlpha = design.alpha / Math.max(1, treatments.length);
  const estimates = new Map(design.variants.map((v) => [v.id, armEstimates(counts.get(v.id) ?? EMPTY_COUNTS)]));
  const variants: VariantResult[] = design.variants.map((v) => {
    const est = estimates.get(v.id)!;
    const metrics = Object.fromEntries(METRICS.map((m) => {
      const e = est[m];
      return [m, e === null ? null : { value: e.value, ci: confidenceInterval(e, design.alpha) }];
    })) as Record<MetricName, MetricValue | null>;
    return { id: v.id, weight: v.weight, counts: counts.get(v.id) ?? EMPTY_COUNTS, metrics, guardrails: guardrailsOf(serving.get(v.id) ?? { requests: 0, errors: 0, fallbacks: 0, latency: [] }) };
  });

  const comparisons: MetricComparison[] = [];
  for (const t of treatments) {
    for (const metric of METRICS) {
      const c = estimates.get(control)![metric];
      const x = estimates.get(t.id)![metric];
      if (c === null || x === null) continue;
      const tau = design.mde * Math.abs(pooled(c, x));
      const comparison = tau > 0
        ? compare(c, x, { alpha: perComparisonAlpha, tau, minUnits: design.minVisitors })
        : compare(c, x, { alpha: perComparisonAlpha, tau: 1, minUnits: Number.POSITIVE_INFINITY });
      comparisons.push({ variant: t.id, metric, ...comparison });
    }
  }

  const primary = comparisons.filter((c) => c.metric === design.primaryMetric);
  const better = primary.filter((c) => c.verdict === 'better').sort((a, b) => b.treatment - a.treatment);
  const allWorse = primary.length === treatments.length && primary.length > 0 && primary.every((c) => c.verdict === 'worse');
  const winner = better[0]?.variant ?? (allWorse ? control : null);
  const winnerReason = better[0]
    ? `${better[0].variant} beats ${control} on ${design.primaryMetric} (always-valid p = ${better[0].pValue.toPrecision(3)} ≤ ${perComparisonAlpha})`
    : allWorse
      ? `every treatment is worse than ${control} on ${design.primaryMetric}`
      : `no variant differs from ${control} on ${design.primaryMetric} at the always-valid level ${perComparisonAlpha} yet`;

  const srm = sampleRatioCheck(design.variants.map((v) => ({ id: v.id, weight: v.weight, visitors: counts.get(v.id)?.visitors ?? 0 })));
  return {
    experimentId: design.id,
    control,
    primaryMetric: design.primaryMetric,
    test: { name: TEST_NAME, alpha: design.alpha, perComparisonAlpha, mde: design.mde, minVisitors: design.minVisitors },
    variants,
    comparisons,
    winner,
    winnerReason,
    srm,
    shadow: shadow && shadow.comparisons > 0 ? summariseShadow(shadow) : null,
  };
}
