/**
 * The item-to-item candidate source (core/pipeline/stages/neighbours.ts) and the ranker features it feeds
 * (shared/features/encode.ts): scores sum neighbour weights over the newest `window` distinct history items,
 * negative weights count, the recent score uses only the newest items, and the candidate pick skips the history.
 */
import { describe, expect, it } from 'vitest';
import { neighbourScores, topNeighbours } from '../../core/pipeline/stages/neighbours.ts';
import type { ItemNeighbours } from '../../core/ports/model.ts';
import { encodeDlrm } from '../../shared/features/encode.ts';
import { buildFeatureSpace, FeatureSpace } from '../../shared/features/feature-space.ts';
import { DLRM_DENSE_FEATURES } from '../../shared/features/spec.ts';

const items = Array.from({ length: 6 }, (_, i) => ({ id: `sku-${i + 1}`, title: `t${i}`, category: 'c', brand: 'b', price: 1, stock: 1, image: '', createdAt: 0 }));
const space = new FeatureSpace(buildFeatureSpace(items, ['all'], [], 0));

/** Item k (1-based) → two neighbours each: row r lists (index, weight) pairs, 0 = none. */
function table(window: number): ItemNeighbours {
  const rows: [number, number][][] = [
    [[2, 0.5], [3, 0.25]], // 1 → 2, 3
    [[3, 1], [4, -0.5]], //   2 → 3, 4 (negative)
    [[4, 2], [0, 0]], //      3 → 4
    [[5, 1], [0, 0]], //      4 → 5
    [[6, 1], [0, 0]], //      5 → 6
    [[1, 1], [0, 0]], //      6 → 1
  ];
  return { perItem: 2, window, items: Int32Array.from(rows.flat().map(([i]) => i)), weights: Float32Array.from(rows.flat().map(([, w]) => w)) };
}

describe('item-to-item source', () => {
  it('sums neighbour weights of the history, negative ones included', () => {
    const s = neighbourScores(space, table(200), ['sku-1', 'sku-2']);
    expect(s.all.get(2)).toBeCloseTo(0.5);
    expect(s.all.get(3)).toBeCloseTo(1.25);
    expect(s.all.get(4)).toBeCloseTo(-0.5);
  });

  it('scores with the newest `window` distinct items and the recent score with the newest 3', () => {
    const history = ['sku-1', 'sku-2', 'sku-3', 'sku-4', 'sku-3'];
    const s = neighbourScores(space, table(2), history);
    // newest distinct: sku-3, sku-4 → 4 (+2), 5 (+1)
    expect([...s.all.entries()].sort()).toEqual([[4, 2], [5, 1]]);
    // newest three positions: sku-3, sku-4, sku-3 → distinct sku-3, sku-4
    expect([...s.recent.entries()].sort()).toEqual([[4, 2], [5, 1]]);
    expect(neighbourScores(space, table(200), ['unknown-id']).all.size).toBe(0);
  });

  it('picks the best positive-scoring items outside the history', () => {
    const s = neighbourScores(space, table(200), ['sku-1', 'sku-2']);
    expect(topNeighbours(s.all, 5, new Set([1, 2]))).toEqual([3]);
    expect(topNeighbours(s.all, 1, new Set())).toEqual([3]);
  });

  it('gives the ranker the neighbour score, its share of the best and the recent score', () => {
    const out = encodeDlrm(space, { history: ['sku-1'] }, [
      { index: 3, retrievalScore: 0.9, neighbourScore: 2, neighbourRecent: 1 },
      { index: 4, retrievalScore: 0.4, neighbourScore: 0.5 },
    ], 0);
    const col = (name: (typeof DLRM_DENSE_FEATURES)[number], row: number): number => out.dense[row * DLRM_DENSE_FEATURES.length + DLRM_DENSE_FEATURES.indexOf(name)]!;
    expect(col('neighbour_score', 0)).toBe(2);
    expect(col('neighbour_share', 1)).toBeCloseTo(0.25);
    expect(col('neighbour_recent', 1)).toBe(0);
    expect(col('retrieval_gap', 0)).toBe(0);
    expect(col('retrieval_gap', 1)).toBeCloseTo(0.5);
  });
});

describe('item-to-item source, repeated calls', () => {
  it('gives each call its own sums (the scratch buffer is reused, never carried over)', () => {
    const first = neighbourScores(space, table(200), ['sku-1', 'sku-2']);
    const second = neighbourScores(space, table(200), ['sku-5']);
    const again = neighbourScores(space, table(200), ['sku-1', 'sku-2']);
    expect([...second.all.entries()]).toEqual([[6, 1]]);
    expect([...again.all.entries()].sort()).toEqual([...first.all.entries()].sort());
    expect(again.all.get(3)).toBeCloseTo(1.25);
  });
});
