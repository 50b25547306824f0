/**
 * The ANN port: an inner-product index over item embedding rows. Row r of the embedding matrix has key r,
 * so callers map hits back to items without a side table (feature-space item index = row + 1).
 * Implementations (adapters/ann/): the exact int8 scan (the origin's default up to 2M items), usearch HNSW (past
 * that, see docs/ann-choice.md), hnswlib-node, exact float32 search (ground truth), and exact search in batches
 * through onnxruntime's GEMM (the nightly's default).
 */
export type AnnKind = 'usearch' | 'hnswlib' | 'exact' | 'gemm' | 'int8-scan';

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
  /** Queries flattened row-major (n × dim); one result per query (asynchronous where the search runs in ONNX Runtime). */
  searchBatch(queries: Float32Array, k: number): AnnHits[] | Promise<AnnHits[]>;
  save(path: string): Promise<void>;
  dispose(): void;
}
