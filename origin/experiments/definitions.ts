/**
 * Experiment definitions: an experiment splits visitors into weighted variants, each variant overriding
 * pipeline settings (model version and/or knobs). An optional shadow runs another configuration for a
 * sample of requests and only logs it. Stored by the service (Postgres); validated here with zod.
 */
import { z } from 'zod';
import { PipelineSettingsOverrideSchema } from '../../core/pipeline/settings.ts';

export const VariantSchema = z.object({
  id: z.string().min(1).max(64).regex(/^[\w.-]+$/),
  weight: z.number().nonnegative(),
  settings: PipelineSettingsOverrideSchema.default({}),
});
export type Variant = z.infer<typeof VariantSchema>;

export const ShadowSchema = z.object({
  settings: PipelineSettingsOverrideSchema,
  /** Share of requests that also run the shadow (0..1), chosen by request hash. */
  sampleRate: z.number().min(0).max(1).default(1),
});
export type Shadow = z.infer<typeof ShadowSchema>;

export const ExperimentSchema = z
  .object({
    id: z.string().min(1).max(64).regex(/^[\w.-]+$/),
    enabled: z.boolean().default(true),
    /** Surfaces it applies to; empty = all. */
    surfaces: z.array(z.string()).default([]),
    variants: z.array(VariantSchema).min(1),
    shadow: ShadowSchema.optional(),
  })
  .refine((e) => e.variants.some((v) => v.weight > 0), { message: 'at least one variant needs a positive weight' })
  .refine((e) => new Set(e.variants.map((v) => v.id)).size === e.variants.length, { message: 'variant ids must be unique' });
export type Experiment = z.infer<typeof ExperimentSchema>;
