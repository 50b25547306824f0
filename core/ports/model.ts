/**
 * The model runtime port: one loaded model version (user tower, DLRM ranker, item embeddings and their ANN
 * index) as the pipeline sees it, and the loader the model registry is given. The ONNX implementation is
 * adapters/onnx/loaded-model.ts; the core never names a runtime.
 */
import type { ModelManifest } from '../../shared/contracts/manifest.ts';
import type { DlrmInput, SessionRerankInput, UserTowerInput } from '../../shared/features/encode.ts';
import type { FeatureSpace } from '../../shared/features/feature-space.ts';
import type { AnnIndex } from './ann.ts';

/** Item-to-item neighbours (item_neighbours.bin): row r (item index r + 1) holds perItem (index, weight) pairs, index 0 = none. */
export interface ItemNeighbours {
  readonly perItem: number;
  /** Newest distinct history items that score (manifest itemNeighboursWindow). */
  readonly window: number;
  readonly items: Int32Array;
  readonly weights: Float32Array;
}

export interface LoadedModel {
  readonly version: string;
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly space: FeatureSpace;
  readonly dim: number;
  /** Item embeddings at unit length (row r = item index r + 1), for MMR similarity and reasons: the embeddings themselves when already normalised, else a normalised copy. */
  readonly unitEmbeddings: Float32Array;
  /** Session vectors (shared/features/session-vectors.ts), row = item index, cold-start items included; absent for older versions. */
  readonly sessionVectors?: Int8Array | undefined;
  readonly index: AnnIndex;
  /** The item-to-item candidate source, when the version ships one (older versions do not). */
  readonly neighbours?: ItemNeighbours | undefined;
  readonly warnings: readonly string[];
  readonly providers: readonly string[];
  /** Catalogue items appended after the trained ones with a content-fallback embedding (core/registry/cold-start.ts); 0 when none. */
  readonly coldStartItems?: number;
  /** User embeddings, n × dim row-major. */
  embedUsers(batch: readonly UserTowerInput[]): Promise<Float32Array>;
  /** Click probabilities, one per DLRM row. */
  scoreCandidates(batch: DlrmInput): Promise<Float32Array>;
  /** Session reranker scores for one slate (the edge's model); absent when the version ships none. */
  scoreSession?(input: SessionRerankInput): Promise<Float32Array>;
  /** Cosine similarity of two items by feature-space index (0 for unknown). */
  itemSimilarity(a: number, b: number): number;
  dispose(): Promise<void>;
}

export interface ModelLoader {
  /** Loads and warms up the version folder `dir`; rejects when it cannot be served. */
  load(dir: string): Promise<LoadedModel>;
}
