/**
 * Exact retrieval for one request at a time: the item vectors quantised to int8 (a scale per dimension,
 * int8-scan-packing.ts), scanned in full by a small native loop (int8-scan/int8_scan.c) that keeps the best rows
 * while it streams, then the best `k + rescore` rows and the packing's outlier rows re-scored with the float32 vectors. No graph to build or cache; the answer is the exact
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
import { packRows, packRowsYielding, quantiseQuery, type PackedRows } from './int8-scan-packing.ts';

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

/** The scan loop this CPU runs ("avx512-vnni", "avx2" or "generic"), for benchmarks and logs. */
export function int8ScanKernel(): string | undefined {
  return loaded.scan?.kernel();
}

export interface Int8ScanOptions {
  /** Rows past k re-scored in float32 (default max(k, 32)): int8 rounding can swap near-ties around the k-th row. */
  rescore?: number;
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
  const { packed, paddedDim, scales, outliers } = packing;
  const extra = Math.max(0, Math.floor(options.rescore ?? Number.NaN));

  /** The float32 inner products of the scan's rows and the outliers, best first (NaN last, ties to the lower row). */
  function rescored(query: Float32Array, offset: number, found: Int32Array, k: number): AnnHits {
    let candidates: ArrayLike<number> = found;
    if (outliers.length > 0) {
      const seen = new Set(found);
      candidates = [...found, ...[...outliers].filter((r) => !seen.has(r))];
    }
    const count = candidates.length;
    const exact = new Float32Array(count);
    const key = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const base = candidates[i]! * dim;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += rows[base + d]! * query[offset + d]!;
      exact[i] = dot;
      key[i] = Number.isNaN(exact[i]!) ? Number.NEGATIVE_INFINITY : exact[i]!;
    }
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => key[b]! - key[a]! || candidates[a]! - candidates[b]!);
    const n = Math.min(k, count);
    return { rows: Int32Array.from(order.slice(0, n), (i) => candidates[i]!), scores: Float32Array.from(order.slice(0, n), (i) => exact[i]!) };
  }

  function searchMany(queries: Float32Array, k: number): AnnHits[] {
    const nq = Math.floor(queries.length / dim);
    const kk = Number.isNaN(k) ? 0 : Math.min(Math.max(0, Math.floor(k)), size);
    if (nq === 0) return [];
    if (kk === 0) return Array.from({ length: nq }, () => ({ rows: new Int32Array(0), scores: new Float32Array(0) }));
    const wide = Math.min(size, kk + (Number.isNaN(extra) ? Math.max(kk, 32) : extra));
    const q8 = new Int8Array(nq * paddedDim);
    for (let q = 0; q < nq; q++) quantiseQuery(queries, q * dim, scales, q8, q * paddedDim);
    const outRows = new Int32Array(nq * wide);
    const outScores = new Int32Array(nq * wide);
    const kept = scan!.search(packed, size, paddedDim, q8, wide, outRows, outScores);
    return Array.from({ length: nq }, (_, q) => rescored(queries, q * dim, outRows.subarray(q * wide, q * wide + kept), kk));
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
