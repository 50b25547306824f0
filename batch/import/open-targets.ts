/**
 * Where an import writes, from the same settings the origin reads: DATABASE_URL (a Postgres server: the COPY
 * fast path) or else PGlite in PGLITE_DIR (default var/pglite: an in-memory database would vanish with the
 * import's process), and REDIS_URL (+ REDIS_KEY_PREFIX) for the feature store, or none.
 */
import { resolve } from 'node:path';
import { openDatabase, type DatabaseHandle } from '../../adapters/postgres/database.ts';
import { copyEventWriter, pgliteCopyEventWriter } from '../../adapters/postgres/copy-events.ts';
import { drizzleEventWriter, type EventWriter } from '../../adapters/postgres/import-repository.ts';
import { RedisFeatureStore } from '../../adapters/redis/feature-store.ts';
import type { FeatureStore } from '../../core/ports/feature-store.ts';

export interface ImportTargetSettings {
  databaseUrl?: string | undefined;
  pgliteDir?: string | undefined;
  redisUrl?: string | undefined;
  redisKeyPrefix?: string | undefined;
  /** false: plain multi-row INSERTs instead of COPY into a staging table (the default on both). */
  copy?: boolean;
}

export interface ImportTargets {
  database: DatabaseHandle;
  eventWriter: EventWriter;
  featureStore: FeatureStore | undefined;
  /** One line for the operator: where the rows went. */
  description: string;
  close(): Promise<void>;
}

export const DEFAULT_PGLITE_DIR = 'var/pglite';

const copyAllowed = (settings: ImportTargetSettings): boolean => settings.copy !== false;

export async function openImportTargets(settings: ImportTargetSettings): Promise<ImportTargets> {
  const pgliteDir = settings.databaseUrl ? undefined : resolve(settings.pgliteDir ?? DEFAULT_PGLITE_DIR);
  const database = await openDatabase({ databaseUrl: settings.databaseUrl, pgliteDir });
  const db = await database.get(); // migrations first: the COPY path needs the events table
  const eventWriter = !copyAllowed(settings) ? drizzleEventWriter(db) : settings.databaseUrl ? await copyEventWriter(settings.databaseUrl) : ((await pgliteCopyEventWriter(database)) ?? drizzleEventWriter(db));
  // Bulk rebuilds pipeline hundreds of users per round trip: a longer command timeout than the origin's 200 ms.
  const featureStore = settings.redisUrl ? new RedisFeatureStore(settings.redisUrl, { keyPrefix: settings.redisKeyPrefix ?? '', commandTimeoutMs: 10_000 }) : undefined;
  const where = settings.databaseUrl ? `Postgres ${new URL(settings.databaseUrl).host}${new URL(settings.databaseUrl).pathname}${copyAllowed(settings) ? ' (COPY)' : ''}` : `PGlite ${pgliteDir}${copyAllowed(settings) ? ' (COPY)' : ''}`;
  return {
    database,
    eventWriter,
    featureStore,
    description: `${where}; feature store: ${settings.redisUrl ? `Redis ${new URL(settings.redisUrl).host}` : 'none (an origin without REDIS_URL rebuilds its in-process store from the database at start)'}`,
    async close() {
      await eventWriter.close();
      await featureStore?.close();
      await database.close();
    },
  };
}
