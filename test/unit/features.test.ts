import { describe, expect, it } from 'vitest';
import { generateDataset } from '../../shared/catalog/generator.ts';
import { buildFeatureSpace, FeatureSpace } from '../../shared/features/feature-space.ts';
import { encodeDlrm, encodeSessionRerank, encodeUserTower, rightAlign } from '../../shared/features/encode.ts';
import { DLRM_DENSE_FEATURES, DLRM_SPARSE_FEATURES, HISTORY_LENGTH, PRICE_BUCKETS, priceBucket, SESSION_LENGTH, SESSION_VECTOR_DIM } from '../../shared/features/spec.ts';

const data = generateDataset({ items: 300, users: 50 });
const space = new FeatureSpace(buildFeatureSpace(data.items, data.segments, data.interactions, data.interactions.at(-1)!.ts));

describe('feature spec', () => {
  it('buckets prices by exact boundaries', () => {
    expect(priceBucket(0)).toBe(0);
    expect(priceBucket(4.99)).toBe(0);
    expect(priceBucket(5)).toBe(1);
    expect(priceBucket(99.99)).toBe(8);
    expect(priceBucket(1e6)).toBe(PRICE_BUCKETS - 1);
  });

  it('right-aligns the newest known items and pads with zeros', () => {
    expect([...rightAlign([0, 3, 4, 0, 5], 4)]).toEqual([0, 3, 4, 5]);
    expect([...rightAlign([1, 2, 3, 4, 5, 6], 3)]).toEqual([4, 5, 6]);
  });
});

describe('encoders', () => {
  it('encodes the user tower input with unknown items dropped', () => {
    const input = encodeUserTower(space, { segment: 'gamers', history: ['i1', 'nope', 'i2'] });
    expect(input.history).toHaveLength(HISTORY_LENGTH);
    expect([...input.history.slice(-2)]).toEqual([space.itemIndex('i1'), space.itemIndex('i2')]);
    expect(input.segment).toBe(space.segmentIndex('gamers'));
    expect(input.segment).toBeGreaterThan(0);
    expect(encodeUserTower(space, { history: [] }).segment).toBe(0);
  });

  it('encodes DLRM rows with affinities from the history', () => {
    const i1 = space.itemIndex('i1');
    const sameCategory = data.items.find((item, k) => k > 1 && item.category === data.items[1]!.category)!;
    const history = ['i1', sameCategory.id];
    const out = encodeDlrm(space, { segment: 'gamers', history }, [{ index: i1, retrievalScore: 0.5 }], space.data.referenceTime);
    expect(out.sparse).toHaveLength(DLRM_SPARSE_FEATURES.length);
    expect(out.dense).toHaveLength(DLRM_DENSE_FEATURES.length);
    expect(out.sparse[1]).toBe(i1);
    expect(out.sparse[5]).toBe(space.category(space.itemIndex(sameCategory.id)));
    expect(out.dense[5]).toBeCloseTo(0.5);
    expect(out.dense[1]).toBeGreaterThanOrEqual(0.5);
  });

  it('encodes the session reranker input right-aligned', () => {
    const cand = [{ category: 1, brand: 2, priceBucket: 3, score: 0.9 }];
    const vector = Int8Array.from({ length: SESSION_VECTOR_DIM }, (_, k) => (k === 0 ? 127 : k === 1 ? -127 : k));
    const session = [{ category: 4, brand: 5, priceBucket: 6, vector }];
    const out = encodeSessionRerank(cand, session);
    expect(out.sessCategory).toHaveLength(SESSION_LENGTH);
    expect(out.sessCategory[SESSION_LENGTH - 1]).toBe(4);
    expect(out.sessCategory[0]).toBe(0);
    expect([...out.candScore]).toEqual([Math.fround(0.9)]);
    // The mask marks the one session item (right-aligned); its vector is q / 127 in the last row, padding stays 0.
    expect([...out.sessMask]).toEqual([0, 0, 0, 0, 1]);
    const last = out.sessVec.subarray((SESSION_LENGTH - 1) * SESSION_VECTOR_DIM);
    expect(last[0]).toBe(1);
    expect(last[1]).toBe(-1);
    expect(last[5]).toBeCloseTo(5 / 127, 6);
    expect(out.sessVec.subarray(0, (SESSION_LENGTH - 1) * SESSION_VECTOR_DIM).every((v) => v === 0)).toBe(true);
    // A candidate without a vector (older slate) gets zeros.
    expect(out.candVec).toHaveLength(SESSION_VECTOR_DIM);
    expect(out.candVec.every((v) => v === 0)).toBe(true);
  });
});
