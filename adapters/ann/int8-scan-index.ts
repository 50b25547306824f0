/**
 * Exact retrieval for one request at a time: the item vectors quantised to int8 (a scale per dimension), scanned
 * in full by a small native loop (int8-scan/int8_scan.c) that keeps the best rows while it streams, then the
 * best `k + rescore` re-scored with the float32 vectors. No graph to build or cache; the answer is the exact
 * inner-product top-k up to int8 rounding, which the re-scoring absorbs (recall@100 against float32 exact search
 * 0.99–1.0 on the demo model and the synthetic 1M catalogue: test/pipeline/int8-scan.test.ts, docs/benchmarks.md).
 * One query reads every row (64 MB at 1M × 64), so its cost grows with the catalogue: the serving default up to
 * SCAN_MAX_ITEMS (adapters/ann/build.ts), HNSW past it. A batch of queries reads the rows once.
 * The native part is built by `npm ci` (node-gyp); where it could not be built, int8ScanUnavailable() says why
 * and the origin's default falls back to the HNSW graph.
 */
import { createRequire } from 'node:module';
import { writeFile } from 'node:fs/promises';
import type { AnnHits, AnnIndex } from '../../core/ports/ann.ts';

interface NativeScan {
  search(packed: Uint8Array, rows: number, dim: number, queries: Int8Array, k: number, outRows: Int32Array, outScores: Int32Array): number;
  kernel(): string;
}

const loaded: { scan?: NativeScan; error?: string } = (() => {
  try {
    return { scan: createRequire(import.meta.url)('./int8-scan/build/Release/int8_scan.node') as NativeScan };
  } catch (error) {
    return { error: `the native int8 scan is not built (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); run npm ci or npm rebuild with a C compiler` };
  }
})();

/** Why the native scan cannot be used here, or undefined when it can. */
export function int8ScanUnavailable(): string | undefined {
  return loaded.error;
}

/** The scan loop this CPU runs ("avx512-vnni" or "generic"), for benchmarks and logs. */
export function int8ScanKernel(): string | undefined {
  return loaded.scan?.kernel();
}

export interface Int8ScanOptions {
  /** Rows past k re-scored in float32 (default max(k, 32)): int8 rounding can swap near-ties around the k-th row. */
  rescore?: number;
}

/** Rows per block and dimensions per group of the packed layout (int8-scan/int8_scan.c). */
const LANES = 16;
const GROUP = 4;

export interface PackedRows {
  /** Blocks of 16 rows; per block, per group of 4 dimensions, the 16 rows' 4 codes as unsigned bytes (code + 128). */
  packed: Uint8Array;
  /** dim rounded up to a multiple of 4 (the padding dimensions hold code 0). */
  paddedDim: number;
  /** Per dimension: float value ≈ code × scale. */
  scales: Float32Array;
}

/** Per-dimension symmetric int8 quantisation (each dimension's largest |value| maps to ±127), packed for the scan. */
export function packRows(vectors: Float32Array, dim: number): PackedRows {
  const steps = packSteps(vectors, dim);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}

/**
 * packRows in slices of `rowsPerSlice` rows with the event loop served in between: at 1M × 64 the whole packing takes
 * about a second here, which a model swap in a serving origin must not spend in one go (a slice: ~15 ms).
 */
export async function packRowsYielding(vectors: Float32Array, dim: number, rowsPerSlice = 16_384): Promise<PackedRows> {
  const steps = packSteps(vectors, dim, rowsPerSlice);
  let step = steps.next();
  while (!step.done) {
    await new Promise((resolve) => setImmediate(resolve));
    step = steps.next();
  }
  return step.value;
}

function* packSteps(vectors: Float32Array, dim: number, rowsPerSlice = Number.POSITIVE_INFINITY): Generator<void, PackedRows> {
  const size = Math.floor(vectors.length / dim);
  const scales = new Float32Array(dim);
  for (let r = 0; r < size; r++) {
    const base = r * dim;
    for (let d = 0; d < dim; d++) {
      const a = Math.abs(vectors[base + d]!);
      if (a > scales[d]!) scales[d] = a;
    }
    if ((r + 1) % rowsPerSlice === 0) yield;
  }
  const inverse = new Float64Array(dim);
  for (let d = 0; d < dim; d++) {
    scales[d] = scales[d]! > 0 && Number.isFinite(scales[d]!) ? scales[d]! / 127 : 1;
    inverse[d] = 1 / scales[d]!;
  }
  const paddedDim = Math.ceil(dim / GROUP) * GROUP;
  const packed = new Uint8Array(Math.ceil(size / LANES) * LANES * paddedDim).fill(128);
  for (let r = 0; r < size; r++) {
    const base = r * dim;
    const at = Math.floor(r / LANES) * LANES * paddedDim + (r % LANES) * GROUP;
    for (let d = 0; d < dim; d++) {
      const code = Math.round(vectors[base + d]! * inverse[d]!) || 0; // NaN → 0
      packed[at + (d >> 2) * GROUP * LANES + (d & 3)] = (code > 127 ? 127 : code < -127 ? -127 : code) + 128;
    }
    if ((r + 1) % rowsPerSlice === 0) yield;
  }
  return { packed, paddedDim, scales };
}

/** Query codes stay within ±63: the AVX2 loop's 16-bit pair sums (2 × 255 × 63) must not saturate (int8_scan.c). */
const QUERY_LIMIT = 63;

/** The query folded with the rows' scales (q·v ≈ Σ (q_d s_d) code_d) and quantised with a scale of its own. */
function quantiseQuery(query: Float32Array, offset: number, scales: Float32Array, out: Int8Array, outOffset: number): void {
  const dim = scales.length;
  let max = 0;
  for (let d = 0; d < dim; d++) {
    const v = Math.abs(query[offset + d]! * scales[d]!);
    if (v > max) max = v;
  }
  const inv = max > 0 && Number.isFinite(max) ? QUERY_LIMIT / max : 0;
  for (let d = 0; d < dim; d++) out[outOffset + d] = Math.round(query[offset + d]! * scales[d]! * inv) || 0;
}

/** The index over these vectors; packing them takes ~1 s at 1M × 64 (openInt8ScanIndex serves the event loop meanwhile). */
export function createInt8ScanIndex(vectors: Float32Array, dim: number, options: Int8ScanOptions = {}): AnnIndex {
  return indexOver(vectors, dim, packRows(vectors, dim), options);
}

/** createInt8ScanIndex, packing in slices between which the event loop runs (a serving origin loading a version). */
export async function openInt8ScanIndex(vectors: Float32Array, dim: number, options: Int8ScanOptions = {}): Promise<AnnIndex> {
  return indexOver(vectors, dim, await packRowsYielding(vectors, dim), options);
}

function indexOver(vectors: Float32Array, dim: number, packing: PackedRows, options: Int8ScanOptions): AnnIndex {
  const scan = loaded.scan;
  if (!scan) throw new Error(loaded.error);
  const size = Math.floor(vectors.length / dim);
  const rows = vectors.length === size * dim ? vectors : vectors.slice(0, size * dim);
  const { packed, paddedDim, scales } = packing;

  function rescored(query: Float32Array, offset: number, rowList: Int32Array, count: number, k: number): AnnHits {
    const order = Array.from({ length: count }, (_, i) => i);
    const exact = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const base = rowList[i]! * dim;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += rows[base + d]! * query[offset + d]!;
      exact[i] = dot;
    }
    order.sort((a, b) => exact[b]! - exact[a]! || rowList[a]! - rowList[b]!);
    const n = Math.min(k, count);
    return { rows: Int32Array.from(order.slice(0, n), (i) => rowList[i]!), scores: Float32Array.from(order.slice(0, n), (i) => exact[i]!) };
  }

  function searchMany(queries: Float32Array, k: number): AnnHits[] {
    const nq = Math.floor(queries.length / dim);
    const kk = Number.isFinite(k) ? Math.min(Math.max(0, Math.floor(k)), size) : 0;
    if (nq === 0) return [];
    if (kk === 0) return Array.from({ length: nq }, () => ({ rows: new Int32Array(0), scores: new Float32Array(0) }));
    const wide = Math.min(size, kk + (options.rescore ?? Math.max(kk, 32)));
    const q8 = new Int8Array(nq * paddedDim);
    for (let q = 0; q < nq; q++) quantiseQuery(queries, q * dim, scales, q8, q * paddedDim);
    const outRows = new Int32Array(nq * wide);
    const outScores = new Int32Array(nq * wide);
    const kept = scan!.search(packed, size, paddedDim, q8, wide, outRows, outScores);
    return Array.from({ length: nq }, (_, q) => rescored(queries, q * dim, outRows.subarray(q * wide, q * wide + kept), kept, kk));
  }

  return {
    kind: 'int8-scan',
    dim,
    size,
    // A query shorter than dim has no row to search with: no hits, like k = 0.
    search: (query, k) => searchMany(query.length === dim ? query : query.slice(0, dim), k)[0] ?? { rows: new Int32Array(0), scores: new Float32Array(0) },
    searchBatch: (queries, k) => searchMany(queries, k),
    save: async (path) => writeFile(path, new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength)),
    dispose: () => undefined,
  };
}
