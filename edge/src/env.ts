/**
 * Bindings, vars and secrets from wrangler.jsonc (and `wrangler secret put`), validated once per isolate:
 * workerd hands every request of an isolate the same env object, so the parsed config is cached by that
 * object (a new env, e.g. in tests or after a redeploy, is validated again).
 */
import { z } from 'zod';
import { tokenSecrets } from '../../shared/auth/user-token.ts';
import type { EventBatch } from '../../shared/contracts/events.ts';

export interface Env {
  SLATES: KVNamespace;
  /** Event beacons, validated at the edge; the consumer (this worker) forwards them to the origin. */
  EVENTS: Queue<EventBatch>;
  /** Producer for the dead-letter queue: batches the origin refused permanently are sent there. */
  EVENTS_DLQ: Queue<DeadLetterMessage>;
  /** Where the dead-letter consumer keeps failed batches for an operator to inspect and replay. */
  DEAD_LETTERS: KVNamespace;
  /** Name of the dead-letter queue (as in wrangler.jsonc): the queue handler tells the two consumers apart by it. */
  DEAD_LETTER_QUEUE: string;
  ORIGIN_URL: string;
  ORIGIN_TIMEOUT_MS: string;
  SLATE_MAX_AGE_SECONDS: string;
  CACHE_FRESH_SECONDS: string;
  /** Comma-separated origins whose pages may read personal answers (exact match, e.g. https://shop.example). */
  ALLOWED_ORIGINS?: string;
  /** Seconds the pointer and pending item changes stay in isolate memory (default 30; 0 = read KV every time). */
  ISOLATE_CACHE_SECONDS?: string;
  /** Slate candidates scored by the session reranker (default 50, at most 100). */
  RERANK_CANDIDATES?: string;
  /** "on": per-request compute time in Server-Timing (meaningful in local workerd only, see docs/edge.md). */
  CPU_TIMING?: string;
  // Secrets
  ORIGIN_API_KEY?: string;
  USER_TOKEN_SECRET?: string;
  USER_TOKEN_SECRET_PREVIOUS?: string;
  /** Operator key for /v1/admin/* (dead letters). Absent → those routes answer 403. */
  ADMIN_API_KEY?: string;
}

/**
 * What the consumer sends to the dead-letter queue for a permanent failure: the queued body and why it was
 * given up on. (Messages that exhausted their retries arrive there by themselves, as plain event batches.)
 */
export interface DeadLetterMessage {
  kind: 'dead-letter';
  body: unknown;
  /** HTTP status of the origin's last answer (0: no answer). */
  status: number;
  reason: string;
  attempts: number;
  failedAt: number;
}

const origins = z
  .string()
  .default('')
  .transform((s) => s.split(',').map((o) => o.trim()).filter((o) => o !== ''))
  .pipe(z.array(z.string().regex(/^https?:\/\/[^/*\s]+$/, 'ALLOWED_ORIGINS lists exact origins like https://shop.example (no path, no wildcard)')));

const ConfigSchema = z.object({
  originUrl: z.string().url(),
  originTimeoutMs: z.coerce.number().int().min(1).max(30_000),
  slateMaxAgeMs: z.coerce.number().int().positive().transform((s) => s * 1000),
  cacheFreshMs: z.coerce.number().int().nonnegative().transform((s) => s * 1000),
  allowedOrigins: origins,
  isolateCacheMs: z.coerce.number().int().min(0).max(3600).default(30).transform((s) => s * 1000),
  rerankCandidates: z.coerce.number().int().min(1).max(100).default(50),
  cpuTiming: z.enum(['on', 'off']).default('off'),
  originApiKey: z.string().optional(),
  userTokenSecrets: z.array(z.string()),
  adminApiKey: z.string().min(32, 'ADMIN_API_KEY needs at least 32 characters').optional(),
});
export type EdgeConfig = z.infer<typeof ConfigSchema>;

const blank = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

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
    allowedOrigins: env.ALLOWED_ORIGINS,
    isolateCacheMs: blank(env.ISOLATE_CACHE_SECONDS),
    rerankCandidates: blank(env.RERANK_CANDIDATES),
    cpuTiming: blank(env.CPU_TIMING),
    originApiKey: blank(env.ORIGIN_API_KEY),
    userTokenSecrets: tokenSecrets(blank(env.USER_TOKEN_SECRET), blank(env.USER_TOKEN_SECRET_PREVIOUS)),
    adminApiKey: blank(env.ADMIN_API_KEY),
  });
}
