/**
 * The item-to-item candidate source: a history's score for every item is the sum of that item's neighbour
 * weights from the history's newest `window` distinct items (chosen on validation, in the manifest) (item-kNN or EASE, truncated to the top
 * neighbours per item, shipped as item_neighbours.bin). The trainer (models/torch/neighbours.py) computes the
 * ranker's training features the same way. Pure; O(history × neighbours per item) per request.
 */
import type { FeatureSpace } from '../../../shared/features/feature-space.ts';
import { NEIGHBOUR_RECENT } from '../../../shared/features/spec.ts';
import type { ItemNeighbours } from '../../ports/model.ts';

export interface NeighbourScores {
  /** item index → score from the whole (capped) history. */
  all: Map<number, number>;
  /** item index → score from the newest NEIGHBOUR_RECENT items. */
  recent: Map<number, number>;
}

function newestDistinct(indices: readonly number[], cap: number): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  for (let i = indices.length - 1; i >= 0 && out.length < cap; i--) {
    const index = indices[i]!;
    if (index > 0 && !seen.has(index)) {
      seen.add(index);
      out.push(index);
    }
  }
  return out;
}

/** Scratch sums by item index, reused across calls (stamped per call instead of cleared): a heavy history scores
 * up to window × perItem (1000 × 500) pairs, which a Map would make a 20 ms request. */
let sums = new Float64Array(0);
let stamps = new Int32Array(0);
let stamp = 0;

function accumulate(neighbours: ItemNeighbours, sources: readonly number[]): Map<number, number> {
  const m = neighbours.perItem;
  // Rows exist for the trained items only: items added since (cold start) have no neighbours yet.
  const rows = neighbours.items.length / m;
  if (sums.length < rows + 1) {
    sums = new Float64Array(rows + 1);
    stamps = new Int32Array(rows + 1);
    stamp = 0;
  }
  stamp = stamp === 0x7fffffff ? 1 : stamp + 1;
  if (stamp === 1) stamps.fill(0);
  const touched: number[] = [];
  for (const source of sources) {
    if (source > rows) continue;
    const base = (source - 1) * m;
    for (let j = 0; j < m; j++) {
      const item = neighbours.items[base + j]!;
      if (item <= 0) break;
      if (stamps[item] !== stamp) {
        stamps[item] = stamp;
        sums[item] = 0;
        touched.push(item);
      }
      sums[item] = sums[item]! + neighbours.weights[base + j]!;
    }
  }
  return new Map(touched.map((item) => [item, sums[item]!]));
}

export function neighbourScores(space: FeatureSpace, neighbours: ItemNeighbours, history: readonly string[]): NeighbourScores {
  const indices = history.map((id) => space.itemIndex(id));
  return {
    all: accumulate(neighbours, newestDistinct(indices, neighbours.window)),
    recent: accumulate(neighbours, newestDistinct(indices.slice(-NEIGHBOUR_RECENT), NEIGHBOUR_RECENT)),
  };
}

/** The `k` best-scoring items (positive scores only) that are not in `exclude`, best first. */
export function topNeighbours(scores: ReadonlyMap<number, number>, k: number, exclude: ReadonlySet<number>): number[] {
  return [...scores].filter(([item, s]) => s > 0 && !exclude.has(item)).sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k).map(([item]) => item);
}
