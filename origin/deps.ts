/** What the HTTP app needs, injected so tests and the server wire real adapters explicitly. */
import type { Experiment } from './experiments/definitions.ts';
import type { ExperimentCounters } from './experiments/serving-stats.ts';
import type { ExperimentService } from './experiments/service.ts';
import type { OriginMetrics } from './metrics.ts';
import type { ItemCatalog } from '../core/ports/catalog.ts';
import type { Pipeline } from '../core/pipeline/types.ts';
import type { DatabaseHandle } from '../adapters/postgres/database.ts';
import type { FeatureStore } from '../core/ports/feature-store.ts';
import type { RateLimiter } from '../core/ports/rate-limiter.ts';
import type { OriginConfig } from './config.ts';
import type { KvWriter } from '../shared/kv/writer.ts';
import type { ItemUpdate } from '../shared/contracts/item-changes.ts';

export type AppConfig = Pick<OriginConfig, 'PUBLIC_URL' | 'API_KEYS' | 'USER_TOKEN_SECRET' | 'USER_TOKEN_SECRET_PREVIOUS' | 'RATE_LIMIT_RPS' | 'RATE_LIMIT_BURST' | 'TRUST_PROXY' | 'BODY_LIMIT_BYTES' | 'RETRY_AFTER_SECONDS' | 'REDIS_COMMAND_TIMEOUT_MS'>;

export interface ExperimentSource {
  /** Definitions currently in force (refreshed in the background from Postgres). */
  current(): readonly Experiment[];
}

export interface OriginDeps {
  config: AppConfig;
  pipeline: Pipeline;
  featureStore: FeatureStore;
  database: DatabaseHandle;
  catalog: ItemCatalog;
  /** Reloads the catalogue rows changed in the database (after PUT/DELETE /v1/items: this origin sees them before answering). */
  refreshCatalog?: (() => Promise<void>) | undefined;
  /** Publishes price/stock changes to the slate KV for the edge (catalog:changes) when SLATES_KV is set; one at a time. */
  publishItemChanges?: ((updates: readonly ItemUpdate[]) => Promise<void>) | undefined;
  metrics: OriginMetrics;
  experiments: ExperimentSource;
  /** Per-variant serving guardrails and shadow comparisons (flushed to Postgres by the wiring). */
  experimentCounters: ExperimentCounters;
  /** Create/pause/stop, results and the canary rule (the /v1/experiments routes). */
  experimentService: ExperimentService;
  rateLimiter?: RateLimiter | undefined;
  /** Loads another model version next to the current one (export of a given version); rejects when it doesn't exist. */
  pinModelVersion?: ((version: string) => Promise<void>) | undefined;
  /** The KV the nightly job writes slates to (SLATES_KV), opened on first use; absent when none is configured. */
  slatesKv?: (() => Promise<KvWriter>) | undefined;
  /** Removes an erased user's precomputed slates from KV when a writer is configured. */
  eraseSlates?: ((userId: string) => Promise<void>) | undefined;
  /** The served model's ONNX execution providers and load warnings (e.g. a GPU provider that fell back to CPU), for /readyz. */
  modelStatus?: (() => { providers: readonly string[]; warnings: readonly string[] }) | undefined;
  /** Worker number under ORIGIN_WORKERS (sent as X-Origin-Worker); absent in a single process. */
  worker?: number | undefined;
  /** The text GET /metrics serves; default this process's registry (a cluster worker asks the primary for all workers'). */
  metricsText?: (() => Promise<string>) | undefined;
  now?: (() => number) | undefined;
  log?: ((line: Record<string, unknown>) => void) | undefined;
}
