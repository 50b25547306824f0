/**
 * Deterministic assignment: bucket = fnv1a32(unit + '|' + experimentId) mod 10 000, mapped onto the
 * variants' cumulative weights. The unit is the user id, else the session id, so a visitor keeps its
 * variant across requests, processes and runtimes (same hash in Node, workerd, browser).
 */
import { fnv1a32 } from '../../shared/util/hash.ts';
import type { Experiment, Variant } from './definitions.ts';
import type { PipelineSettingsOverride } from '../../core/pipeline/settings.ts';

export const BUCKETS = 10_000;

export function assignmentUnit(ids: { userId?: string | undefined; sessionId?: string | undefined }): string | null {
  return ids.userId ?? ids.sessionId ?? null;
}

export function bucketFor(unit: string, experimentId: string): number {
  return fnv1a32(`${unit}|${experimentId}`) % BUCKETS;
}

export function assignVariant(experiment: Experiment, unit: string): Variant {
  const total = experiment.variants.reduce((sum, v) => sum + v.weight, 0);
  const point = (bucketFor(unit, experiment.id) / BUCKETS) * total;
  let cumulative = 0;
  for (const variant of experiment.variants) {
    cumulative += variant.weight;
    if (point < cumulative) return variant;
  }
  return experiment.variants.filter((v) => v.weight > 0).at(-1) ?? experiment.variants[0]!;
}

export interface Assignment {
  /** "experimentId:variantId" joined with ',' when several experiments apply; null when none. */
  variant: string | null;
  settings: PipelineSettingsOverride;
  /** Shadows of the applied experiments, to run after answering. */
  shadows: { experimentId: string; settings: PipelineSettingsOverride; sampleRate: number }[];
}

/** Applies every enabled experiment for the surface; later experiments' settings win on conflicts. */
export function assignAll(experiments: readonly Experiment[], ids: { userId?: string | undefined; sessionId?: string | undefined }, surface: string): Assignment {
  const unit = assignmentUnit(ids);
  const labels: string[] = [];
  let settings: PipelineSettingsOverride = {};
  const shadows: Assignment['shadows'] = [];
  if (unit === null) return { variant: null, settings, shadows };
  for (const experiment of experiments) {
    if (!experiment.enabled) continue;
    if (experiment.surfaces.length > 0 && !experiment.surfaces.includes(surface)) continue;
    const variant = assignVariant(experiment, unit);
    labels.push(`${experiment.id}:${variant.id}`);
    settings = { ...settings, ...variant.settings };
    if (experiment.shadow) shadows.push({ experimentId: experiment.id, settings: experiment.shadow.settings, sampleRate: experiment.shadow.sampleRate });
  }
  return { variant: labels.length === 0 ? null : labels.join(','), settings, shadows };
}
