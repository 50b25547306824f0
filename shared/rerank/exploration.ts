/**
 * Places exploration items into a ranked slate: `slots` items drawn by Thompson sampling from the pool that
 * did not make the slate, inserted at evenly spread positions in the lower half (never at the top, so the
 * best-ranked items stay where users look first). Pure; deterministic for a seeded RNG.
 */
import type { Rng } from '../util/rng.ts';
import { thompsonPick, type ClickStats } from './thompson.ts';

export interface ExplorationInput {
  slate: readonly string[];
  /** Eligible ids not in the slate (rules already applied), best first. */
  pool: readonly string[];
  stats: ReadonlyMap<string, ClickStats>;
  slots: number;
  k: number;
  rng: Rng;
}

export interface ExplorationOutput {
  ids: string[];
  explored: Set<string>;
}

/** Positions (0-based) for n exploration items in a slate of k: spread over the bottom half. */
export function explorationPositions(k: number, n: number): number[] {
  const count = Math.min(n, Math.max(0, k - 1));
  const start = Math.max(1, Math.floor(k / 2));
  const positions: number[] = [];
  for (let j = 0; j < count; j++) {
    const p = start + Math.floor(((j + 1) * (k - start)) / (count + 1));
    positions.push(Math.min(k - 1, Math.max(start, p)));
  }
  return [...new Set(positions)].sort((a, b) => a - b);
}

export function insertExploration(input: ExplorationInput): ExplorationOutput {
  const positions = explorationPositions(input.k, input.slots);
  const inSlate = new Set(input.slate);
  const pool = input.pool.filter((id) => !inSlate.has(id));
  const picks = thompsonPick(input.rng, pool, input.stats, positions.length);
  const exploit = input.slate.slice(0, input.k - picks.length);
  const ids = [...exploit];
  picks.forEach((id, j) => ids.splice(Math.min(positions[j] ?? ids.length, ids.length), 0, id));
  return { ids: ids.slice(0, input.k), explored: new Set(picks) };
}
