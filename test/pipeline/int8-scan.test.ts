/**
 * The exact int8 scan (adapters/ann/int8-scan-index.ts, int8-scan-packing.ts and the native loop) on the demo model's
 * item embeddings and real user-tower queries: recall against exact float32 search, every CPU loop (AVX-512 VNNI,
 * AVX2, plain C) giving the same rows and scores (ties included), batch = single, the re-scoring window, outlier rows,
 * the edges (k past the catalogue, k = 0, an empty catalogue, a dimension that is not a multiple of 4, ties), hostile
 * arguments to the native call, and the origin's default index.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAnnIndex, SCAN_MAX_ITEMS, servingAnnKind } from '../../adapters/ann/build.ts';
import { createInt8ScanIndex, int8ScanKernel, int8ScanUnavailable } from '../../adapters/ann/int8-scan-index.ts';
import { packRows, packRowsYielding } from '../../adapters/ann/int8-scan-packing.ts';
import { loadModel } from '../../adapters/onnx/loaded-model.ts';
import { HISTORY_LENGTH } from '../../shared/features/spec.ts';
import { createRng } from '../../shared/util/rng.ts';
import { demoDataset, demoEmbeddings } from './support.ts';

const NATIVE = join(import.meta.dirname, '..', '..', 'adapters', 'ann', 'int8-scan', 'build', 'Release', 'int8_scan.node');
const { dir, vectors, dim } = await demoEmbeddings();
const exact = buildAnnIndex('exact', vectors, dim);
const model = await loadModel(dir);
afterAll(() => model.dispose());

/** 200 users of the demo shop through the real user tower: the queries the origin sends. */
async function userQueries(): Promise<Float32Array> {
  const shop = demoDataset();
  const histories = new Map<string, number[]>();
  for (const e of shop.interactions) {
    const index = model.space.itemIndex(e.itemId);
    if (index > 0) histories.set(e.userId, [...(histories.get(e.userId) ?? []), index]);
  }
  const users = [...histories.entries()].slice(0, 200);
  return model.embedUsers(users.map(([userId, items]) => {
    const history = new Int32Array(HISTORY_LENGTH);
    history.set(items.slice(-HISTORY_LENGTH), HISTORY_LENGTH - Math.min(HISTORY_LENGTH, items.length));
    return { segment: model.space.segmentIndex(shop.users.find((u) => u.id === userId)?.segment ?? '') || 1, history };
  }));
}

function randomVectors(n: number, d: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * d }, () => rng.next() * 2 - 1);
}

describe('the exact int8 scan', () => {
  it('is built here and names the loop this CPU runs', () => {
    expect(int8ScanUnavailable()).toBeUndefined();
    expect(['avx512-vnni', 'avx2', 'generic']).toContain(int8ScanKernel());
  });

  it('finds the exact top-100 of real user-tower queries (recall ≥ 0.99), scored as float32 inner products', async () => {
    const queries = await userQueries();
    const index = createInt8ScanIndex(vectors, dim);
    const n = queries.length / dim;
    expect(n).toBeGreaterThanOrEqual(100);
    let found = 0;
    let sameTop10 = 0;
    const batch = await index.searchBatch(queries, 100);
    for (let q = 0; q < n; q++) {
      const query = queries.slice(q * dim, (q + 1) * dim);
      const hits = index.search(query, 100);
      expect([...hits.rows]).toEqual([...batch[q]!.rows]); // a batch answers as the queries one by one
      const truth = exact.search(query, 100);
      const want = new Set(truth.rows);
      found += [...hits.rows].filter((r) => want.has(r)).length;
      if (hits.rows.slice(0, 10).every((r, i) => r === truth.rows[i])) sameTop10++;
      for (let i = 0; i < hits.rows.length; i++) {
        let dot = 0;
        for (let d = 0; d < dim; d++) dot += vectors[hits.rows[i]! * dim + d]! * query[d]!;
        expect(hits.scores[i]).toBeCloseTo(dot, 4);
        if (i > 0) expect(hits.scores[i]!).toBeLessThanOrEqual(hits.scores[i - 1]!);
      }
    }
    expect(found / (n * 100)).toBeGreaterThanOrEqual(0.99);
    expect(sameTop10 / n).toBeGreaterThanOrEqual(0.95);
  });

  it.each([
    ['random codes', 1],
    ['codes in {-1, 0, 1} (ties everywhere, at the k-th row too)', 3],
  ])('gives the same rows and integer scores with every loop this CPU can run: %s', (_name, spread) => {
    const rows = 1000 + 7; // not a whole number of 16-row blocks
    const { packed: rawPacked, paddedDim } = packRows(randomVectors(rows, 26, 5), 26); // padded to 28: 7 groups of 4, one odd
    // The tie case keeps only each code's sign (-1, 0 or 1; padding stays 0), so many rows share a score.
    const packed = spread === 1 ? rawPacked : Uint8Array.from(rawPacked, (b) => 128 + Math.sign(b - 128));
    // 7 queries: the VNNI loop scores queries 4 at a time, then 2, then 1, the AVX2 loop 2 at a time, then 1; every path is compared.
    const nq = 7;
    const queries = Int8Array.from(randomVectors(nq, paddedDim, 6), (v) => (spread === 1 ? Math.round(v * 63) : Math.round(v * 1.4)));
    const script = `const s = require(${JSON.stringify(NATIVE)}); const [packed, queries] = JSON.parse(process.argv[1]);
      const r = new Int32Array(${nq} * 50), c = new Int32Array(${nq} * 50);
      s.search(Uint8Array.from(packed), ${rows}, ${paddedDim}, Int8Array.from(queries), 50, r, c);
      console.log(JSON.stringify({ kernel: s.kernel(), rows: [...r], scores: [...c] }));`;
    const run = (kernel: string) => {
      const child = spawnSync(process.execPath, ['-e', script, JSON.stringify([[...packed], [...queries]])], { env: { ...process.env, INT8_SCAN_KERNEL: kernel }, encoding: 'utf8' });
      expect(child.stderr).toBe('');
      return JSON.parse(child.stdout) as { kernel: string; rows: number[]; scores: number[] };
    };
    const generic = run('generic');
    expect(generic.kernel).toBe('generic');
    // The plain loop against a reference of the same integer arithmetic: best first, ties to the lower row.
    let tiesAtTheCut = 0;
    for (let q = 0; q < nq; q++) {
      const all = Array.from({ length: rows }, (_, r) => {
        let sum = 0;
        for (let d = 0; d < paddedDim; d++) sum += packed[Math.floor(r / 16) * 16 * paddedDim + (d >> 2) * 64 + (r % 16) * 4 + (d & 3)]! * queries[q * paddedDim + d]!;
        return { r, sum };
      }).sort((a, b) => b.sum - a.sum || a.r - b.r);
      if (all[49]!.sum === all[50]!.sum) tiesAtTheCut++;
      expect(generic.rows.slice(q * 50, q * 50 + 50)).toEqual(all.slice(0, 50).map((x) => x.r));
      expect(generic.scores.slice(q * 50, q * 50 + 50)).toEqual(all.slice(0, 50).map((x) => x.sum));
    }
    if (spread === 3) expect(tiesAtTheCut).toBeGreaterThan(0); // the case does test the tie rule at the heap's edge
    for (const kernel of ['avx2', 'avx512-vnni']) {
      const other = run(kernel);
      if (other.kernel !== kernel) continue; // this CPU lacks it: the loader fell back
      expect({ kernel, rows: other.rows, scores: other.scores }).toEqual({ kernel, rows: generic.rows, scores: generic.scores });
    }
  });

  it('re-scores past k: near-ties that int8 rounding reorders still come back in exact order', () => {
    // 100 rows whose first value climbs by 0.0035, under half a quantisation step (1/127), and one row at 1.0: rows
    // sharing a code at the cut tie to the lower row, so the int8 top 10 alone holds row 90 instead of row 92.
    const n = 100;
    const near = new Float32Array((n + 1) * 4);
    for (let r = 0; r < n; r++) near.set([0.5 + 0.0035 * r, 0.01, 0, 0], r * 4);
    near.set([1, 0, 0, 0], n * 4);
    const query = Float32Array.of(1, 0, 0, 0);
    const truth = [...buildAnnIndex('exact', near, 4).search(query, 10).rows];
    expect([...createInt8ScanIndex(near, 4).search(query, 10).rows]).toEqual(truth);
    expect([...createInt8ScanIndex(near, 4, { rescore: 0 }).search(query, 10).rows]).not.toEqual(truth); // the window is what fixes it
  });

  it('keeps full resolution beside outlier rows 100× the rest, and never misses the outliers', () => {
    const n = 20_000;
    const d = 32;
    const data = randomVectors(n, d, 21);
    const wild = Array.from({ length: 20 }, (_, i) => (i * 977 + 13) % n);
    for (const r of wild) for (let j = 0; j < d; j++) data[r * d + j]! *= 100;
    expect([...packRows(data, d).outliers].sort((a, b) => a - b)).toEqual([...wild].sort((a, b) => a - b));
    const index = createInt8ScanIndex(data, d);
    const truthIndex = buildAnnIndex('exact', data, d);
    let found = 0;
    const queries = 50;
    for (let q = 0; q < queries; q++) {
      const query = randomVectors(1, d, 100 + q);
      const want = new Set(truthIndex.search(query, 100).rows);
      found += [...index.search(query, 100).rows].filter((r) => want.has(r)).length;
    }
    expect(found / (queries * 100)).toBeGreaterThanOrEqual(0.99);
  });

  it('answers at the edges: k past the catalogue, k = 0, no items, dim not a multiple of 4, ties to the lower row', async () => {
    const small = randomVectors(37, 10, 3);
    const index = createInt8ScanIndex(small, 10);
    const truth = buildAnnIndex('exact', small, 10);
    const query = small.slice(50, 60);
    expect([...index.search(query, 100).rows]).toEqual([...truth.search(query, 37).rows]);
    expect(index.search(query, 0).rows.length).toBe(0);
    expect(index.search(query.slice(0, 9), 5).rows.length).toBe(0);
    expect(index.search(query, Number.POSITIVE_INFINITY).rows.length).toBe(37);
    expect(index.search(query, Number.NaN).rows.length).toBe(0);
    expect(await index.searchBatch(new Float32Array(0), 5)).toEqual([]);
    expect(createInt8ScanIndex(new Float32Array(0), 10).search(query, 5).rows.length).toBe(0);
    const twins = new Float32Array(40);
    for (let r = 0; r < 4; r++) twins.set([1, 0.5, 0.25, 0.125, 0, 0, 0, 0, 0, 1].map((v) => v * (r === 2 ? 0.5 : 1)), r * 10);
    expect([...createInt8ScanIndex(twins, 10).search(twins.slice(0, 10), 4).rows]).toEqual([0, 1, 3, 2]);
    expect(createInt8ScanIndex(small, 10).search(new Float32Array(10).fill(Number.NaN), 3).rows.length).toBe(3);
  });

  it('packs a big catalogue in slices with the event loop served in between, to the same bytes', async () => {
    const many = randomVectors(50_000, 20, 11);
    // Counts event-loop turns, not milliseconds: a chained setImmediate runs once per turn, so a packing that yields
    // between its 50 slices lets it run about 50 times, and one that never yields lets it run not at all. (A
    // setInterval counter depended on how fast the slices ran: under a loaded CI it saw 8 ticks.)
    let ticks = 0;
    let turn: NodeJS.Immediate = setImmediate(function tick() {
      ticks++;
      turn = setImmediate(tick);
    });
    const sliced = await packRowsYielding(many, 20, 1000);
    clearImmediate(turn);
    const whole = packRows(many, 20);
    expect(ticks).toBeGreaterThan(10);
    expect(sliced.paddedDim).toBe(20);
    expect(Buffer.from(sliced.packed).equals(Buffer.from(whole.packed))).toBe(true);
    expect([...sliced.scales]).toEqual([...whole.scales]);
  });

  it('refuses malformed arguments at the native boundary with a RangeError, never reading past a buffer', () => {
    const scan = createRequire(import.meta.url)(NATIVE) as { search: (...args: unknown[]) => number };
    const packed = new Uint8Array(16 * 8);
    const out = new Int32Array(4);
    expect(() => scan.search(packed, 1, 8, new Int8Array(8), 4, out, out)).not.toThrow();
    expect(() => scan.search(new Int8Array(128), 1, 8, new Int8Array(8), 4, out, out)).toThrow(/packed: a Uint8Array/);
    expect(() => scan.search(packed, 17, 8, new Int8Array(8), 4, out, out)).toThrow(/fewer bytes/);
    expect(() => scan.search(packed, 1, 6, new Int8Array(6), 4, out, out)).toThrow(/multiple of 4/);
    expect(() => scan.search(packed, 1, 8, new Int8Array(7), 4, out, out)).toThrow(/whole rows/);
    expect(() => scan.search(packed, 1, 8, new Int8Array(16), 4, out, out)).toThrow(/room for k/);
    expect(() => scan.search(packed, 1, 8, new Int8Array(8), -1, out, out)).toThrow(/k: a positive/);
    expect(() => scan.search(packed, 1, 8)).toThrow(/search\(packed/);
    expect(() => scan.search(packed, 1, 8, Int8Array.of(64, 0, 0, 0, 0, 0, 0, 0), 4, out, out)).toThrow(/within ±63/); // the AVX2 sums would saturate
    // nq × k would wrap around to 0 in 64 bits: refused, not a heap overflow.
    expect(() => scan.search(packed, 1, 8, new Int8Array(32), 2 ** 62, out, out)).toThrow(/room for k/);
  });

  it('is what the origin searches by default up to SCAN_MAX_ITEMS, the HNSW graph past it', () => {
    expect(model.index.kind).toBe('int8-scan');
    expect(model.warnings.filter((w) => w.startsWith('ANN'))).toEqual([]);
    expect(servingAnnKind(SCAN_MAX_ITEMS)).toBe('int8-scan');
    expect(servingAnnKind(SCAN_MAX_ITEMS + 1)).toBe('usearch');
  });

  it('leaves a CPU with only the plain loop on the HNSW graph, and says so', () => {
    // The loop is chosen when the native module loads: a child process with INT8_SCAN_KERNEL=generic stands for such a CPU.
    const script = `import { servingAnnKind } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'adapters', 'ann', 'build.ts'))};
      import { scanNotServed } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'adapters', 'ann', 'build.ts'))};
      console.log(JSON.stringify({ kind: servingAnnKind(1000), why: scanNotServed(1000) }));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, INT8_SCAN_KERNEL: 'generic' }, encoding: 'utf8' });
    expect(JSON.parse(child.stdout)).toEqual({ kind: 'usearch', why: expect.stringMatching(/no vector loop/) });
  });
});
