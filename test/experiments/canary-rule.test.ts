/** The canary rule on constructed results: each branch of the stated rule, in its order. */
import { describe, expect, it } from 'vitest';
import { decideCanary, type CanaryThresholds } from '../../core/experiments/canary-rule.ts';
import { latencyBucket, LATENCY_BUCKETS_MS, type ArmServing } from '../../core/experiments/guardrails.ts';
import { EMPTY_COUNTS, type ArmCounts } from '../../core/experiments/metrics.ts';
import { buildResults } from '../../core/experiments/results.ts';

const RULE: CanaryThresholds = { minVisitors: 2000, minRequests: 500, maxHours: 72, nonInferiorityMargin: 0.05, maxErrorRateIncrease: 0.005, maxFallbackRateIncrease: 0.01, maxP99Ratio: 1.25, p99SlackMs: 10 };
// Equal weights: the visitor counts below are chosen per case, and the sample-ratio check must not interfere.
const design = { id: 'c', variants: [{ id: 'control', weight: 0.5 }, { id: 'canary', weight: 0.5 }], primaryMetric: 'ctr' as const, alpha: 0.05, mde: 0.1, minVisitors: 200 };

/** Visitors with one impression each and the given clicks (deterministic counts). */
function arm(visitors: number, clicks: number): ArmCounts {
  return { ...EMPTY_COUNTS, visitors, impressions: visitors, impressionsSq: visitors, clicks, clicksSq: clicks, clicksTimesImpressions: clicks };
}

function serving(requests: number, latencyMs: number, errors = 0, fallbacks = 0): ArmServing {
  const latency = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  latency[latencyBucket(latencyMs)] = requests;
  return { requests, errors, fallbacks, latency };
}

function decide(control: ArmCounts, canary: ArmCounts, servingControl: ArmServing, servingCanary: ArmServing, hours = 1) {
  return decideCanary(buildResults(design, new Map([['control', control], ['canary', canary]]), new Map([['control', servingControl], ['canary', servingCanary]]), null), RULE, hours);
}

describe('canary rule', () => {
  it('rolls back on an error-rate, fallback-rate or p99 guardrail breach, before any online metric is in', () => {
    const errors = decide(arm(100, 5), arm(20, 1), serving(9000, 20, 0), serving(1000, 20, 20));
    expect(errors.action).toBe('rollback');
    expect(errors.reasons.join()).toMatch(/error rate 2\.00 %/);
    expect(decide(arm(100, 5), arm(20, 1), serving(9000, 20, 0, 90), serving(1000, 20, 0, 50)).action).toBe('rollback');
    const slow = decide(arm(100, 5), arm(20, 1), serving(9000, 20), serving(1000, 60));
    expect(slow.action).toBe('rollback');
    const p99 = slow.figures.control.p99Ms!;
    expect(p99).toBeGreaterThan(15); // inside the (15, 20] ms bucket
    expect(slow.figures.p99LimitMs).toBeCloseTo(Math.max(p99 * 1.25, p99 + 10), 9);
  });

  it('waits while guardrails or visitors are short, with the reason', () => {
    const early = decide(arm(100, 5), arm(20, 1), serving(900, 20), serving(100, 20));
    expect(early.action).toBe('wait');
    expect(early.reasons.join()).toMatch(/500 requests per arm/);
  });

  it('rolls back when the primary metric is significantly worse', () => {
    const worse = decide(arm(20_000, 1200), arm(20_000, 800), serving(9000, 20), serving(1000, 20));
    expect(worse.figures.primary?.verdict).toBe('worse');
    expect(worse.action).toBe('rollback');
  });

  it('promotes when significantly better, or non-inferior within the margin', () => {
    expect(decide(arm(20_000, 1000), arm(20_000, 1300), serving(9000, 20), serving(1000, 20)).action).toBe('promote');
    const equal = decide(arm(200_000, 10_000), arm(200_000, 10_000), serving(9000, 20), serving(1000, 21));
    expect(equal.action).toBe('promote');
    expect(equal.reasons.join()).toMatch(/non-inferior/);
    expect(equal.figures.relativeLowerBound!).toBeGreaterThan(-0.05);
  });

  it('keeps waiting when the interval is still too wide to show non-inferiority, and rolls back at the deadline', () => {
    const wide = decide(arm(3000, 150), arm(3000, 150), serving(9000, 20), serving(1000, 20));
    expect(wide.action).toBe('wait');
    expect(decide(arm(3000, 150), arm(3000, 150), serving(9000, 20), serving(1000, 20), 73).action).toBe('rollback');
  });

  it('does not promote on a sample ratio mismatch', () => {
    const skewed = decideCanary(buildResults(design, new Map([['control', arm(200_000, 10_000)], ['canary', arm(150_000, 7_500)]]), new Map([['control', serving(9000, 20)], ['canary', serving(1000, 20)]]), null), RULE, 1);
    expect(skewed.action).toBe('wait');
    expect(skewed.reasons.join()).toMatch(/sample ratio mismatch/);
  });
});
