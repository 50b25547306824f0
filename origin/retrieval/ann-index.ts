/**
 * The ANN port: an inner-product index over item embedding rows. Row r of the embedding matrix has key r,
 * so callers map hits back to items without a side table (feature-space item index = row + 1).
 * Implementations: usearch (default, see docs/ann-choice.md), hnswlib-node, and exact search (ground truth).
 */
export type AnnKind = 'usearch' | 'hnswlib' | 'exact';

export interface AnnHits {
  /** Embedding rows, best first. */
  rows: Int32Array;
  /** Inner-product similarity of each row with the query (higher is closer). */
  scores: Float32Array;
}

export interface AnnIndex {
  readonly kind: AnnKind;
  readonly dim: number;
  readonly size: number;
  search(query: Float32Array, k: number): AnnHits;
  /** Queries flattened row-major (n × dim); one result per query. */
  searchBatch(queries: Float32Array, k: number): AnnHits[];
  save(path: string): Promise<void>;
  dispose(): void;
}

export interface AnnBuildOptions {
  /** Graph degree (M). */
  connectivity?: number;
  /** Candidate list size while building. */
  expansionAdd?: number;
  /** Candidate list size while searching; raised to k when k is larger. */
  expansionSearch?: number;
  /**
   * Threads for building and batch search (usearch); 0 = all cores. Default 1: a single-threaded build is
   * deterministic (same graph, same candidates, reproducible slates and tests); big catalogues load a cached graph.
   */
  threads?: number;
}

export const DEFAULT_ANN_OPTIONS: Required<AnnBuildOptions> = {
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
