/** Number formatting shared by the text and HTML experiment reports, so both say the same thing. */
import type { MetricName } from '../../core/experiments/metrics.ts';

const RATE_METRICS: ReadonlySet<MetricName> = new Set(['ctr', 'addToCartRate', 'conversion']);

export function formatMetric(metric: MetricName, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return RATE_METRICS.has(metric) ? `${(value * 100).toFixed(2)} %` : value.toFixed(2);
}

/** A difference: percentage points for rates, currency units for revenue. */
export function formatDifference(metric: MetricName, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const sign = value > 0 ? '+' : '';
  return RATE_METRICS.has(metric) ? `${sign}${(value * 100).toFixed(2)} pp` : `${sign}${value.toFixed(3)}`;
}

export function formatInterval(metric: MetricName, ci: readonly [number, number] | null, difference = false): string {
  if (!ci) return '–';
  const f = difference ? formatDifference : formatMetric;
  return `[${f(metric, ci[0])}, ${f(metric, ci[1])}]`;
}

export function formatPercent(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : `${(value * 100).toFixed(digits)} %`;
}

export function formatMs(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${value.toFixed(1)} ms`;
}

export function formatP(value: number): string {
  return value < 0.0001 ? '< 0.0001' : value.toPrecision(2);
}

export function formatTime(ms: number | null): string {
  return ms === null ? '–' : new Date(ms).toISOString().replace('.000Z', 'Z');
}
