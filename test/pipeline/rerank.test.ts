import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { categoryCapFor, mmrSelect } from '../../shared/rerank/mmr.ts';
import { applyRules, violatesRules } from '../../shared/rerank/rules.ts';
import { explorationPositions, insertExploration } from '../../shared/rerank/exploration.ts';
import { sampleBeta, thompsonPick } from '../../shared/rerank/thompson.ts';
import { reasonFor } from '../../shared/rerank/reasons.ts';
import { createRng } from '../../shared/util/rng.ts';
import { assignAll, assignVariant } from '../../origin/experiments/assign.ts';
import { ExperimentSchema } from '../../origin/experiments/definitions.ts';

describe('MMR and category caps', () => {
  const pool = [
    { id: 'a1', score: 1.0, category: 1 },
    { id: 'a2', score: 0.99, category: 1 },
    { id: 'a3', score: 0.98, category: 1 },
    { id: 'b1', score: 0.5, category: 2 },
    { id: 'c1', score: 0.4, category: 3 },
  ];
  const sameCategory = (a: number, b: number): number => (pool[a]!.category === pool[b]!.category ? 1 : 0);

  it('λ = 1 without caps is plain relevance order', () => {
    expect(mmrSelect(pool, { k: 3, lambda: 1, maxPerCategory: Infinity, similarity: sameCategory }).map((p) => pool[p]!.id)).toEqual(['a1', 'a2', 'a3']);
  });
  it('a low λ trades relevance for diversity', () => {
    expect(mmrSelect(pool, { k: 3, lambda: 0.3, maxPerCategory: Infinity, similarity: sameCategory }).map((p) => pool[p]!.id)).toEqual(['a1', 'b1', 'c1']);
  });
  it('caps a category, and relaxes the cap only when nothing else is left', () => {
    expect(mmrSelect(pool, { k: 4, lambda: 1, maxPerCategory: 1, similarity: sameCategory }).map((p) => pool[p]!.id)).toEqual(['a1', 'b1', 'c1', 'a2']);
    expect(categoryCapFor(10, 0.4)).toBe(4);
    expect(categoryCapFor(10, 1)).toBe(Infinity);
  });
});

describe('rules', () => {
  it('never keeps excluded, unavailable or duplicate items (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 80 }), fc.array(fc.integer({ min: 0, max: 40 })), fc.integer({ min: 1, max: 7 }), (ids, excluded, mod) => {
        const rules = { excluded: new Set(excluded.map(String)), isAvailable: (id: string) => Number(id) % mod !== 0 };
        const kept = applyRules(ids.map((i) => ({ id: String(i) })), rules).kept.map((c) => c.id);
        expect(violatesRules(kept, rules, kept.length)).toBeNull();
        const expected = [...new Set(ids.map(String))].filter((id) => !rules.excluded.has(id) && rules.isAvailable(id));
        expect(kept).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Thompson exploration', () => {
  it('Beta samples have the right mean', () => {
    const rng = createRng(7);
    let sum = 0;
    for (let i = 0; i < 4000; i++) sum += sampleBeta(rng, 3, 7);
    expect(sum / 4000).toBeGreaterThan(0.27);
    expect(sum / 4000).toBeLessThan(0.33);
  });
  it('is deterministic for a seed and favours items with a better click record', () => {
    const stats = new Map([
      ['good', { impressions: 1000, clicks: 300 }],
      ['bad', { impressions: 1000, clicks: 5 }],
    ]);
    expect(thompsonPick(createRng(3), ['bad', 'good', 'x'], stats, 2)).toEqual(thompsonPick(createRng(3), ['bad', 'good', 'x'], stats, 2));
    let goodWins = 0;
    const rng = createRng(11);
    for (let i = 0; i < 200; i++) if (thompsonPick(rng, ['bad', 'good'], stats, 1)[0] === 'good') goodWins++;
    expect(goodWins).toBe(200);
  });
  it('puts exploration items in the lower half and keeps k', () => {
    expect(explorationPositions(10, 2).every((p) => p >= 5 && p < 10)).toBe(true);
    const out = insertExploration({ slate: ['a', 'b', 'c', 'd', 'e', 'f'], pool: ['x', 'y', 'a'], stats: new Map(), slots: 2, k: 6, rng: createRng(1) });
    expect(out.ids).toHaveLength(6);
    expect(new Set(out.ids).size).toBe(6);
    expect(out.ids.slice(0, 3)).toEqual(['a', 'b', 'c']);
    expect([...out.explored].sort()).toEqual(['x', 'y']);
  });
});

describe('reasons', () => {
  it('follows the precedence anchor → new → popular', () => {
    expect(reasonFor({ anchorTitle: 'Red Shoe', anchorSimilarity: 0.8, ageDays: 3, categoryName: 'Shoes', source: 'personal' })).toBe('Because you viewed Red Shoe');
    expect(reasonFor({ anchorTitle: 'Red Shoe', anchorSimilarity: 0.1, ageDays: 3, categoryName: 'Shoes', source: 'personal' })).toBe('New for you');
    expect(reasonFor({ ageDays: 300, categoryName: 'Shoes', source: 'popular' })).toBe('Popular in Shoes');
    expect(reasonFor({ ageDays: 300, categoryName: 'Shoes', source: 'segment' })).toBe('Popular with shoppers like you in Shoes');
    expect(reasonFor({ ageDays: 300, categoryName: 'Shoes', source: 'personal', explored: true })).toBe('Something new to try');
  });
});

describe('experiment assignment', () => {
  const experiment = ExperimentSchema.parse({
    id: 'mmr-test',
    variants: [
      { id: 'control', weight: 1 },
      { id: 'diverse', weight: 3, settings: { mmrLambda: 0.5 } },
    ],
    shadow: { settings: { dlrmWeight: 0.5 } },
  });
  it('is deterministic and follows the weights', () => {
    const counts = { control: 0, diverse: 0 };
    for (let u = 0; u < 4000; u++) {
      const v = assignVariant(experiment, `u${u}`);
      expect(assignVariant(experiment, `u${u}`).id).toBe(v.id);
      counts[v.id as 'control' | 'diverse']++;
    }
    expect(counts.diverse / 4000).toBeGreaterThan(0.7);
    expect(counts.diverse / 4000).toBeLessThan(0.8);
  });
  it('labels the variant, merges settings and lists shadows; no unit → no variant', () => {
    const a = assignAll([experiment], { userId: 'u1' }, 'home');
    expect(a.variant).toMatch(/^mmr-test:(control|diverse)$/);
    expect(a.shadows).toHaveLength(1);
    if (a.variant === 'mmr-test:diverse') expect(a.settings.mmrLambda).toBe(0.5);
    expect(assignAll([experiment], {}, 'home').variant).toBeNull();
  });
});
