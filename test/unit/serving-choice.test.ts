/**
 * The serving choices a model version ships (models/evaluate/choose-serving.ts → manifest serving) and the
 * popularity correction the rank stage applies with them (core/pipeline/popularity-correction.ts).
 */
import { describe, expect, it } from 'vitest';
import { correctForPopularity } from '../../core/pipeline/popularity-correction.ts';
import { COVERAGE_FLOOR, pickServing, TIE_BAND, type ServingPoint } from '../../models/evaluate/choose-serving.ts';

describe('popularity correction', () => {
  it('is the identity at β = 0 and lowers popular items relative to rare ones as β grows', () => {
    const p = Float32Array.from([0.9, 0.6]);
    const logPop = [Math.log(1000), Math.log(2)];
    expect(correctForPopularity(p, (r) => logPop[r]!, 0)).toBe(p);
    const corrected = correctForPopularity(p, (r) => logPop[r]!, 1);
    // logit(0.9) − ln 1000 = 2.197 − 6.908 < logit(0.6) − ln 2 = 0.405 − 0.693
    expect(corrected[0]!).toBeLessThan(corrected[1]!);
    expect(corrected[1]!).toBeCloseTo(1 / (1 + Math.exp(-(Math.log(0.6 / 0.4) - Math.log(2)))), 6);
  });

  it('keeps the order among items of equal popularity and survives p = 0 or 1', () => {
    const p = Float32Array.from([0, 0.2, 0.7, 1]);
    const out = correctForPopularity(p, () => 3, 2);
    expect([...out].every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
    expect(out[0]!).toBeLessThan(out[1]!);
    expect(out[1]!).toBeLessThan(out[2]!);
    expect(out[2]!).toBeLessThan(out[3]!);
  });
});

describe('serving choice rule', () => {
  const point = (beta: number, lambda: number, ndcg: number, coverage: number): ServingPoint => ({ beta, lambda, cap: 0.4, ndcg, coverage });

  it('takes the best NDCG among the settings that keep the coverage floor', () => {
    const grid = [point(0, 1, 0.2, 100), point(1, 1, 0.18, 400), point(2, 1, 0.15, 600)];
    const { point: chosen, floorMet } = pickServing(grid, 1000 * COVERAGE_FLOOR * 0.8);
    expect(floorMet).toBe(true);
    expect(chosen).toEqual(grid[1]);
  });

  it('prefers coverage inside the tie band and falls back to the best NDCG when the floor is out of reach', () => {
    const grid = [point(0, 1, 0.2, 100), point(0.5, 0.9, 0.2 * (1 - TIE_BAND / 2), 150), point(3, 1, 0.1, 200)];
    expect(pickServing(grid, 100).point).toEqual(grid[1]);
    const unreachable = pickServing(grid, 10_000);
    expect(unreachable.floorMet).toBe(false);
    expect(unreachable.point).toEqual(grid[1]);
  });
});
