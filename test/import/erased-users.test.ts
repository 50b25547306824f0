/**
 * An import never brings an erased user back (issue 12.3, erasure that sticks): `npm run import` of a file
 * that still holds a user erased through DELETE /v1/users/:id stores none of their events, no profile row and
 * no feature-store history, and says how many rows it left out; other users are imported as usual.
 * Real Postgres (COPY writer) and Redis.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runImport } from '../../batch/import/import.ts';
import { openImportTargets, type ImportTargets } from '../../batch/import/open-targets.ts';
import { markErased } from '../../adapters/postgres/repository.ts';
import { tempDir } from '../nightly/helpers.ts';
import { createTestDatabase, deleteRedisPrefix, REDIS_URL, uniqueId } from '../origin/support.ts';

let dir = '';
let db: { url: string; drop: () => Promise<void> };
let targets: ImportTargets;
const prefix = `${uniqueId('imperase')}:`;
const redis = new Redis(REDIS_URL, { keyPrefix: prefix });
const T0 = Date.UTC(2026, 0, 5, 10);

beforeAll(async () => {
  dir = await tempDir('import-erased');
  db = await createTestDatabase();
  targets = await openImportTargets({ databaseUrl: db.url, redisUrl: REDIS_URL, redisKeyPrefix: prefix });
  await writeFile(join(dir, 'items.csv'), 'id,title,category,brand,price,stock,tags\nsku-1,Trail Runner,Shoes,Acme,89.90,12,\nsku-2,Rain Jacket,Outdoor,Acme,120,3,\n');
  await writeFile(join(dir, 'users.csv'), 'id,segment\ngone-1,runners\nkept-1,hikers\n');
  const events = [
    { userId: 'gone-1', itemId: 'sku-1', type: 'view', ts: T0 },
    { userId: 'kept-1', itemId: 'sku-2', type: 'view', ts: T0 + 1000 },
    { userId: 'gone-1', itemId: 'sku-2', type: 'purchase', ts: T0 + 2000, value: 120 },
  ];
  await writeFile(join(dir, 'events.ndjson'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
});

afterAll(async () => {
  await targets?.close();
  redis.disconnect();
  await deleteRedisPrefix(prefix);
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('leaves out the rows of an erased user and imports the others', async () => {
  await markErased(await targets.database.get(), 'gone-1'); // what DELETE /v1/users/gone-1 records first
  const summary = await runImport({ items: join(dir, 'items.csv'), users: join(dir, 'users.csv'), events: join(dir, 'events.ndjson'), onError: 'fail', database: targets.database, eventWriter: targets.eventWriter, featureStore: targets.featureStore, now: T0 });
  expect(summary.users).toMatchObject({ rows: 2, stored: 1, erased: 1 });
  expect(summary.events).toMatchObject({ rows: 3, inserted: 1, erased: 2 });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    expect((await client.query('SELECT user_id FROM events ORDER BY user_id')).rows).toEqual([{ user_id: 'kept-1' }]);
    expect((await client.query('SELECT id FROM users ORDER BY id')).rows).toEqual([{ id: 'kept-1' }]);
  } finally {
    await client.end();
  }
  expect(await redis.lrange('hist:gone-1', 0, -1)).toEqual([]);
  expect(await redis.exists('buy:gone-1')).toBe(0);
  expect(await redis.lrange('hist:kept-1', 0, -1)).toEqual(['sku-2']);
});
