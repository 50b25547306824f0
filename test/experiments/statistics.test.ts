/**
 * The experiment statistics on simulated counts, over repeated seeds: the report's test finds a true 5 % → 6 %
 * CTR lift at least as often as its stated power, and in A/A tests read at 20 looks it declares a winner no
 * more often than alpha allows, while the fixed-horizon z-test read the same way does (why the mSPRT is used).
 */
import { describe, expect, it } from 'vitest';
import { buildResults, sampleRatioCheck, type ExperimentDesign } from '../../core/experiments/results.ts';
import { armEstimates, EMPTY_COUNTS, ratioEstimate, type ArmCounts } from '../../core/experiments/metrics.ts';
import { compare, msprtHalfWidth, msprtPower } from '../../core/experiments/stats.ts';
import { LATENCY_BUCKETS_MS, latencyBucket, quantileFromBuckets } from '../../core/experiments/guardrails.ts';
import { overlapAtK, rankCorrelation } from '../../core/experiments/shadow-compare.ts';
import { createRng } from '../../shared/util/rng.ts';
import { addVisitor, drawVisitor, simulateTwoArms } from './simulate.ts';

const ALPHA = 0.05;
const design: ExperimentDesign = { id: 'sim', variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }], primaryMetric: 'ctr', alpha: ALPHA, mde: 0.1, minVisitors: 200 };
const winnerOf = (a: ArmCounts, b: ArmCounts): string | null => buildResults(design, new Map([['a', a], ['b', b]]), new Map(), null).winner;
/** One-sided 99 % binomial tolerance on an observed rate over `runs` runs. */
const slack = (p: number, runs: number): number => 2.33 * Math.sqrt((p * (1 - p)) / runs);

describe('sequential test (mSPRT) on simulated experiments', () => {
  const N = 10_000;

  it('finds a true 5 % → 6 % CTR lift with its stated power, and never the wrong winner', () => {
    // Stated power: the analytic rejection probability of one look at N visitors per arm (2 impressions each on average).
    const impressions = 2 * N;
    const v = (0.05 * 0.95 + 0.06 * 0.94) / impressions;
    const stated = msprtPower(0.01, v, design.mde * 0.055, ALPHA);
    expect(stated).toBeGreaterThan(0.8);
    const runs = 400;
    let found = 0;
    let wrong = 0;
    for (let seed = 1; seed <= runs; seed++) {
      let winner: string | null = null;
      simulateTwoArms(seed, [0.05, 0.06], N, N, (a, b) => (winner = winnerOf(a, b)));
      if (winner === 'b') found++;
      if (winner === 'a') wrong++;
    }
    const power = found / runs;
    console.log(JSON.stringify({ test: 'A/B 5%→6%', visitorsPerArm: N, runs, statedPower: +stated.toFixed(3), measuredPower: power, wrongWinner: wrong / runs }));
    expect(power).toBeGreaterThanOrEqual(stated - slack(stated, runs));
    expect(wrong).toBe(0);
  });

  it('A/A read at 20 looks: a false winner at most as often as alpha allows; the fixed-horizon test read the same way exceeds it', () => {
    const runs = 1000;
    let falseWinners = 0;
    let fixedFalse = 0;
    for (let seed = 1001; seed <= 1000 + runs; seed++) {
      let declared = false;
      let fixedDeclared = false;
      simulateTwoArms(seed, [0.05, 0.05], N, N / 20, (a, b) => {
        const r = buildResults(design, new Map([['a', a], ['b', b]]), new Map(), null);
        if (r.winner !== null) declared = true;
        if (r.comparisons.find((c) => c.metric === 'ctr')!.fixedHorizon.pValue < ALPHA) fixedDeclared = true;
      });
      if (declared) falseWinners++;
      if (fixedDeclared) fixedFalse++;
    }
    const rate = falseWinners / runs;
    console.log(JSON.stringify({ test: 'A/A, 20 looks', visitorsPerArm: N, runs, alpha: ALPHA, falsePositiveRate: rate, fixedHorizonWithPeeking: fixedFalse / runs }));
    expect(rate).toBeLessThanOrEqual(ALPHA + slack(ALPHA, runs));
    expect(fixedFalse / runs).toBeGreaterThan(ALPHA + slack(ALPHA, runs));
  });
});

describe('estimates and the test', () => {
  it('the always-valid interval ends where the likelihood ratio reaches 1/alpha', () => {
    const control = { value: 0.05, variance: 2e-6, n: 5000 };
    const v = 4e-6;
    const half = msprtHalfWidth(v, 0.005 ** 2, ALPHA);
    const atEdge = compare(control, { value: 0.05 + half, variance: 2e-6, n: 5000 }, { alpha: ALPHA, tau: 0.005, minUnits: 100 });
    expect(atEdge.pValue).toBeCloseTo(ALPHA, 6);
    // Wider than the fixed-horizon interval: the price of reading it any time.
    expect(half).toBeGreaterThan(1.96 * Math.sqrt(v));
    expect(atEdge.fixedHorizon.pValue).toBeLessThan(ALPHA);
    const below = compare(control, { value: 0.05 + half * 0.99, variance: 2e-6, n: 5000 }, { alpha: ALPHA, tau: 0.005, minUnits: 100 });
    expect(below.verdict).toBe('inconclusive');
    const beyond = compare(control, { value: 0.05 + half * 1.01, variance: 2e-6, n: 5000 }, { alpha: ALPHA, tau: 0.005, minUnits: 100 });
    expect(beyond.verdict).toBe('better');
    expect(compare(control, { value: 0.05 + half * 1.01, variance: 2e-6, n: 50 }, { alpha: ALPHA, tau: 0.005, minUnits: 100 }).verdict).toBe('inconclusive');
  });

  it('the delta-method CTR variance matches the spread of CTR over repeated samples', () => {
    const ratios: number[] = [];
    const variances: number[] = [];
    for (let seed = 1; seed <= 300; seed++) {
      const rng = createRng(seed);
      const counts = { ...EMPTY_COUNTS };
      for (let i = 0; i < 2000; i++) addVisitor(counts, drawVisitor(rng, 0.05 + 0.1 * (i % 2))); // heterogeneous visitors
      const e = ratioEstimate(counts.impressions, counts.impressionsSq, counts.clicks, counts.clicksSq, counts.clicksTimesImpressions, counts.visitors)!;
      ratios.push(e.value);
      variances.push(e.variance);
    }
    const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    const empirical = ratios.reduce((s, r) => s + (r - mean) ** 2, 0) / (ratios.length - 1);
    const predicted = variances.reduce((a, b) => a + b, 0) / variances.length;
    expect(predicted / empirical).toBeGreaterThan(0.8);
    expect(predicted / empirical).toBeLessThan(1.25);
  });

  it('conversion and revenue per visitor are visitor-level estimates', () => {
    const e = armEstimates({ ...EMPTY_COUNTS, visitors: 100, purchasers: 10, purchases: 12, revenue: 500, revenueSq: 10 * 50 * 50 });
    expect(e.conversion).toEqual({ value: 0.1, variance: (0.1 * 0.9) / 100, n: 100 });
    expect(e.revenuePerVisitor!.value).toBe(5);
    expect(e.revenuePerVisitor!.variance).toBeCloseTo((25_000 - 500 ** 2 / 100) / 99 / 100, 9);
    expect(e.ctr).toBeNull(); // no impressions logged: CTR is undefined, not 0
  });

  it('flags a sample ratio mismatch and not a fair split', () => {
    expect(sampleRatioCheck([{ id: 'a', weight: 1, visitors: 10_000 }, { id: 'b', weight: 1, visitors: 10_100 }]).flagged).toBe(false);
    expect(sampleRatioCheck([{ id: 'a', weight: 1, visitors: 10_000 }, { id: 'b', weight: 1, visitors: 10_600 }]).flagged).toBe(true);
    expect(sampleRatioCheck([{ id: 'a', weight: 95, visitors: 9_500 }, { id: 'b', weight: 5, visitors: 480 }]).flagged).toBe(false);
  });
});

describe('guardrail and shadow figures', () => {
  it('p99 from the bucketed histogram is within one bucket of the exact p99', () => {
    const rng = createRng(7);
    const samples = Array.from({ length: 20_000 }, () => Math.exp(2 + 0.8 * rng.normal()));
    const counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
    for (const s of samples) counts[latencyBucket(s)]!++;
    const exact = [...samples].sort((a, b) => a - b)[Math.floor(0.99 * samples.length)]!;
    const estimated = quantileFromBuckets(counts, 0.99)!;
    const bucket = latencyBucket(exact);
    expect(estimated).toBeGreaterThanOrEqual(bucket === 0 ? 0 : LATENCY_BUCKETS_MS[bucket - 1]!);
    expect(estimated).toBeLessThanOrEqual(LATENCY_BUCKETS_MS[bucket] ?? Infinity);
    expect(quantileFromBuckets(new Array(counts.length).fill(0), 0.99)).toBeNull();
  });

  it('overlap@k and Kendall tau', () => {
    expect(overlapAtK(['a', 'b', 'c', 'd'], ['d', 'c', 'x', 'y'])).toBe(0.5);
    expect(rankCorrelation(['a', 'b', 'c'], ['a', 'b', 'c'])).toBe(1);
    expect(rankCorrelation(['a', 'b', 'c'], ['c', 'b', 'a'])).toBe(-1);
    expect(rankCorrelation(['a', 'b', 'c', 'd'], ['b', 'a', 'c', 'x'])).toBeCloseTo(1 / 3, 9);
    expect(rankCorrelation(['a', 'b'], ['a', 'x'])).toBeNull();
  });
});
