/**
 * The nightly reads real users (issue 10.5) and honours erasure at write time (issue 12.3):
 *  1. PostgresUserSource over the origin's events gives, user for user, what the generator fold gives for the
 *     same interactions (one history rule and cap), skips erased users, and prefers the feature store's lists;
 *  2. a user erased (through the origin's own repository call) while the job runs — before their batch, or
 *     in the middle of their batch's write — has no slate in the new version; everyone else has one;
 *  3. when the erasure list cannot be read the job stops and the pointer does not flip.
 * Real Postgres (own database), real Redis (own prefix), real local KV, real ONNX models.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../shared/catalog/types.ts';
import { SLATE_POINTER_KEY, slateKey } from '../../shared/kv/keys.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import { activeUsersOf, demoInputs, loadModelArtifacts, type ModelArtifacts } from '../../batch/nightly/inputs.ts';
import { runNightly } from '../../batch/nightly/job.ts';
import { openLocalKv } from '../../adapters/kv/local.ts';
import { openDatabase, type DatabaseHandle } from '../../adapters/postgres/database.ts';
import { eraseUserRows, insertCatalog, insertEvents } from '../../adapters/postgres/repository.ts';
import { PostgresUserSource } from '../../adapters/postgres/user-source.ts';
import { RedisFeatureStore } from '../../adapters/redis/feature-store.ts';
import { fixedVersionServing, openServedPipeline, type ServedPipeline } from '../../adapters/serving.ts';
import { createTestDatabase } from '../origin/support.ts';
import { openNightlySources } from '../../batch/nightly/sources.ts';
import { root, tempDir } from './helpers.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `t-usersrc-${process.pid}:`;
let testDb: { url: string; drop: () => Promise<void> };
let database: DatabaseHandle;
let dataset: Dataset;
let dir: string;
let served: ServedPipeline;
let artifacts: ModelArtifacts;

/** The generator's first `n` active users' data only (small enough for a quick test). */
function subset(full: Dataset, n: number): Dataset {
  const keep = new Set(activeUsersOf(full).slice(0, n).map((u) => u.id));
  return { ...full, users: full.users.filter((u) => keep.has(u.id)), interactions: full.interactions.filter((e) => keep.has(e.userId)) };
}

beforeAll(async () => {
  dataset = subset(demoInputs().dataset, 120);
  testDb = await createTestDatabase();
  database = await openDatabase({ databaseUrl: testDb.url });
  const db = await database.get();
  await insertCatalog(db, dataset.items, dataset.users);
  for (let i = 0; i < dataset.interactions.length; i += 500) await insertEvents(db, dataset.interactions.slice(i, i + 500));
  dir = await tempDir('nightly-usersrc');
  artifacts = await loadModelArtifacts(join(root, 'models', 'artifacts'));
  served = await openServedPipeline({ ...fixedVersionServing(artifacts.dir, dataset.items), annCacheDir: null });
}, 120_000);

afterAll(async () => {
  await served?.close();
  await database?.close();
  await testDb?.drop();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await rm(dir, { recursive: true, force: true });
});

describe('PostgresUserSource', () => {
  it('rebuilds the same users as the generator fold, and omits erased users', async () => {
    const source = new PostgresUserSource(await database.get());
    const expected = activeUsersOf(dataset);
    expect(expected.length).toBeGreaterThan(100);
    expect(expected.some((u) => u.purchased.length > 0)).toBe(true);
    expect(await source.activeUsers()).toEqual(expected);

    const gone = expected[3]!.id;
    await eraseUserRows(await database.get(), gone);
    const after = await source.activeUsers();
    expect(after.map((u) => u.id)).toEqual(expected.filter((u) => u.id !== gone).map((u) => u.id));
    expect(await source.erasedAmong([gone, expected[4]!.id])).toEqual(new Set([gone]));
  });

  it("takes the feature store's history when it holds the user (what the origin serves from)", async () => {
    const store = new RedisFeatureStore(REDIS_URL, { keyPrefix: PREFIX, commandTimeoutMs: 2000 });
    try {
      const source = new PostgresUserSource(await database.get(), { featureStore: store });
      const [first, second] = (await new PostgresUserSource(await database.get()).activeUsers()).slice(0, 2);
      if (!first || !second) throw new Error('no users');
      await store.seedUsers([{ userId: first.id, history: ['i1', 'i2', 'i3'], purchased: ['i2'], features: { segment: first.segment } }]);
      const users = await source.activeUsers();
      expect(users.find((u) => u.id === first.id)).toEqual({ id: first.id, segment: first.segment, history: ['i1', 'i2', 'i3'], purchased: ['i2'] });
      expect(users.find((u) => u.id === second.id)).toEqual(second); // not in the store: rebuilt from events
    } finally {
      await store.close();
    }
  });
});

describe('which users the nightly reads (--users auto|store|generator)', () => {
  it('auto: the store when its database holds active users, else the generator', async () => {
    const withUsers = await openNightlySources({ usersFrom: 'auto', databaseUrl: testDb.url, maxUsers: 10 });
    try {
      expect(withUsers.source.kind).toBe('store');
      expect(withUsers.items.map((i) => i.id).sort()).toEqual(dataset.items.map((i) => i.id).sort());
      expect(await withUsers.source.activeUsers()).toEqual((await new PostgresUserSource(await database.get()).activeUsers()).slice(0, 10));
    } finally {
      await withUsers.source.close();
    }
    const empty = await createTestDatabase();
    try {
      const none = await openNightlySources({ usersFrom: 'auto', databaseUrl: empty.url, maxUsers: 10 });
      expect(none.source.kind).toBe('generator');
      await none.source.close();
    } finally {
      await empty.drop();
    }
    expect((await openNightlySources({ usersFrom: 'auto', maxUsers: 5 })).source.kind).toBe('generator');
    await expect(openNightlySources({ usersFrom: 'store' })).rejects.toThrow(/needs the origin database/);
  }, 60_000);
});

describe('erasure at write time', () => {
  it('a user erased while the job runs gets no slate in the new version', async () => {
    const db = await database.get();
    const source = new PostgresUserSource(db);
    const users = await source.activeUsers();
    const kv = await openLocalKv({ persistTo: join(dir, 'kv'), namespaceId: 'ns' });
    // Erased after the job started, before their batch: the check before the write must see it.
    const lateUser = users.at(-1)!.id;
    // Erased while their own batch is being written: the check after the write must delete it again.
    const midWriteUser = users.at(-5)!.id;
    let erasedMidWrite = false;
    const erasingKv: KvWriter = {
      ...kv,
      list: (prefix) => kv.list(prefix),
      putMany: async (entries) => {
        if (!erasedMidWrite && entries.some((e) => e.key.endsWith(`:user:${midWriteUser}`))) {
          erasedMidWrite = true;
          await eraseUserRows(db, midWriteUser); // lands between the job's check and its write
        }
        await kv.putMany(entries);
      },
    };
    let erasedLate = false;
    try {
      const summary = await runNightly({
        kv: erasingKv,
        pipeline: served.pipeline,
        space: artifacts.space,
        sessionVectors: artifacts.sessionVectors,
        items: dataset.items.slice(0, 50),
        users,
        segments: dataset.segments,
        stateDir: join(dir, 'state'),
        shards: 1,
        batchSize: 16,
        slateSize: 10,
        version: 'v20260101T000000Z',
        at: Date.UTC(2026, 0, 1),
        erasedAmong: (ids) => source.erasedAmong(ids),
        onProgress: ({ usersDone }) => {
          if (usersDone > 0 && !erasedLate) {
            erasedLate = true;
            void eraseUserRows(db, lateUser);
          }
        },
      });
      expect(erasedMidWrite && erasedLate).toBe(true);
      expect(summary.flipped).toBe(true);
      expect(summary.usersErasedAtWrite).toBe(2);
      const slates = await kv.getMany(users.map((u) => slateKey(summary.version, { kind: 'user', id: u.id })));
      const missing = users.filter((_, i) => slates[i] === null).map((u) => u.id);
      expect(missing.sort()).toEqual([lateUser, midWriteUser].sort());
    } finally {
      await kv.close();
    }
  }, 120_000);

  it('stops before the pointer flip when the erasure list cannot be read', async () => {
    const kv = await openLocalKv({ persistTo: join(dir, 'kv-fail'), namespaceId: 'ns' });
    try {
      const users = activeUsersOf(dataset).slice(0, 20);
      const run = runNightly({
        kv,
        pipeline: served.pipeline,
        space: artifacts.space,
        sessionVectors: artifacts.sessionVectors,
        items: dataset.items.slice(0, 10),
        users,
        segments: dataset.segments,
        stateDir: join(dir, 'state-fail'),
        shards: 1,
        batchSize: 8,
        slateSize: 5,
        erasedAmong: () => Promise.reject(new Error('database unavailable')),
      });
      await expect(run).rejects.toThrow(/database unavailable/);
      expect(await kv.get(SLATE_POINTER_KEY)).toBeNull();
    } finally {
      await kv.close();
    }
  }, 60_000);
});
