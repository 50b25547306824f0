/**
 * Origin configuration, read once from the environment and validated with zod. Every invalid variable is
 * reported in one error, so a misconfigured deployment fails at start with a readable list.
 */
import { int8ScanUnavailable } from '../adapters/ann/int8-scan-index.ts';
import { z } from 'zod';

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Keys published in the README and the demo launcher: never accepted in production. */
export const DEMO_API_KEYS: readonly string[] = ['demo-key-change-me-0123456789'];
/** Shortest API key accepted with NODE_ENV=production (characters). */
export const PRODUCTION_MIN_KEY_LENGTH = 32;

const EnvSchema = z.object({
  /** `production` turns on the strict checks below (no demo key, API keys of at least 32 characters). */
  NODE_ENV: z.string().optional(),
  /** The origin's public base URL, named in /openapi.json `servers`; unset → no `servers` (never the request's Host). */
  PUBLIC_URL: z.string().url().regex(/^https?:\/\//, 'an http(s) URL').optional(),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /**
   * Processes serving the one port (node:cluster): auto = one per core, N, or 1 (no cluster). More than one needs
   * REDIS_URL and DATABASE_URL, which the processes share (features, rate limits, events); see origin/cluster/.
   */
  ORIGIN_WORKERS: z.string().regex(/^(auto|[1-9][0-9]*)$/, 'auto or a positive whole number').default('1'),
  /** postgres://… ; absent → embedded PGlite (PGLITE_DIR, or in memory when that is absent too). */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
  PGLITE_DIR: z.string().min(1).optional(),
  /**
   * redis://… (one node) or redis+cluster://host:port,host:port (a Redis Cluster: feature store and rate limiter);
   * absent → in-process feature store with the same caps and TTLs.
   */
  REDIS_URL: z.string().regex(/^(rediss?|redis\+cluster):\/\//, 'must start with redis://, rediss:// or redis+cluster://').optional(),
  REDIS_KEY_PREFIX: z.string().default(''),
  REDIS_COMMAND_TIMEOUT_MS: positiveInt(200),
  /**
   * Exploration's click stats per item are cached in each process for this long (ms; 0 = read Redis every
   * request), at most ITEM_STATS_CACHE_ITEMS items: a click reaches the Thompson priors at most this late
   * (adapters/memory/item-stats-cache.ts).
   */
  ITEM_STATS_CACHE_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  ITEM_STATS_CACHE_ITEMS: z.coerce.number().int().min(0).max(10_000_000).default(200_000),
  MODELS_DIR: z.string().min(1).default('models/artifacts'),
  /** How often models/artifacts/current.json is polled for a new version (ms); 0 = never. */
  MODEL_POLL_MS: z.coerce.number().int().min(0).default(5000),
  ONNX_EXECUTION_PROVIDERS: z.string().regex(/^[a-z]+(,[a-z]+)*$/, 'comma-separated provider names, e.g. cpu, cuda,cpu or webgpu,cpu').default('cpu'),
  ONNX_INTRA_OP_THREADS: positiveInt(1),
  /**
   * Retrieval index: auto = the exact int8 scan up to 2M items (where its native part is built), the usearch HNSW
   * graph past that; int8-scan or usearch force one (adapters/ann/build.ts, docs/pipeline.md).
   */
  ANN_KIND: z.enum(['auto', 'int8-scan', 'usearch']).default('auto'),
  /**
   * ANN search expansion (HNSW ef; raised to the candidate count when smaller): higher = closer to exact retrieval,
   * slower. `npm run bench:origin` reports the final slate's recall against exact retrieval per setting.
   */
  ANN_EXPANSION_SEARCH: positiveInt(1024),
  /** How the ANN graph stores item vectors: f32, or f16 (half the memory and bandwidth; see bench:origin for the recall). */
  ANN_QUANTIZATION: z.enum(['f32', 'f16']).default('f32'),
  /** Comma-separated keys accepted on /v1/export, DELETE /v1/users/:id and /v1/experiments; none → those endpoints answer 401/403. */
  API_KEYS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((k) => k.trim()).filter((k) => k !== ''))
    .pipe(z.array(z.string().min(16, 'each API key needs at least 16 characters'))),
  /**
   * Secret shared with the site's backend and the edge: verifies user tokens (X-User-Token) on POST /v1/recommend.
   * USER_TOKEN_SECRET_PREVIOUS is also accepted while rotating. None → a userId is honoured only with an API key.
   */
  USER_TOKEN_SECRET: z.string().min(32, 'needs at least 32 characters').optional(),
  USER_TOKEN_SECRET_PREVIOUS: z.string().min(32, 'needs at least 32 characters').optional(),
  /** Token bucket per API key or client IP: sustained requests per second and burst size. */
  RATE_LIMIT_RPS: z.coerce.number().positive().default(50),
  RATE_LIMIT_BURST: positiveInt(100),
  /** Use the first X-Forwarded-For address as client IP (only behind a trusted proxy/CDN). */
  TRUST_PROXY: flag.default(false),
  BODY_LIMIT_BYTES: positiveInt(256 * 1024),
  /** Seconds clients are told to wait when Postgres is unavailable. */
  RETRY_AFTER_SECONDS: positiveInt(5),
  /** Seed the catalogue from the built-in generator when the items table is empty. */
  SEED_CATALOG: flag.default(true),
  /** Seed demo user histories into the feature store at start: auto = only for the in-process store. */
  SEED_HISTORIES: z.enum(['auto', 'true', 'false']).default('auto'),
  SEED_USERS: positiveInt(5000),
  /**
   * Where an erasure deletes the user's KV slates (the nightly's KV backend: KV_BACKEND/CF_* / KV_PERSIST_DIR env).
   * Unset → the slate KV the origin reads (SLATES_KV): wherever slates are read, erasure reaches them.
   */
  ERASE_SLATES_KV: z.enum(['none', 'local', 'cloudflare']).optional(),
  /** Where the nightly job writes slates (none, local, cloudflare; same env as the nightly): GET /v1/export streams them. */
  SLATES_KV: z.enum(['none', 'local', 'cloudflare']).default('none'),
  /** How often events stored while the feature store was down are applied to it (the feature outbox; ms, 0 = never). */
  FEATURE_OUTBOX_DRAIN_MS: z.coerce.number().int().min(0).default(5000),
  /**
   * The drainer leaves events received less than this long ago (ms): the request that stored them is still
   * applying them, and draining them too would apply them twice. Keep it above the request's own apply timeout.
   */
  FEATURE_OUTBOX_GRACE_MS: z.coerce.number().int().min(0).default(30_000),
  /** Poll for catalogue changes (the fallback: changes arrive at once through LISTEN/NOTIFY catalog_changed). */
  CATALOG_REFRESH_MS: positiveInt(30_000),
  /** Poll for experiment changes (the fallback: changes arrive at once through LISTEN/NOTIFY). */
  EXPERIMENTS_REFRESH_MS: positiveInt(30_000),
  /** How often per-variant serving counters and shadow comparisons are added to Postgres. */
  EXPERIMENT_STATS_FLUSH_MS: positiveInt(10_000),
  /** How often running canaries are put through the canary rule (promote / roll back); 0 = only on request. */
  CANARY_CHECK_MS: z.coerce.number().int().min(0).default(60_000),
});

/** Production refuses what is fine for a demo: the published demo key and short keys. */
const ProductionSafeSchema = EnvSchema.superRefine((config, ctx) => {
  if (config.NODE_ENV !== 'production') return;
  for (const key of config.API_KEYS) {
    if (DEMO_API_KEYS.includes(key)) ctx.addIssue({ code: 'custom', path: ['API_KEYS'], message: 'the published demo key is refused with NODE_ENV=production; generate one (e.g. openssl rand -base64 32)' });
    else if (key.length < PRODUCTION_MIN_KEY_LENGTH) ctx.addIssue({ code: 'custom', path: ['API_KEYS'], message: `each API key needs at least ${PRODUCTION_MIN_KEY_LENGTH} characters with NODE_ENV=production` });
  }
});

export type OriginConfig = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`invalid origin configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Parses env; empty strings count as unset (a blank line in a .env file should not mean "invalid"). */
export function loadConfig(env: Record<string, string | undefined> = process.env): OriginConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ProductionSafeSchema.safeParse(present);
  if (parsed.success) {
    const shared = parsed.data.ORIGIN_WORKERS !== '1' ? ['REDIS_URL', 'DATABASE_URL'].filter((name) => present[name] === undefined) : [];
    if (shared.length > 0) throw new ConfigError(shared.map((name) => `${name}: required when ORIGIN_WORKERS is not 1 (the worker processes share it)`));
    const scanMissing = parsed.data.ANN_KIND === 'int8-scan' ? int8ScanUnavailable() : undefined;
    if (scanMissing) throw new ConfigError([`ANN_KIND: int8-scan was asked for, but ${scanMissing} (or use ANN_KIND=auto)`]);
    return parsed.data;
  }
  throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
}
