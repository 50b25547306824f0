/**
 * Serving with experiments: assign the visitor's variants, answer with the variant's settings (the variant
 * label goes on the result so routes put it on the response and on events), and for experiments with a
 * shadow, run the shadow configuration after answering and report how its slate differed (overlap@k, rank
 * correlation, latency) to the sink, which logs it and adds it to the persisted shadow counters. A shadow
 * never delays or changes the served answer, and its failures are reported, not raised.
 */
import { overlapAtK, rankCorrelation } from '../../core/experiments/shadow-compare.ts';
import type { Pipeline, PipelineRequest, PipelineResult } from '../../core/pipeline/types.ts';
import { fnv1a32 } from '../../shared/util/hash.ts';
import { assignAll, assignmentUnit, type Assignment } from './assign.ts';
import type { Experiment } from './definitions.ts';

export interface ShadowLog {
  event: 'shadow';
  experimentId: string;
  variant: string | null;
  servedModelVersion: string;
  shadowModelVersion: string;
  servedIds: string[];
  shadowIds: string[];
  /** overlap@k: share of the served top k the shadow also returned in its top k (order-free). */
  overlap: number;
  /** Kendall's tau over the items both returned; null when they share fewer than two. */
  rankCorrelation: number | null;
  /** The served answer's pipeline time, beside the shadow's, for the same request. */
  servedLatencyMs: number;
  shadowLatencyMs: number;
  shadowDegraded: string[];
  error?: string;
}

export interface ExperimentResult extends PipelineResult {
  variant: string | null;
  /** Resolves when the shadows of this request are done (tests, graceful shutdown); never rejects. */
  shadowDone: Promise<void>;
}

export async function recommendWithExperiments(
  pipeline: Pipeline,
  experiments: readonly Experiment[],
  request: PipelineRequest,
  sink: (line: ShadowLog) => void,
  assignment: Assignment = assignAll(experiments, request, request.surface),
): Promise<ExperimentResult> {
  const servedStarted = performance.now();
  const served = await pipeline.recommend({ ...request, variant: assignment.variant, settings: { ...request.settings, ...assignment.settings } });
  const servedLatencyMs = performance.now() - servedStarted;
  const unit = assignmentUnit(request) ?? '';
  const shadows = assignment.shadows.filter((s) => s.sampleRate >= 1 || (fnv1a32(`${unit}|shadow|${s.experimentId}`) % 10_000) / 10_000 < s.sampleRate);
  const servedIds = served.items.map((i) => i.id);
  const base = { event: 'shadow' as const, variant: assignment.variant, servedModelVersion: served.modelVersion, servedIds, servedLatencyMs };
  const shadowDone = Promise.all(
    shadows.map(async (shadow) => {
      const started = performance.now();
      try {
        const result = await pipeline.recommend({ ...request, variant: assignment.variant, settings: { ...request.settings, ...assignment.settings, ...shadow.settings } });
        const shadowIds = result.items.map((i) => i.id);
        sink({ ...base, experimentId: shadow.experimentId, shadowModelVersion: result.modelVersion, shadowIds, overlap: overlapAtK(servedIds, shadowIds), rankCorrelation: rankCorrelation(servedIds, shadowIds), shadowLatencyMs: performance.now() - started, shadowDegraded: result.degraded });
      } catch (error) {
        sink({ ...base, experimentId: shadow.experimentId, shadowModelVersion: shadow.settings.modelVersion ?? served.modelVersion, shadowIds: [], overlap: 0, rankCorrelation: null, shadowLatencyMs: performance.now() - started, shadowDegraded: [], error: error instanceof Error ? error.message : String(error) });
      }
    }),
  ).then(() => undefined);
  return { ...served, variant: assignment.variant, shadowDone };
}
