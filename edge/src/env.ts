/**
 * Bindings and vars from wrangler.jsonc, validated once per isolate: workerd hands every request of an
 * isolate the same env object, so the parsed config is cached by that object (a new env, e.g. in tests or
 * after a redeploy, is validated again).
 */
import { z } from 'zod';

export interface Env {
  SLATES: KVNamespace;
  ORIGIN_URL: string;
  ORIGIN_TIMEOUT_MS: string;
  SLATE_MAX_AGE_SECONDS: string;
  CACHE_FRESH_SECONDS: string;
  EVENT_FORWARD_BUDGET_MS: string;
  ORIGIN_API_KEY?: string;
}

const ConfigSchema = z.object({
  originUrl: z.string().url(),
  originTimeoutMs: z.coerce.number().int().min(1).max(30_000),
  slateMaxAgeMs: z.coerce.number().int().positive().transform((s) => s * 1000),
  cacheFreshMs: z.coerce.number().int().nonnegative().transform((s) => s * 1000),
  eventForwardBudgetMs: z.coerce.number().int().min(1).max(25_000),
  originApiKey: z.string().optional(),
});
export type EdgeConfig = z.infer<typeof ConfigSchema>;

const parsed = new WeakMap<Env, EdgeConfig>();

export function configFrom(env: Env): EdgeConfig {
  let config = parsed.get(env);
  if (!config) {
    config = parseConfig(env);
    parsed.set(env, config);
  }
  return config;
}

function parseConfig(env: Env): EdgeConfig {
  return ConfigSchema.parse({
    originUrl: env.ORIGIN_URL,
    originTimeoutMs: env.ORIGIN_TIMEOUT_MS,
    slateMaxAgeMs: env.SLATE_MAX_AGE_SECONDS,
    cacheFreshMs: env.CACHE_FRESH_SECONDS,
    eventForwardBudgetMs: env.EVENT_FORWARD_BUDGET_MS,
    originApiKey: env.ORIGIN_API_KEY,
  });
}
