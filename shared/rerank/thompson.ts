/**
 * Thompson sampling over item click statistics: each item's click-through rate gets a Beta(1 + clicks,
 * 1 + impressions - clicks) posterior and we draw one sample per item. Items with few impressions have wide
 * posteriors and win a draw now and then, which is exactly the exploration we want. Pure: the caller passes
 * the RNG, so a seeded RNG makes the choice reproducible (tests) and nightly slates simply use 0 slots.
 */
import type { Rng } from '../util/rng.ts';

export interface ClickStats {
  impressions: number;
  clicks: number;
}

/** Gamma(shape, 1) by Marsaglia–Tsang; shape < 1 uses the boost Gamma(shape + 1) · U^(1/shape). */
export function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) return sampleGamma(rng, shape + 1) * Math.pow(Math.max(rng.next(), 1e-12), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const x = rng.normal();
    const v0 = 1 + c * x;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0;
    const u = Math.max(rng.next(), 1e-12);
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
  return shape; // practically unreachable; the mean keeps the draw sane
}

export function sampleBeta(rng: Rng, alpha: number, beta: number): number {
  const x = sampleGamma(rng, alpha);
  const y = sampleGamma(rng, beta);
  return x + y === 0 ? 0.5 : x / (x + y);
}

/** One posterior draw of an item's click-through rate. */
export function thompsonDraw(rng: Rng, stats: ClickStats | undefined): number {
  const impressions = Math.max(0, stats?.impressions ?? 0);
  const clicks = Math.min(Math.max(0, stats?.clicks ?? 0), Math.max(impressions, stats?.clicks ?? 0));
  return sampleBeta(rng, 1 + clicks, 1 + Math.max(0, impressions - clicks));
}

/**
 * Picks `slots` items from `pool` (ids) by highest Thompson draw. Draw order follows the pool order so a
 * seeded RNG gives the same picks for the same inputs.
 */
export function thompsonPick(rng: Rng, pool: readonly string[], stats: ReadonlyMap<string, ClickStats>, slots: number): string[] {
  if (slots <= 0 || pool.length === 0) return [];
  const draws = pool.map((id, order) => ({ id, order, draw: thompsonDraw(rng, stats.get(id)) }));
  draws.sort((a, b) => b.draw - a.draw || a.order - b.order);
  return draws.slice(0, slots).map((d) => d.id);
}
