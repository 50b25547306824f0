/**
 * Online metrics of one experiment arm from visitor-level sufficient statistics (the sums the events query
 * returns). The visitor is the unit of randomisation (user id, else session id), so every variance is taken
 * over visitors: a visitor's impressions are not independent trials. CTR is a ratio of two visitor sums and
 * gets the delta-method variance; conversion and add-to-cart are visitor proportions; revenue is a mean.
 */
import type { Estimate } from './stats.ts';

/** Per-arm sums over visitors (Σ over visitors of per-visitor counts, their squares and cross products). */
export interface ArmCounts {
  visitors: number;
  impressions: number;
  impressionsSq: number;
  clicks: number;
  clicksSq: number;
  clicksTimesImpressions: number;
  /** Visitors with at least one add-to-cart / purchase. */
  carters: number;
  purchasers: number;
  addToCarts: number;
  purchases: number;
  /** Σ of purchase values, and Σ over visitors of (visitor revenue)². */
  revenue: number;
  revenueSq: number;
}

export const METRICS = ['ctr', 'addToCartRate', 'conversion', 'revenuePerVisitor'] as const;
export type MetricName = (typeof METRICS)[number];

export const METRIC_LABELS: Record<MetricName, string> = {
  ctr: 'CTR (clicks / impressions)',
  addToCartRate: 'add-to-cart rate (visitors)',
  conversion: 'conversion (purchasing visitors)',
  revenuePerVisitor: 'revenue per visitor',
};

export const EMPTY_COUNTS: ArmCounts = { visitors: 0, impressions: 0, impressionsSq: 0, clicks: 0, clicksSq: 0, clicksTimesImpressions: 0, carters: 0, purchasers: 0, addToCarts: 0, purchases: 0, revenue: 0, revenueSq: 0 };

/** Sample variance from a sum and a sum of squares over n units. */
function sampleVariance(sum: number, sumSq: number, n: number): number {
  if (n < 2) return 0;
  return Math.max(0, (sumSq - (sum * sum) / n) / (n - 1));
}

/** Proportion of visitors: p and p(1−p)/n. */
function proportion(successes: number, n: number): Estimate {
  if (n === 0) return { value: 0, variance: 0, n };
  const p = successes / n;
  return { value: p, variance: (p * (1 - p)) / n, n };
}

/** Σy/Σx over visitors with the delta-method variance (1/(n·x̄²))·(s²y − 2R·sxy + R²·s²x). */
export function ratioEstimate(x: number, xSq: number, y: number, ySq: number, xy: number, n: number): Estimate | null {
  if (n === 0 || x === 0) return null;
  const ratio = y / x;
  const meanX = x / n;
  if (n < 2) return { value: ratio, variance: 0, n };
  const sxx = sampleVariance(x, xSq, n);
  const syy = sampleVariance(y, ySq, n);
  const sxy = (xy - (x * y) / n) / (n - 1);
  const variance = Math.max(0, (syy - 2 * ratio * sxy + ratio * ratio * sxx) / (n * meanX * meanX));
  return { value: ratio, variance, n };
}

/** Every metric of one arm; null where it is undefined (e.g. CTR without impressions). */
export function armEstimates(c: ArmCounts): Record<MetricName, Estimate | null> {
  const n = c.visitors;
  return {
    ctr: ratioEstimate(c.impressions, c.impressionsSq, c.clicks, c.clicksSq, c.clicksTimesImpressions, n),
    addToCartRate: n === 0 ? null : proportion(c.carters, n),
    conversion: n === 0 ? null : proportion(c.purchasers, n),
    revenuePerVisitor: n === 0 ? null : { value: c.revenue / n, variance: sampleVariance(c.revenue, c.revenueSq, n) / n, n },
  };
}
