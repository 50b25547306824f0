/**
 * Pipeline knobs. Defaults here; experiments override any subset per variant (including the model version).
 */
import { z } from 'zod';

/** ANN candidates per slate position at least (planRequest raises `candidates` for long slates), and the most. */
export const CANDIDATES_PER_SLOT = 4;
export const MAX_CANDIDATES = 5000;

export const PipelineSettingsSchema = z.object({
  /** Serve this model version (must be pinned in the registry); default: the current one. */
  modelVersion: z.string().min(1).max(64).regex(/^[A-Za-z0-9][\w-]*(\.[\w-]+)*$/, 'a version folder name (letters, digits, _ - and inner dots)').optional(),
  /**
   * ANN candidates per request. 100, as many as the ranker's training lists take from the two-tower
   * (models/torch/candidates.py RETRIEVE_TOWER): a ranker served 1000 scored 900 kinds of candidate it never
   * learned to reject (MovieLens-1M: ranked NDCG@10 0.3320 with 1000, 0.3396 with 100; ML-100K and the shop
   * within noise), and the ANN does a tenth of the work.
   */
  candidates: z.number().int().min(1).max(MAX_CANDIDATES),
  /** Item-to-item candidates per request (when the model ships neighbours), added to the ANN's. */
  neighbourCandidates: z.number().int().min(0).max(5000),
  /** MMR trade-off: 1 = relevance only. Unset: the model version's validated λ (manifest serving.mmrLambda), else DEFAULT_MMR_LAMBDA. */
  mmrLambda: z.number().min(0).max(1).optional(),
  /** Share of k one category may fill (1 = no cap). Unset: the version's validated share (manifest serving.categoryCapShare), else DEFAULT_CATEGORY_CAP_SHARE. */
  categoryCapShare: z.number().min(0).max(1).optional(),
  /** Exploration slots for live requests (the request may lower it, e.g. 0 for nightly). */
  explorationSlots: z.number().int().min(0).max(10),
  /** Weight of the DLRM probability in the final score; the rest is the retrieval similarity. */
  dlrmWeight: z.number().min(0).max(1),
  /** Apply the session reranker to requests with session items (when the model ships it and its gate is on). */
  sessionRerank: z.boolean(),
  /**
   * How far the session reranker moves the slate (shared/features/encode.ts blendSessionScores: 0 = slate order,
   * 1 = the model's own order). Unset: the version's validated strength (manifest sessionRerankStrength), else 1.
   */
  sessionRerankStrength: z.number().min(0).max(1).optional(),
  /** Candidates after ranking that MMR considers (the head of the ranked list). */
  rerankPool: z.number().int().min(1).max(5000),
});
export type PipelineSettings = z.infer<typeof PipelineSettingsSchema>;
export const PipelineSettingsOverrideSchema = PipelineSettingsSchema.partial();
export type PipelineSettingsOverride = z.infer<typeof PipelineSettingsOverrideSchema>;

export const DEFAULT_PIPELINE_SETTINGS: PipelineSettings = {
  candidates: 100,
  neighbourCandidates: 100,
  explorationSlots: 2,
  dlrmWeight: 1,
  rerankPool: 200,
  sessionRerank: true,
};

/** The MMR λ of a version that ships none (older manifests) when the settings set none either. */
export const DEFAULT_MMR_LAMBDA = 0.8;
/** The category cap of a version that ships none, when the settings set none either. */
export const DEFAULT_CATEGORY_CAP_SHARE = 0.4;

export function resolveSettings(base: PipelineSettings, override: PipelineSettingsOverride | undefined): PipelineSettings {
  return { ...base, ...Object.fromEntries(Object.entries(override ?? {}).filter(([, v]) => v !== undefined)) };
}
