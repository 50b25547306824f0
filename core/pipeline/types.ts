/**
 * The recommendation pipeline's port, shared by the origin's HTTP routes and the nightly job.
 * retrieval (user tower + ANN) → rules → DLRM ranking → re-rank (MMR, caps, exploration) → reasons.
 */
import type { RecommendedItem } from '../../shared/contracts/recommend.ts';
import type { PipelineSettingsOverride } from './settings.ts';

/** Everything the pipeline needs to answer one visitor; the caller gathers it from the stores. */
export interface PipelineRequest {
  userId?: string | undefined;
  sessionId?: string | undefined;
  segment?: string | undefined;
  surface: string;
  k: number;
  /** Long-term positive history, oldest → newest (from the feature store). */
  history: readonly string[];
  /** Current session's items, oldest → newest (request + feature store, de-duplicated). */
  sessionItems: readonly string[];
  /** Never to be recommended: explicit excludes, purchases, just-viewed items. */
  excludeIds: readonly string[];
  /** Epoch ms the request is answered at (features like item age depend on it). */
  now: number;
  /** Experiment variant settings that apply (null when none). */
  variant?: string | null | undefined;
  /** Exploration slots: 0 for nightly slates (deterministic), a few for live requests. */
  explorationSlots?: number | undefined;
  /** Settings of the assigned experiment variant (model version, MMR λ, ...); see origin/experiments. */
  settings?: PipelineSettingsOverride | undefined;
}

export interface PipelineResult {
  items: RecommendedItem[];
  modelVersion: string;
  /** e.g. 'ann-failed', 'ranker-failed', 'no-history' (cold start path), 'redis-unavailable'. */
  degraded: string[];
  /** Milliseconds spent per stage: features, user_tower, ann, rules, dlrm, rerank. */
  stageMs: Record<string, number>;
  /** Which candidate path produced the answer: 'personal', 'session', 'segment', 'popular'. */
  source: 'personal' | 'session' | 'segment' | 'popular';
}

export interface Pipeline {
  recommend(request: PipelineRequest): Promise<PipelineResult>;
  /** Many requests at once (nightly): batched user tower, ANN and DLRM calls. */
  recommendBatch(requests: readonly PipelineRequest[]): Promise<PipelineResult[]>;
  /** Version currently served. */
  readonly modelVersion: string;
}
