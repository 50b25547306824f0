/** Build and search options shared by the ANN adapters, and the query-splitting helper they all use. */
export interface AnnBuildOptions {
  /** Graph degree (M). */
  connectivity?: number;
  /** Candidate list size while building. */
  expansionAdd?: number;
  /** Candidate list size while searching; raised to k when k is larger. */
  expansionSearch?: number;
  /**
   * How usearch stores the vectors in the graph: f32, or f16 (half the memory and bandwidth per distance; scores
   * within ~1e-3 of the inner product). A graph option: each value has its own cached graph. Ignored by hnswlib and
   * exact search. (usearch's i8 is not offered: it scales every vector to unit length before rounding, a cosine graph
   * that needs f32 re-scoring to rank by inner product; with it, p99 fell only ~9 % at 1M items, docs/benchmarks.md.)
   */
  quantization?: AnnQuantization;
  /**
   * Threads for building and batch search (usearch); 0 = all cores. Default 1: a single-threaded build is
   * deterministic (same graph, same candidates, reproducible slates and tests); big catalogues load a cached graph.
   */
  threads?: number;
}

export type AnnQuantization = 'f32' | 'f16';

export const DEFAULT_ANN_OPTIONS: Required<AnnBuildOptions> = {
  quantization: 'f32',
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 1024,
  threads: 1,
};

/** Splits n × dim queries into per-query views copied out (usearch ignores subarray offsets). */
export function rowsOf(queries: Float32Array, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let offset = 0; offset + dim <= queries.length; offset += dim) out.push(queries.slice(offset, offset + dim));
  return out;
}
