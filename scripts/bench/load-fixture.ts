/**
 * What `npm run bench:load` serves from, made once per run and removed after: the synthetic catalogue's model
 * artifacts (scripts/bench/synthetic-artifacts.ts, cached under var/bench/, published there as current.json), their
 * ANN graph (built once with every core, cached), a private Postgres database holding that catalogue (so the
 * origin's stock rules see every item), and the users' histories in Redis under a private key prefix (so most
 * requests go through retrieval and ranking).
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import pg from 'pg';
import { openDatabase } from '../../adapters/postgres/database.ts';
import { openServedPipeline } from '../../adapters/serving.ts';
import { insertCatalog } from '../../adapters/postgres/repository.ts';
import { RedisFeatureStore } from '../../adapters/redis/feature-store.ts';
import { seededUsersOf } from '../../batch/seed/seed.ts';
import type { Dataset } from '../../shared/catalog/types.ts';
import { syntheticArtifacts } from './synthetic-artifacts.ts';

export interface LoadFixture {
  /** Env for `node origin/server.ts`. */
  env: Record<string, string>;
  dataset: Dataset;
  /** Users with a history in the feature store. */
  users: number;
  seconds: number;
  remove(): Promise<void>;
}

export async function loadFixture(root: string, items: number, users: number): Promise<LoadFixture> {
  const started = performance.now();
  const synthetic = await syntheticArtifacts(root, items, users);
  const modelsDir = dirname(synthetic.dir);
  await writeFile(join(modelsDir, 'current.json'), JSON.stringify({ version: basename(synthetic.dir) }));
  // Build (or load) the ANN graph once here with every core, into the cache the origin's workers read: an uncached
  // 1M-item graph built single-threaded at the origin's start would take many minutes.
  const warm = await openServedPipeline({ artifactsRoot: modelsDir, fixedVersion: basename(synthetic.dir), pollMs: 0, catalog: [], ann: { threads: 0 }, log: () => undefined });
  await warm.close();

  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `bench_load_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString() });
  await insertCatalog(await database.get(), synthetic.dataset.items, synthetic.dataset.users);
  await database.close();

  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench:load:${randomBytes(4).toString('hex')}:`;
  const store = new RedisFeatureStore(redisUrl, { keyPrefix: prefix, commandTimeoutMs: 5000 });
  const seeded = seededUsersOf(synthetic.dataset, users);
  await store.seedUsers(seeded);

  return {
    env: { MODELS_DIR: modelsDir, DATABASE_URL: url.toString(), REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, SEED_CATALOG: 'false', SEED_HISTORIES: 'false', MODEL_POLL_MS: '0', CANARY_CHECK_MS: '0' },
    dataset: synthetic.dataset,
    users: seeded.length,
    seconds: (performance.now() - started) / 1000,
    async remove() {
      await store.close();
      await deletePrefix(redisUrl, prefix);
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl);
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
  } finally {
    redis.disconnect();
  }
}
