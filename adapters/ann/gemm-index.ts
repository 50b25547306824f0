/**
 * Exact inner-product search in batches: one matrix product per batch of queries (onnxruntime's GEMM) and the k
 * best per query (its TopK), over the whole catalogue. Built for the nightly, which asks for 256 users at a time:
 * each pass over the item vectors then serves many queries, so at 1M items it costs less per user than an HNSW
 * search at the serving ef, with recall 1.0 and no graph to build (docs/nightly.md has the measurement). It is not
 * for single requests: one query still reads every vector (256 MB at 1M × 64), so `search` (one query) is the plain
 * scan of exact-index.ts, and the origin uses the int8 scan (int8-scan-index.ts, a quarter of the bytes). The graph (gemm-topk.onnx, 300 bytes, no weights) is written
 * by models/export/gemm_topk.py; the item vectors are fed as an input, so one file serves every version.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { AnnHits, AnnIndex } from '../../core/ports/ann.ts';
import { createExactIndex } from './exact-index.ts';

const GRAPH = readFileSync(new URL('./gemm-topk.onnx', import.meta.url));
/** Scores held at once per pass (queries × items): 64M floats = 256 MB, e.g. 64 queries at 1M items. */
const SCRATCH_SCORES = 1 << 26;
const MAX_QUERIES_PER_PASS = 256;

export interface GemmIndexOptions {
  /** ONNX Runtime intra-op threads for the product (0 = all cores). Default 1: the nightly runs one worker per core. */
  threads?: number | undefined;
}

export async function createGemmIndex(vectors: Float32Array, dim: number, options: GemmIndexOptions = {}): Promise<AnnIndex> {
  const size = Math.floor(vectors.length / dim);
  const session = await ort.InferenceSession.create(GRAPH, { intraOpNumThreads: options.threads ?? 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  // A fresh array: the binding reads a tensor's buffer from its start (a view into a larger buffer would be misread).
  const owned = vectors.byteOffset === 0 && vectors.length === size * dim ? vectors : vectors.slice(0, size * dim);
  const items = new ort.Tensor('float32', owned, [size, dim]);
  const scan = createExactIndex(vectors, dim);
  const perPass = Math.max(1, Math.min(MAX_QUERIES_PER_PASS, Math.floor(SCRATCH_SCORES / Math.max(1, size))));

  async function pass(queries: Float32Array, n: number, k: number): Promise<AnnHits[]> {
    const out = await session.run({
      queries: new ort.Tensor('float32', queries, [n, dim]),
      items,
      k: new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]),
    });
    const scores = out.scores!.data as Float32Array;
    const rows = out.rows!.data as BigInt64Array;
    return Array.from({ length: n }, (_, q) => ({
      rows: Int32Array.from(rows.subarray(q * k, (q + 1) * k), Number),
      scores: scores.slice(q * k, (q + 1) * k),
    }));
  }

  // Warm-up, at open rather than inside the first user batches: the first two full-size passes each cost about
  // ten steady ones (at 1M items: ~900 ms against ~95 ms, 40 % of it in the kernel faulting in the fresh
  // queries × items score block; from the third pass onnxruntime's arena reuses it). A nightly worker's first
  // batches would otherwise pay ~1.6 s more: over half of the retrieval time of a 2,000-user benchmark run.
  if (size > 0) for (let i = 0; i < 2; i++) await pass(new Float32Array(perPass * dim), perPass, 1);

  return {
    kind: 'gemm',
    dim,
    size,
    search: (query, k) => scan.search(query, k),
    searchBatch: async (queries, k) => {
      const n = Math.floor(queries.length / dim);
      const kk = Math.min(k, size);
      if (n === 0) return [];
      if (kk <= 0) return Array.from({ length: n }, () => ({ rows: new Int32Array(0), scores: new Float32Array(0) }));
      const hits: AnnHits[] = [];
      for (let start = 0; start < n; start += perPass) {
        const count = Math.min(perPass, n - start);
        hits.push(...(await pass(queries.slice(start * dim, (start + count) * dim), count, kk)));
      }
      return hits;
    },
    save: async (path) => writeFile(path, new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength)),
    dispose: () => void session.release().catch(() => undefined),
  };
}
