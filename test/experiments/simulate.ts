/**
 * Simulated visitors for the experiment tests: each visitor sees 1–3 impressions and clicks each with the
 * arm's true CTR (seeded, so every run draws the same data). Used on the statistics directly (repeated seeds)
 * and to build event batches replayed through the origin's real event endpoint.
 */
import { EMPTY_COUNTS, type ArmCounts } from '../../core/experiments/metrics.ts';
import { createRng, type Rng } from '../../shared/util/rng.ts';

export interface SimulatedVisitor {
  impressions: number;
  clicks: number;
}

export function drawVisitor(rng: Rng, ctr: number): SimulatedVisitor {
  const impressions = 1 + rng.int(3);
  let clicks = 0;
  for (let i = 0; i < impressions; i++) if (rng.next() < ctr) clicks++;
  return { impressions, clicks };
}

export function addVisitor(counts: ArmCounts, v: SimulatedVisitor): void {
  counts.visitors++;
  counts.impressions += v.impressions;
  counts.impressionsSq += v.impressions * v.impressions;
  counts.clicks += v.clicks;
  counts.clicksSq += v.clicks * v.clicks;
  counts.clicksTimesImpressions += v.clicks * v.impressions;
}

/** Runs one two-arm experiment of n visitors per arm, calling look(a, b) after every `every` visitors per arm. */
export function simulateTwoArms(seed: number, ctr: [number, number], n: number, every: number, look: (a: ArmCounts, b: ArmCounts) => void): void {
  const rng = createRng(seed);
  const a = { ...EMPTY_COUNTS };
  const b = { ...EMPTY_COUNTS };
  for (let i = 1; i <= n; i++) {
    addVisitor(a, drawVisitor(rng, ctr[0]));
    addVisitor(b, drawVisitor(rng, ctr[1]));
    if (i % every === 0) look(a, b);
  }
}
