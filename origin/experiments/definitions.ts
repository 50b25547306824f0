/**
 * Experiment definitions: an experiment splits visitors into weighted variants, each variant overriding
 * pipeline settings (model version and/or knobs); the first variant is the control the others are compared
 * with. An optional shadow runs another configuration for a sample of requests and records how its slate
 * differs. An optional canary block makes it a model canary: the second variant pins a new model version and
 * the canary rule (core/experiments/canary-rule.ts) promotes or rolls it back. Stored in Postgres, validated
 * here with zod; every refusal names the field.
 */
import { z } from 'zod';
import { METRICS } from '../../core/experiments/metrics.ts';
import { PipelineSettingsOverrideSchema } from '../../core/pipeline/settings.ts';

const IdSchema = z.string().min(1).max(64).regex(/^[\w.-]+$/, 'letters, digits, _ . - only');
const SettingsSchema = PipelineSettingsOverrideSchema.strict();

export const MAX_VARIANTS = 10;

export const VariantSchema = z.object({
  id: IdSchema,
  weight: z.number().nonnegative().max(1_000_000),
  settings: SettingsSchema.default({}),
}).strict();
export type Variant = z.infer<typeof VariantSchema>;

export const ShadowSchema = z.object({
  settings: SettingsSchema,
  /** Share of requests that also run the shadow (0..1), chosen by request hash. */
  sampleRate: z.number().min(0).max(1).default(1),
}).strict();
export type Shadow = z.infer<typeof ShadowSchema>;

/** The canary rule's thresholds (docs/experiments.md states the rule). */
export const CanarySchema = z.object({
  /** Visitors per arm before the canary may be promoted on the online metric. */
  minVisitors: z.number().int().min(100).max(100_000_000).default(2000),
  /** Requests per arm before guardrails are judged (1000: the canary's p99 then rests on its 10 slowest requests). */
  minRequests: z.number().int().min(50).max(100_000_000).default(1000),
  /** No promotion by then → rolled back (it could not show that it is not worse). */
  maxHours: z.number().positive().max(24 * 90).default(72),
  /** Promote when the always-valid interval shows the canary at most this much worse (relative) on the primary metric. */
  nonInferiorityMargin: z.number().min(0).max(0.5).default(0.05),
  maxErrorRateIncrease: z.number().min(0).max(1).default(0.005),
  maxFallbackRateIncrease: z.number().min(0).max(1).default(0.01),
  /** Canary p99 may be at most max(control p99 × maxP99Ratio, control p99 + p99SlackMs). */
  maxP99Ratio: z.number().min(1).max(10).default(1.25),
  p99SlackMs: z.number().min(0).max(10_000).default(10),
  /** false: the rule decides and logs, but an operator promotes (POST …/promote) or stops by hand. */
  autoApply: z.boolean().default(true),
}).strict();
export type CanaryRule = z.infer<typeof CanarySchema>;

/** What an operator sends (POST /v1/experiments); the stored definition is this after defaults. */
export const ExperimentFieldsSchema = z.object({
  id: IdSchema,
  description: z.string().max(500).optional(),
  /** Legacy switch kept for rows written before the status column: false = never serve it. */
  enabled: z.boolean().default(true),
  /** Surfaces it applies to; empty = all. */
  surfaces: z.array(z.string().min(1).max(64).regex(/^[\w-]+$/)).max(50).default([]),
  variants: z.array(VariantSchema).min(1).max(MAX_VARIANTS),
  shadow: ShadowSchema.optional(),
  /** The metric the winner (and the canary decision) is judged on. */
  primaryMetric: z.enum(METRICS).default('ctr'),
  /** Family-wise significance level of the primary metric's test. */
  alpha: z.number().min(0.001).max(0.2).default(0.05),
  /** Relative effect size the sequential test is tuned for (its mixture scale). */
  mde: z.number().min(0.005).max(2).default(0.1),
  /** No verdict before each arm has this many visitors. */
  minVisitors: z.number().int().min(30).max(100_000_000).default(200),
  canary: CanarySchema.optional(),
}).strict();

function checkExperiment(e: z.infer<typeof ExperimentFieldsSchema>, ctx: z.RefinementCtx): void {
  if (!e.variants.some((v) => v.weight > 0)) ctx.addIssue({ code: 'custom', path: ['variants'], message: 'at least one variant needs a positive weight' });
  const seen = new Set<string>();
  e.variants.forEach((v, i) => {
    if (seen.has(v.id)) ctx.addIssue({ code: 'custom', path: ['variants', i, 'id'], message: `duplicate variant id ${v.id}` });
    seen.add(v.id);
  });
  if (e.canary) {
    if (e.variants.length !== 2) ctx.addIssue({ code: 'custom', path: ['variants'], message: 'a canary has exactly two variants: the live model (control) first, the canary second' });
    if (e.variants[0]?.settings.modelVersion !== undefined) ctx.addIssue({ code: 'custom', path: ['variants', 0, 'settings', 'modelVersion'], message: 'the control of a canary serves the live model: no modelVersion' });
    if (e.variants[1] && e.variants[1].settings.modelVersion === undefined) ctx.addIssue({ code: 'custom', path: ['variants', 1, 'settings', 'modelVersion'], message: 'the canary variant pins the model version it tries out' });
  }
}

export const ExperimentSchema = ExperimentFieldsSchema.superRefine(checkExperiment);
export type Experiment = z.infer<typeof ExperimentSchema>;

export const EXPERIMENT_STATUSES = ['running', 'paused', 'stopped'] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

/** POST /v1/experiments: a definition, optionally created paused. */
export const ExperimentCreateSchema = ExperimentFieldsSchema.omit({ enabled: true }).extend({ status: z.enum(['running', 'paused']).default('running') }).strict().superRefine((e, ctx) => checkExperiment({ ...e, enabled: true }, ctx));

/** The model versions an experiment serves (variants and shadow): the origin pins them in its registry. */
export function modelVersionsOf(e: Experiment): string[] {
  return [...new Set([...e.variants.map((v) => v.settings.modelVersion), e.shadow?.settings.modelVersion].filter((v): v is string => v !== undefined))];
}
