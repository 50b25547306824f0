/**
 * Builds the running service from config: database (Postgres or PGlite), feature store (Redis or
 * in-process), catalogue (seeded from the generator when empty), experiments, the model pipeline and the app.
 * server.ts calls it; tests call it with their own config to get a real app.
 */
import { resolve } from 'node:path';
import type { Hono } from 'hono';
import { createOriginApp } from './app.ts';
import type { OriginConfig } from './config.ts';
import { experimentsFromDatabase, type RefreshingExperiments } from './experiments/source.ts';
import { createMetrics, setModelVersion, type OriginMetrics } from './metrics.ts';
import { parseExecutionProviders } from '../adapters/onnx/execution.ts';
import { InMemoryItemCatalog } from '../adapters/memory/item-catalog.ts';
import { openServedPipeline } from '../adapters/serving.ts';
import { openDatabase, type DatabaseHandle } from '../adapters/postgres/database.ts';
import { loadItems } from '../adapters/postgres/repository.ts';
import type { FeatureStore } from '../core/ports/feature-store.ts';
import { MemoryFeatureStore } from '../adapters/memory/feature-store.ts';
import { RedisFeatureStore } from '../adapters/redis/feature-store.ts';
import { kvSettingsFrom, openKv } from '../adapters/kv/open.ts';
import type { KvWriter } from '../shared/kv/writer.ts';
import { slateEraser } from '../core/erasure/slate-eraser.ts';
import { RedisRateLimiter } from '../adapters/redis/rate-limiter.ts';
import { demoDataset, seedCatalogIfEmpty, seedHistories } from '../batch/seed/seed.ts';

export interface OriginService {
  app: Hono;
  database: DatabaseHandle;
  featureStore: FeatureStore;
  metrics: OriginMetrics;
  /** Reloaded every EXPERIMENTS_REFRESH_MS; refresh() applies a change at once. */
  experiments: RefreshingExperiments;
  close(): Promise<void>;
}

export async function buildOriginService(config: OriginConfig, log: (line: Record<string, unknown>) => void = () => undefined): Promise<OriginService> {
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
  const featureStore: FeatureStore = config.REDIS_URL
    ? new RedisFeatureStore(config.REDIS_URL, { keyPrefix: config.REDIS_KEY_PREFIX, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS })
    : new MemoryFeatureStore();

  const catalog = new InMemoryItemCatalog([]);
  const loadCatalog = async (): Promise<void> => {
    try {
      if (config.SEED_CATALOG && catalog.size === 0) {
        const added = await seedCatalogIfEmpty(database, demoDataset());
        if (added > 0) log({ component: 'seed', items: added });
      }
      catalog.upsert(await loadItems(await database.get()));
    } catch (error) {
      // Start anyway: recommendations work from the model's feature space; events answer 503 until the db is back.
      log({ component: 'catalog', level: 'warn', error: error instanceof Error ? error.message : String(error) });
    }
  };
  await loadCatalog();
  // Picks up stock changes, and loads the catalogue at all when Postgres was down at start.
  const catalogTimer = setInterval(() => void loadCatalog(), catalog.size === 0 ? 5000 : 60_000);
  catalogTimer.unref();
  const seedUsers = config.SEED_HISTORIES === 'true' || (config.SEED_HISTORIES === 'auto' && !config.REDIS_URL);
  if (seedUsers) log({ component: 'seed', users: await seedHistories(featureStore, demoDataset(), config.SEED_USERS) });

  const experiments = experimentsFromDatabase(database, config.EXPERIMENTS_REFRESH_MS, log);
  await experiments.refresh();
  const metrics = createMetrics({ defaultMetrics: true });
  const made = await openServedPipeline({
    artifactsRoot: resolve(config.MODELS_DIR),
    catalog,
    itemStats: (ids) => featureStore.itemStats(ids),
    pollMs: config.MODEL_POLL_MS,
    execution: { executionProviders: parseExecutionProviders(config.ONNX_EXECUTION_PROVIDERS), intraOpNumThreads: config.ONNX_INTRA_OP_THREADS },
    log: (line) => log({ component: 'model-registry', ...line }),
  });
  setModelVersion(metrics, made.pipeline.modelVersion);
  const versionTimer = setInterval(() => setModelVersion(metrics, made.pipeline.modelVersion), 5000);
  versionTimer.unref();

  // Shared budget across replicas when Redis is configured; otherwise createOriginApp's in-process buckets.
  const rateLimiter = config.REDIS_URL ? new RedisRateLimiter(config.REDIS_URL, { ratePerSecond: config.RATE_LIMIT_RPS, burst: config.RATE_LIMIT_BURST, keyPrefix: config.REDIS_KEY_PREFIX, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS }) : undefined;
  // The slate KV is opened on first use only (an export or an erasure): most processes never need it.
  const kvKind = config.SLATES_KV !== 'none' ? config.SLATES_KV : config.ERASE_SLATES_KV;
  let kv: Promise<KvWriter> | undefined;
  const slatesKv = kvKind === 'none' ? undefined : (): Promise<KvWriter> => (kv ??= openKv(kvSettingsFrom({ kv: kvKind }, process.env, resolve('.'))));
  const eraseSlates = config.ERASE_SLATES_KV === 'none' || !slatesKv ? undefined : async (userId: string): Promise<void> => {
    await slateEraser(await slatesKv())(userId);
  };
  const app = createOriginApp({ config, pipeline: made.pipeline, featureStore, database, catalog, metrics, experiments, log, rateLimiter, eraseSlates, slatesKv: config.SLATES_KV === 'none' ? undefined : slatesKv, pinModelVersion: (version) => made.registry.pin(version) });
  return {
    app,
    database,
    featureStore,
    metrics,
    experiments,
    async close() {
      clearInterval(versionTimer);
      clearInterval(catalogTimer);
      rateLimiter?.close();
      if (kv) await (await kv).close();
      experiments.stop();
      await made.close();
      await featureStore.close();
      await database.close();
    },
  };
}
