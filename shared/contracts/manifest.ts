/**
 * Model manifest: one per model version, written by the trainer next to the artifacts and read by origin,
 * nightly and edge. The ONNX input/output names below are part of the contract.
 */
import { z } from 'zod';

export const MODEL_IO = {
  userTower: { inputs: ['segment', 'history'], outputs: ['user_embedding'] },
  dlrm: { inputs: ['sparse', 'dense'], outputs: ['score'] },
  sessionReranker: {
    // cand_vec / sess_vec / sess_mask: since session vectors (shared/features/session-vectors.ts); older versions lack them.
    inputs: ['cand_category', 'cand_brand', 'cand_price', 'cand_score', 'cand_vec', 'sess_category', 'sess_brand', 'sess_price', 'sess_vec', 'sess_mask'],
    outputs: ['scores'],
  },
} as const;

export const ModelManifestSchema = z.object({
  version: z.string().min(1).max(64).regex(/^[\w.-]+$/),
  createdAt: z.string(),
  featureSpecVersion: z.number().int(),
  dataset: z.string(),
  embeddingDim: z.number().int().positive(),
  /** Number of items; item embedding row r belongs to item index r + 1. */
  itemCount: z.number().int().nonnegative(),
  vocab: z.object({
    items: z.number().int(),
    categories: z.number().int(),
    brands: z.number().int(),
    segments: z.number().int(),
    priceBuckets: z.number().int(),
  }),
  /** Paths relative to the manifest's folder. */
  files: z.object({
    userTower: z.string(),
    dlrm: z.string(),
    sessionReranker: z.string(),
    itemEmbeddings: z.string(),
    featureSpace: z.string(),
    /** Item-to-item neighbours (item-kNN or EASE, chosen on validation): int32 n x m indices then float32 n x m weights. */
    itemNeighbours: z.string().optional(),
    /** The session-vector projection (shared/features/session-vectors.ts); older versions: none (zero vectors). */
    sessionProjection: z.string().optional(),
  }),
  /** Whether the origin applies the session reranker to requests with session items ('off': the evaluation found it did not help). */
  sessionRerank: z.enum(['on', 'off']).optional(),
  /** How far the reranker moves a slate when on (shared/features/encode.ts blendSessionScores); absent: 1. */
  sessionRerankStrength: z.number().min(0).max(1).optional(),
  /** m, the neighbours per item in files.itemNeighbours. */
  itemNeighboursPerItem: z.number().int().positive().optional(),
  /** How many of the newest distinct history items the item-to-item source scores with (chosen on validation). */
  itemNeighboursWindow: z.number().int().positive().optional(),
  /**
   * Serving choices made for this version on the ranker's validation lists (models/evaluate/choose-serving.ts):
   * the ranker's popularity correction β, the MMR trade-off and the category cap. Absent (older versions): β 0,
   * the pipeline's defaults.
   */
  serving: z
    .object({
      /** score = logit(p) − β · log item popularity (core/pipeline/popularity-correction.ts); 0 = none. */
      popularityCorrection: z.number().min(0).max(50),
      /** MMR λ used when neither the pipeline settings nor an experiment set one (1 = relevance only). */
      mmrLambda: z.number().min(0).max(1),
      /** Share of a slate one category may fill, used when neither the settings nor an experiment set one (1 = no cap). */
      categoryCapShare: z.number().min(0).max(1),
    })
    .optional(),
  itemEmbeddingsDtype: z.enum(['float32', 'float16', 'int8']).default('float32'),
  /** For int8 embeddings: value = int8 * scale. */
  itemEmbeddingsScale: z.number().optional(),
  /** Offline metrics of this version (name → value), e.g. "twotower.recall@100". */
  metrics: z.record(z.string(), z.number()).default({}),
  training: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

/** The pointer file naming the version to serve (models/artifacts/current.json). */
export const ModelPointerSchema = z.object({ version: z.string().min(1) });
export type ModelPointer = z.infer<typeof ModelPointerSchema>;
