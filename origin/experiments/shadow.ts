/**
 * Serving with experiments: assign the visitor's variants, answer with the variant's settings (the variant
 * label goes on the result so routes put it on the response and on events), and for experiments with a
 * shadow, run the shadow configuration after answering and only log how it differed. A shadow never delays
 * or changes the served answer, and its failures are logged, not raised.
 */
import type { Pipeline, PipelineRequest, PipelineResult } from '../../core/pipeline/types.ts';
import { fnv1a32 } from '../../shared/util/hash.ts';
import { assignAll, assignmentUnit } from './assign.ts';
import type { Experiment } from './definitions.ts';

export interface ShadowLog {
  event: 'shadow';
  experimentId: string;
  variant: string | null;
  servedModelVersion: string;
  shadowModelVersion: string;
  servedIds: string[];
  shadowIds: string[];
  /** Share of served items the shadow also returned (order-free). */
  overlap: number;
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
): Promise<ExperimentResult> {
  const assignment = assignAll(experiments, request, request.surface);
  const served = await pipeline.recommend({ ...request, variant: assignment.variant, settings: { ...request.settings, ...assignment.settings } });
  const unit = assignmentUnit(request) ?? '';
  const shadows = assignment.shadows.filter((s) => s.sampleRate >= 1 || (fnv1a32(`${unit}|shadow|${s.experimentId}`) % 10_000) / 10_000 < s.sampleRate);
  const shadowDone = Promise.all(
    shadows.map(async (shadow) => {
      const started = performance.now();
      const servedIds = served.items.map((i) => i.id);
      try {
        const result = await pipeline.recommend({ ...request, variant: assignment.variant, settings: { ...request.settings, ...assignment.settings, ...shadow.settings } });
        const shadowIds = result.items.map((i) => i.id);
        const overlap = servedIds.length === 0 ? 1 : servedIds.filter((id) => shadowIds.includes(id)).length / servedIds.length;
        sink({ event: 'shadow', experimentId: shadow.experimentId, variant: assignment.variant, servedModelVersion: served.modelVersion, shadowModelVersion: result.modelVersion, servedIds, shadowIds, overlap, shadowLatencyMs: performance.now() - started, shadowDegraded: result.degraded });
      } catch (error) {
        sink({ event: 'shadow', experimentId: shadow.experimentId, variant: assignment.variant, servedModelVersion: served.modelVersion, shadowModelVersion: shadow.settings.modelVersion ?? served.modelVersion, servedIds, shadowIds: [], overlap: 0, shadowLatencyMs: performance.now() - started, shadowDegraded: [], error: error instanceof Error ? error.message : String(error) });
      }
    }),
  ).then(() => undefined);
  return { ...served, variant: assignment.variant, shadowDone };
}
