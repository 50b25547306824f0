/**
 * The serving choices a model version ships (models/evaluate/choose-serving.ts → manifest serving) and the
 * popularity correction the rank stage applies with them (core/pipeline/popularity-correction.ts).
 */
import { describe, expect, it } from 'vitest';
import { correctForPopularity } from '../../core/pipeline/popularity-correction.ts';
import { COVERAGE_FLOOR, DEPARTURE_ALPHA, pairedGain, pickServing, refineLeastCorrection, REFINE_STEPS, type ScoredPoint } from '../../models/evaluate/choose-serving.ts';

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
  /** A grid point whose held-out lists score `perList` (its mean is the point's NDCG). */
  const point = (beta: number, lambda: number, cap: number, perList: number[], coverage: number): ScoredPoint => ({
    beta,
    lambda,
    cap,
    ndcg: perList.reduce((a, b) => a + b, 0) / perList.length,
    coverage,
    perList,
  });
  /** n lists scoring `base` plus a list-specific wobble, identical across points (paired noise). */
  const lists = (n: number, base: number, shift = 0, noise = 0.2): number[] => Array.from({ length: n }, (_, i) => base + shift + noise * Math.sin(i * 12.9898));

  it("keeps the ranker's own order when a setting beats it by less than the noise of the held-out lists", () => {
    const plain = point(0, 1, 1, lists(300, 0.3), 500);
    // +0.002 on the mean, but one list in three loses 0.1: not significant.
    const lucky = point(1, 0.8, 0.6, lists(300, 0.3).map((v, i) => v + (i % 3 === 0 ? -0.1 : 0.053)), 800);
    const { point: chosen, departure } = pickServing([plain, lucky], 400);
    expect(lucky.ndcg).toBeGreaterThan(plain.ndcg);
    expect(chosen).toBe(plain);
    expect(departure!.pValue).toBeGreaterThan(DEPARTURE_ALPHA);
  });

  it('departs from it when a setting is better on the same lists beyond the noise', () => {
    const plain = point(0, 1, 1, lists(300, 0.3), 500);
    const better = point(0.5, 0.9, 1, lists(300, 0.3, 0.01), 520);
    const { point: chosen, departure } = pickServing([plain, better], 400);
    expect(chosen).toBe(better);
    expect(departure!.pValue).toBeLessThan(DEPARTURE_ALPHA);
    expect(departure!.ndcgGain).toBeCloseTo(0.01, 6);
  });

  it("starts from the least feasible intervention when the ranker's own order misses the coverage floor", () => {
    const plain = point(0, 1, 1, lists(300, 0.2), 100);
    const corrected = point(1, 1, 1, lists(300, 0.18), 450);
    const diversified = point(0.5, 0.7, 0.4, lists(300, 0.15), 420);
    const luckier = point(2, 0.8, 0.6, lists(300, 0.18).map((v, i) => v + (i % 3 === 0 ? -0.1 : 0.053)), 600);
    const clearlyBetter = point(3, 0.9, 0.6, lists(300, 0.18, 0.01), 700);
    // β 0.5 is the smallest correction that keeps the floor (400), so it anchors even with MMR and a cap; the best
    // mean (0.182) beats its 0.15 on the same lists beyond doubt.
    expect(pickServing([plain, corrected, diversified, luckier], 400)).toMatchObject({ point: luckier, anchor: diversified, floorMet: true });
    const withoutIt = pickServing([plain, corrected, luckier], 400);
    expect(withoutIt.anchor).toBe(corrected);
    expect(withoutIt.point).toBe(corrected); // the luckier mean is noise
    expect(pickServing([plain, corrected, luckier, clearlyBetter], 400).point).toBe(clearlyBetter);
  });

  it('tests the best of many settings at a level corrected for how many it was picked from', () => {
    const plain = point(0, 1, 1, lists(300, 0.3), 500);
    // A gain of about 2.5 standard errors: one-sided p ≈ 0.007.
    const best = point(1, 1, 1, lists(300, 0.3).map((v, i) => v + (i % 2 === 0 ? 0.1 : -0.075)), 500);
    const { pValue } = pairedGain(best.perList, plain.perList);
    expect(pValue).toBeGreaterThan(0.001);
    expect(pValue).toBeLessThan(DEPARTURE_ALPHA);
    expect(pickServing([plain, best], 400).point).toBe(best);
    const rivals = Array.from({ length: 20 }, (_, i) => point(2 + i, 1, 1, lists(300, 0.29), 500));
    const many = pickServing([plain, best, ...rivals], 400);
    expect(many.departure!.alpha).toBeCloseTo(DEPARTURE_ALPHA / 21, 10);
    expect(many.point).toBe(plain);
  });

  it('falls back to the best NDCG when the floor is out of reach', () => {
    const grid = [point(0, 1, 1, lists(50, 0.2), 100), point(3, 1, 0.4, lists(50, 0.1), 200)];
    const unreachable = pickServing(grid, 10_000);
    expect(unreachable.floorMet).toBe(false);
    expect(unreachable.point).toBe(grid[0]);
  });

  it('the paired test: no gain from identical lists, and too few lists decide nothing', () => {
    expect(pairedGain([0.1, 0.2, 0.3], [0.1, 0.2, 0.3])).toEqual({ ndcgGain: 0, pValue: 1 });
    expect(pairedGain([1], [0]).pValue).toBe(1);
    expect(pairedGain([0.2, 0.3, 0.4], [0.1, 0.2, 0.3]).pValue).toBe(0);
  });

  it('finds the least correction that keeps the floor between two grid values, and leaves a feasible ranker order alone', () => {
    // Coverage grows with β; the floor (500) is crossed at β = 2.3.
    const at = (beta: number): ScoredPoint => point(beta, 1, 1, lists(50, 0.3 - beta / 100), Math.round(300 + (beta - 1.3) * 200));
    const grid = [0, 1, 2, 3, 4].map(at);
    const asked: number[] = [];
    refineLeastCorrection(grid, 500, (beta) => {
      asked.push(beta);
      return at(beta);
    });
    expect(grid).toHaveLength(5 + REFINE_STEPS);
    expect(asked).toEqual([2.5, 2.25, 2.375, 2.313]);
    expect(asked).toHaveLength(REFINE_STEPS);
    expect(pickServing(grid, 500 / COVERAGE_FLOOR).anchor!.beta).toBe(2.313);
    const feasible = [0, 1].map((beta) => point(beta, 1, 1, lists(50, 0.3), 900));
    refineLeastCorrection(feasible, 500, () => {
      throw new Error('not asked');
    });
    expect(feasible).toHaveLength(2);
  });
});
