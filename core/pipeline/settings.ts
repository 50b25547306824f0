/**
 * Pipeline knobs. Defaults here; experiments override any subset per variant (including the model version).
 */
import { z } from 'zod';

export const PipelineSettingsSchema = z.object({
  /** Serve this model version (must be pinned in the registry); default: the current one. */
  modelVersion: z.string().min(1).max(64).regex(/^[A-Za-z0-9][\w-]*(\.[\w-]+)*$/, 'a version folder name (letters, digits, _ - and inner dots)').optional(),
  /** ANN candidates per request. */
  candidates: z.number().int().min(1).max(5000),
  /** Item-to-item candidates per request (when the model ships neighbours), added to the ANN's. */
  neighbourCandidates: z.number().int().min(0).max(5000),
  /** MMR trade-off: 1 = relevance only. */
  mmrLambda: z.number().min(0).max(1),
  /** Share of k one category may fill (1 = no cap). */
  categoryCapShare: z.number().min(0).max(1),
  /** Exploration slots for live requests (the request may lower it, e.g. 0 for nightly). */
  explorationSlots: z.number().int().min(0).max(10),
  /** Weight of the DLRM probability in the final score; the rest is the retrieval similarity. */
  dlrmWeight: z.number().min(0).max(1),
  /** Apply the session reranker to requests with session items (when the model ships it and its gate is on). */
  sessionRerank: z.boolean(),
  /** Candidates after ranking that MMR considers (the head of the ranked list). */
  rerankPool: z.number().int().min(1).max(5000),
});
export type PipelineSettings = z.infer<typeof PipelineSettingsSchema>;
export const PipelineSettingsOverrideSchema = PipelineSettingsSchema.partial();
export type PipelineSettingsOverride = z.infer<typeof PipelineSettingsOverrideSchema>;

export const DEFAULT_PIPELINE_SETTINGS: PipelineSettings = {
  candidates: 1000,
  neighbourCandidates: 100,
  mmrLambda: 0.8,
  categoryCapShare: 0.4,
  explorationSlots: 2,
  dlrmWeight: 1,
  rerankPool: 200,
  sessionRerank: true,
};

export function resolveSettings(base: PipelineSettings, override: PipelineSettingsOverride | undefined): PipelineSettings {
  return { ...base, ...Object.fromEntries(Object.entries(override ?? {}).filter(([, v]) => v !== undefined)) };
}
