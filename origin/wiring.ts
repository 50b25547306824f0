/**
 * Builds the running service from config: database (Postgres or PGlite), feature store (Redis or
 * in-process), catalogue (seeded from the generator when empty), the model pipeline, experiments (definitions,
 * per-variant counters, the canary timer) and the app.
 * server.ts calls it; tests call it with their own config to get a real app.
 */
import { resolve } from 'node:path';
import type { Hono } from 'hono';
import { createOriginApp } from './app.ts';
import { loadItems } from '../adapters/postgres/repository.ts';
import { catalogFromDatabase } from './catalog-source.ts';
import type { OriginConfig } from './config.ts';
import { experimentsFromDatabase, type RefreshingExperiments } from './experiments/source.ts';
import { experimentModelPins } from './experiments/model-pins.ts';
import { ExperimentCounters, startFlushing } from './experiments/serving-stats.ts';
import { createExperimentService, type ExperimentService } from './experiments/service.ts';
import { countItemStatsLookups, createMetrics, setModelVersion, type OriginMetrics } from './metrics.ts';
import { publishVersion } from '../core/registry/publish.ts';
import type { ModelRegistry } from '../core/registry/model-registry.ts';
import { parseExecutionProviders } from '../adapters/onnx/execution.ts';
import { InMemoryItemCatalog } from '../adapters/memory/item-catalog.ts';
import { cachedItemStats } from '../adapters/memory/item-stats-cache.ts';
import { openServedPipeline } from '../adapters/serving.ts';
import { openDatabase, type DatabaseHandle } from '../adapters/postgres/database.ts';
import type { FeatureStore } from '../core/ports/feature-store.ts';
import { MemoryFeatureStore } from '../adapters/memory/feature-store.ts';
import { RedisFeatureStore } from '../adapters/redis/feature-store.ts';
import { kvSettingsFrom, openKv } from '../adapters/kv/open.ts';
import type { KvWriter } from '../shared/kv/writer.ts';
import { slateEraser } from '../core/erasure/slate-eraser.ts';
import { clusterMetrics } from './cluster/worker.ts';
import { RedisRateLimiter } from '../adapters/redis/rate-limiter.ts';
import { connectRedis } from '../adapters/redis/connect.ts';
import { demoDataset, seedCatalogIfEmpty, seedHistories } from '../batch/seed/seed.ts';
import { startFeatureOutbox, type FeatureOutbox } from './feature-outbox.ts';
import { rebuildAllHistories } from '../batch/import/histories.ts';
import { publishItemChanges } from '../batch/nightly/item-changes.ts';
import type { ItemUpdate } from '../shared/contracts/item-changes.ts';

export interface OriginService {
  app: Hono;
  database: DatabaseHandle;
  featureStore: FeatureStore;
  metrics: OriginMetrics;
  /** Reloaded on NOTIFY and every EXPERIMENTS_REFRESH_MS; refresh() applies a change at once. */
  experiments: RefreshingExperiments;
  experimentService: ExperimentService;
  /** Adds this process's pending per-variant counters to Postgres now. */
  flushExperimentCounters(): Promise<void>;
  /** Reads the catalogue now; items the served model lacks get cold-start embeddings (a reload of the version). */
  refreshCatalog(): Promise<void>;
  /** The model registry: the current version and those pinned for experiments (status, tests). */
  models: ModelRegistry;
  /** Applies events stored while the feature store was down (runs every FEATURE_OUTBOX_DRAIN_MS). */
  featureOutbox: FeatureOutbox;
  close(): Promise<void>;
}

/**
 * `cluster`: this process is a worker of ORIGIN_WORKERS (node:cluster): /metrics aggregates all workers, answers
 * carry X-Origin-Worker, and only the leader worker runs the deployment-wide canary timer.
 */
export async function buildOriginService(config: OriginConfig, log: (line: Record<string, unknown>) => void = () => undefined, cluster?: { worker: number; leader: boolean }): Promise<OriginService> {
  const worker = cluster?.worker;
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
  const featureStore: FeatureStore = config.REDIS_URL
    ? new RedisFeatureStore(config.REDIS_URL, { keyPrefix: config.REDIS_KEY_PREFIX, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS })
    : new MemoryFeatureStore();

  const catalog = new InMemoryItemCatalog([]);
  // Reloads changed rows on NOTIFY catalog_changed and every CATALOG_REFRESH_MS (origin/catalog-source.ts).
  // New items the served model was not trained on get cold-start embeddings (adapters/serving.ts catalogChanged).
  let catalogChanged: () => Promise<unknown> = async () => undefined;
  const catalogSource = catalogFromDatabase(database, catalog, {
    refreshMs: config.CATALOG_REFRESH_MS,
    log,
    onChanged: () => catalogChanged(),
    beforeFirstLoad: config.SEED_CATALOG
      ? async () => {
          const added = await seedCatalogIfEmpty(database, demoDataset());
          if (added > 0) log({ component: 'seed', items: added });
        }
      : undefined,
  });
  await catalogSource.refresh();
  const refreshCatalog = (): Promise<void> => catalogSource.refresh();
  const seedUsers = config.SEED_HISTORIES === 'true' || (config.SEED_HISTORIES === 'auto' && !config.REDIS_URL);
  if (seedUsers) log({ component: 'seed', users: await seedHistories(featureStore, demoDataset(), config.SEED_USERS) });
  // The in-process store starts empty: fill it from the events stored in the database (npm run import, /v1/events).
  if (!config.REDIS_URL) {
    await rebuildAllHistories(database, featureStore).then(
      (users) => users > 0 && log({ component: 'feature-store', usersFromDatabase: users }),
      (error: unknown) => log({ component: 'feature-store', level: 'warn', error: error instanceof Error ? error.message : String(error) }),
    );
  }

  const metrics = createMetrics({ defaultMetrics: true });
  const made = await openServedPipeline({
    artifactsRoot: resolve(config.MODELS_DIR),
    catalog,
    // Redis is read once per item per ITEM_STATS_CACHE_MS, not per request; the in-process store needs no cache.
    itemStats: config.REDIS_URL ? cachedItemStats((ids) => featureStore.itemStats(ids), { ttlMs: config.ITEM_STATS_CACHE_MS, maxItems: config.ITEM_STATS_CACHE_ITEMS }, countItemStatsLookups(metrics)) : (ids) => featureStore.itemStats(ids),
    coldStartItems: async () => loadItems(await database.get()),
    pollMs: config.MODEL_POLL_MS,
    onBatch: (size) => metrics.pipelineBatchSize.observe(size),
    execution: { executionProviders: parseExecutionProviders(config.ONNX_EXECUTION_PROVIDERS), intraOpNumThreads: config.ONNX_INTRA_OP_THREADS },
    annKind: config.ANN_KIND === 'auto' ? undefined : config.ANN_KIND,
    ann: { expansionSearch: config.ANN_EXPANSION_SEARCH, quantization: config.ANN_QUANTIZATION },
    log: (line) => log({ component: 'model-registry', ...line }),
  });
  setModelVersion(metrics, made.pipeline.modelVersion);
  catalogChanged = () => made.catalogChanged();

  // Experiments: definitions (LISTEN + poll), the versions they serve pinned, per-variant counters flushed to
  // Postgres, the operator's service, and the canary rule on a timer.
  const experimentCounters = new ExperimentCounters(metrics);
  const flusher = startFlushing(experimentCounters, database, config.EXPERIMENT_STATS_FLUSH_MS, log);
  const pins = experimentModelPins(made.registry, log);
  const experiments = experimentsFromDatabase(database, {
    refreshMs: config.EXPERIMENTS_REFRESH_MS,
    log,
    onChange: async (current) => {
      experimentCounters.retain(current);
      await pins(current);
    },
  });
  await experiments.refresh();
  const artifactsRoot = resolve(config.MODELS_DIR);
  const experimentService = createExperimentService({
    database,
    flushCounters: () => flusher.flush(),
    refresh: () => experiments.refresh(),
    pinModelVersion: (version) => made.registry.pin(version),
    publishModelVersion: (version) => publishVersion(artifactsRoot, version),
    reloadModels: () => made.registry.reload(),
    now: Date.now,
    log,
  });
  let canaryRun: Promise<void> = Promise.resolve();
  const canaryTimer = config.CANARY_CHECK_MS > 0 && (cluster?.leader ?? true) ? setInterval(() => {
    canaryRun = canaryRun.then(() => experimentService.evaluateCanaries(experiments.current())).catch((error: unknown) => log({ component: 'canary', level: 'warn', error: error instanceof Error ? error.message : String(error) }));
  }, config.CANARY_CHECK_MS) : undefined;
  canaryTimer?.unref();
  const versionTimer = setInterval(() => setModelVersion(metrics, made.pipeline.modelVersion), 5000);
  versionTimer.unref();

  // Shared budget across replicas when Redis is configured; otherwise createOriginApp's in-process buckets.
  const rateLimiter = config.REDIS_URL ? new RedisRateLimiter(connectRedis(config.REDIS_URL, { commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS }), { ratePerSecond: config.RATE_LIMIT_RPS, burst: config.RATE_LIMIT_BURST, keyPrefix: config.REDIS_KEY_PREFIX }) : undefined;
  // The slate KV is opened on first use only (an export or an erasure): most processes never need it.
  const eraseKind = config.ERASE_SLATES_KV ?? config.SLATES_KV;
  const kvKind = config.SLATES_KV !== 'none' ? config.SLATES_KV : eraseKind;
  let kv: Promise<KvWriter> | undefined;
  const slatesKv = kvKind === 'none' ? undefined : (): Promise<KvWriter> => (kv ??= openKv(kvSettingsFrom({ kv: kvKind }, process.env, resolve('.'))));
  const eraseSlates = eraseKind === 'none' || !slatesKv ? undefined : async (userId: string): Promise<void> => {
    await slateEraser(await slatesKv())(userId);
  };
  // Catalogue API changes of price/stock reach the edge before the next nightly (read-merge-write: serialised here;
  // run one origin with SLATES_KV, or accept that concurrent publishers may drop a change until the nightly).
  let publishing: Promise<unknown> = Promise.resolve();
  const publishChanges = config.SLATES_KV === 'none' || !slatesKv ? undefined : (updates: readonly ItemUpdate[]): Promise<void> => {
    const next = publishing.catch(() => undefined).then(async () => {
      await publishItemChanges(await slatesKv(), updates, Date.now());
    });
    publishing = next;
    return next;
  };
  const featureOutbox = startFeatureOutbox({ database, featureStore, intervalMs: config.FEATURE_OUTBOX_DRAIN_MS, graceMs: config.FEATURE_OUTBOX_GRACE_MS, log });
  const app = createOriginApp({ config, pipeline: made.pipeline, featureStore, database, catalog, refreshCatalog, publishItemChanges: publishChanges, metrics, experiments, experimentCounters, experimentService, log, rateLimiter, eraseSlates, worker, metricsText: worker !== undefined ? clusterMetrics(metrics.registry) : undefined, slatesKv: config.SLATES_KV === 'none' ? undefined : slatesKv, pinModelVersion: (version) => made.registry.pin(version), modelStatus: () => made.registry.status });
  return {
    app,
    database,
    featureStore,
    metrics,
    experiments,
    experimentService,
    flushExperimentCounters: () => flusher.flush(),
    refreshCatalog,
    models: made.registry,
    featureOutbox,
    async close() {
      await featureOutbox.stop();
      if (canaryTimer) clearInterval(canaryTimer);
      await canaryRun;
      clearInterval(versionTimer);
      await catalogSource.stop();
      rateLimiter?.close();
      if (kv) await (await kv).close();
      await experiments.stop();
      await flusher.stop();
      await made.close();
      await featureStore.close();
      await database.close();
    },
  };
}
