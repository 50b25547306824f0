/**
 * ANN adapters on the demo item embeddings: recall against exact search, batch = single, save/load via the cache;
 * usearch's quantised storage (f16) and the search expansion applied to a cached graph.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAnnIndex, buildOrLoadAnnIndex } from '../../adapters/ann/build.ts';
import { demoEmbeddings } from './support.ts';

const { manifest, vectors, dim } = await demoEmbeddings();
const exact = buildAnnIndex('exact', vectors, dim);
const queries = Array.from({ length: 30 }, (_, q) => vectors.slice(((q * 331) % manifest.itemCount) * dim, ((q * 331) % manifest.itemCount + 1) * dim));
const tmp = await mkdtemp(join(tmpdir(), 'ann-cache-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

function recall(found: Int32Array, truth: Int32Array): number {
  const set = new Set(truth);
  return [...found].filter((r) => set.has(r)).length / truth.length;
}

describe.each(['usearch', 'hnswlib'] as const)('%s', (kind) => {
  it('finds ≥ 95% of the exact top-1000 and scores are inner products', () => {
    const index = buildAnnIndex(kind, vectors, dim);
    expect(index.size).toBe(manifest.itemCount);
    let total = 0;
    for (const q of queries) {
      const hits = index.search(q, 1000);
      total += recall(hits.rows, exact.search(q, 1000).rows);
      const r = hits.rows[0]!;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += vectors[r * dim + d]! * q[d]!;
      expect(hits.scores[0]).toBeCloseTo(dot, 3);
      for (let j = 1; j < hits.scores.length; j++) expect(hits.scores[j]!).toBeLessThanOrEqual(hits.scores[j - 1]! + 1e-5);
    }
    expect(total / queries.length).toBeGreaterThan(0.95);
  });

  it('batch search equals one-by-one, and a cached index loads with the same answers', async () => {
    const first = await buildOrLoadAnnIndex(kind, vectors, dim, tmp, `test-${kind}`);
    expect(first.fromCache).toBe(false);
    const second = await buildOrLoadAnnIndex(kind, vectors, dim, tmp, `test-${kind}`);
    expect(second.fromCache).toBe(true);
    const flat = new Float32Array(queries.length * dim);
    queries.forEach((q, i) => flat.set(q, i * dim));
    const batch = await first.index.searchBatch(flat, 100);
    queries.forEach((q, i) => {
      expect([...batch[i]!.rows]).toEqual([...first.index.search(q, 100).rows]);
      expect(recall(second.index.search(q, 100).rows, batch[i]!.rows)).toBeGreaterThan(0.95);
    });
  });
});

describe('gemm (exact search in batches through ONNX Runtime)', () => {
  it('returns the exact top-k of every query, in order, with inner-product scores, across passes and tied scores', async () => {
    // 40 000 rows: the demo embeddings four times over, so every score is tied with three other rows (ties go to
    // the lower row, as in the exact scan), and more than one pass of queries.
    const copies = new Float32Array(vectors.length * 4);
    for (let c = 0; c < 4; c++) copies.set(vectors, c * vectors.length);
    const { index } = await buildOrLoadAnnIndex('gemm', copies, dim, undefined, 'unused');
    const scan = buildAnnIndex('exact', copies, dim);
    expect(index.kind).toBe('gemm');
    expect(index.size).toBe(manifest.itemCount * 4);
    const many = Array.from({ length: 300 }, (_, q) => queries[q % queries.length]!.map((v, d) => v + ((q * 7 + d) % 5) * 1e-3));
    const flat = new Float32Array(many.length * dim);
    many.forEach((q, i) => flat.set(q, i * dim));
    const batch = await index.searchBatch(flat, 50);
    expect(batch).toHaveLength(many.length);
    let sameOrder = 0;
    many.forEach((q, i) => {
      const truth = scan.search(q, 50);
      expect(recall(batch[i]!.rows, truth.rows)).toBeGreaterThanOrEqual(0.98); // float sums in another order may swap a boundary pair
      for (let j = 0; j < 50; j++) expect(batch[i]!.scores[j]!).toBeCloseTo(truth.scores[j]!, 4);
      if ([...batch[i]!.rows].join() === [...truth.rows].join()) sameOrder++;
    });
    expect(sameOrder / many.length).toBeGreaterThan(0.9);
    // Ties: the four copies of the best row come back together, lowest row first.
    const top = [...batch[0]!.rows.slice(0, 4)];
    expect(top).toEqual([...top].sort((a, b) => a - b));
    expect(new Set(top.map((r) => r % manifest.itemCount)).size).toBe(1);
    expect(await index.searchBatch(new Float32Array(0), 10)).toEqual([]);
    expect((await index.searchBatch(flat.subarray(0, dim), 10 ** 7))[0]!.rows).toHaveLength(index.size);
    index.dispose();
  });
});

describe('usearch options', () => {
  const recallAt = (index: ReturnType<typeof buildAnnIndex>, k: number): number =>
    queries.reduce((sum, q) => sum + recall(index.search(q, k).rows, exact.search(q, k).rows), 0) / queries.length;

  it('f16 vectors keep at least 95 percent of the exact top-1000, with scores within 1e-2 of the inner products', () => {
    const index = buildAnnIndex('usearch', vectors, dim, { quantization: 'f16', expansionSearch: 2048 });
    expect(index.size).toBe(manifest.itemCount);
    expect(recallAt(index, 1000)).toBeGreaterThan(0.95);
    {
      // The stored vectors really are 16-bit: scores move off the exact inner products, but only a little.
      let worst = 0;
      for (const q of queries) {
        const hits = index.search(q, 10);
        hits.rows.forEach((r, j) => {
          let dot = 0;
          for (let d = 0; d < dim; d++) dot += vectors[r * dim + d]! * q[d]!;
          worst = Math.max(worst, Math.abs(hits.scores[j]! - dot));
        });
      }
      expect(worst).toBeGreaterThan(1e-6);
      expect(worst).toBeLessThan(1e-2);
    }
  });

  it('the search expansion is a search-time setting: a cached graph loaded with a larger ef finds more of the exact top-1000', async () => {
    await buildOrLoadAnnIndex('usearch', vectors, dim, tmp, 'test-ef', { expansionSearch: 1000 });
    const narrow = await buildOrLoadAnnIndex('usearch', vectors, dim, tmp, 'test-ef', { expansionSearch: 1000 });
    const wide = await buildOrLoadAnnIndex('usearch', vectors, dim, tmp, 'test-ef', { expansionSearch: 8192 });
    expect(narrow.fromCache && wide.fromCache).toBe(true);
    const [low, high] = [recallAt(narrow.index, 1000), recallAt(wide.index, 1000)];
    expect(high).toBeGreaterThan(low);
    expect(high).toBeGreaterThan(0.99);
  });
});
