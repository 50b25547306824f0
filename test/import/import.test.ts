/**
 * `npm run import` on real Postgres and Redis: NDJSON and CSV, bad rows reported by line (skip / fail),
 * re-runs that store nothing twice, histories that follow event time with the origin's rule whatever the
 * file order, both event writers (COPY into a staging table, multi-row INSERT with --no-copy), and the CLI on an embedded PGlite.
 */
import { existsSync } from 'node:fs';
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImportTargets, type ImportTargets } from '../../batch/import/open-targets.ts';
import { ImportRejectedError, runImport } from '../../batch/import/import.ts';
import { derivedEventId } from '../../batch/import/event-ids.ts';
import { USER_HISTORY_CAP } from '../../shared/features/history.ts';
import { spawnScript, tempDir } from '../nightly/helpers.ts';
import { createTestDatabase, deleteRedisPrefix, REDIS_URL, uniqueId } from '../origin/support.ts';

// The CLI runs as a shop would without a feature store: REDIS_URL unset even where the suite has one (CI).
const NO_REDIS = { REDIS_URL: '' };

let dir = '';
let db: { url: string; drop: () => Promise<void> };
const prefix = `${uniqueId('imp')}:`;
let redis: Redis;
const T0 = Date.UTC(2026, 0, 5, 10);
const min = 60_000;

const ndjson = (rows: unknown[]): string => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

async function rows(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  dir = await tempDir('import');
  db = await createTestDatabase();
  redis = new Redis(REDIS_URL, { keyPrefix: prefix });
  await writeFile(join(dir, 'items.csv'), [
    'id,title,category,brand,price,stock,tags',
    'sku-1,"Trail Runner 2, blue",Shoes,Acme,89.90,12,running|trail',
    'sku-2,Rain Jacket,Outdoor,,120,,',
    'sku-3,,Shoes,Acme,10,1,', // no title: line 4 is refused
    'sku-4,Sandals,Shoes,Acme,-5,1,', // negative price: line 5
    'sku-5,Cap,Hats,Acme,15,0,',
  ].join('\n') + '\n');
  // Out of time order on purpose; c-1's history by time is sku-2, sku-1 (view+purchase collapse), sku-5.
  await writeFile(join(dir, 'events.ndjson'), ndjson([
    { userId: 'c-1', itemId: 'sku-1', type: 'purchase', ts: T0 + 2 * min, value: 89.9 },
    { userId: 'c-1', itemId: 'sku-2', type: 'view', ts: new Date(T0).toISOString() },
    { userId: 'c-1', itemId: 'sku-1', type: 'view', ts: T0 + 1 * min },
    '{"userId": "c-1", broken json',
    { userId: 'c-2', itemId: 'sku-1', type: 'teleport', ts: T0 },
    '',
    { userId: 'c-1', itemId: 'sku-5', type: 'view', ts: T0 + 3 * min },
    { userId: 'c-2', itemId: 'sku-2', type: 'impression', ts: T0 + 5 * min },
    { userId: 'c-2', itemId: 'sku-2', type: 'click', ts: T0 + 6 * min, eventId: 'given-id-1' },
  ]));
  await writeFile(join(dir, 'users.csv'), 'id,segment\nc-1,runners\nc-2,\n');
});

afterAll(async () => {
  redis?.disconnect();
  await deleteRedisPrefix(prefix);
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('runImport on Postgres (COPY) and Redis', () => {
  let targets: ImportTargets;
  beforeAll(async () => {
    targets = await openImportTargets({ databaseUrl: db.url, redisUrl: REDIS_URL, redisKeyPrefix: prefix });
  });
  afterAll(async () => targets?.close());

  it('stores valid rows, reports bad ones with their line, and rebuilds histories in time order', async () => {
    const summary = await runImport({ items: join(dir, 'items.csv'), users: join(dir, 'users.csv'), events: join(dir, 'events.ndjson'), onError: 'skip', database: targets.database, eventWriter: targets.eventWriter, featureStore: targets.featureStore, now: T0 });
    expect(summary.items).toMatchObject({ rows: 5, rejected: 2, stored: 3 });
    expect(summary.items?.errors).toEqual([
      { line: 4, reason: expect.stringContaining('title') },
      { line: 5, reason: expect.stringContaining('price') },
    ]);
    expect(summary.events).toMatchObject({ rows: 8, rejected: 2, inserted: 6, duplicates: 0, unknownItems: 0 });
    expect(summary.events?.errors.map((e) => e.line)).toEqual([4, 5]);
    expect(summary.events?.errors[0]?.reason).toContain('invalid JSON');
    expect(summary.events?.errors[1]?.reason).toContain('type');
    expect(summary.featureStore).toEqual({ users: 2, seconds: expect.any(Number) });

    const items = await rows(db.url, 'select id, title, category, brand, price, stock, image, created_at from items order by id');
    expect(items).toEqual([
      { id: 'sku-1', title: 'Trail Runner 2, blue', category: 'Shoes', brand: 'Acme', price: 89.9, stock: 12, image: '/img/sku-1.svg', created_at: String(T0) },
      { id: 'sku-2', title: 'Rain Jacket', category: 'Outdoor', brand: 'Unknown', price: 120, stock: 1, image: '/img/sku-2.svg', created_at: String(T0) },
      { id: 'sku-5', title: 'Cap', category: 'Hats', brand: 'Acme', price: 15, stock: 0, image: '/img/sku-5.svg', created_at: String(T0) },
    ]);
    expect(await rows(db.url, 'select id, segment from users order by id')).toEqual([{ id: 'c-1', segment: 'runners' }, { id: 'c-2', segment: 'unknown' }]);
    const stored = await rows(db.url, "select event_id, session_id, value from events where user_id = 'c-1' order by ts");
    expect(stored.map((r) => r.event_id)).toEqual([
      derivedEventId({ userId: 'c-1', itemId: 'sku-2', type: 'view', ts: T0 }),
      derivedEventId({ userId: 'c-1', itemId: 'sku-1', type: 'view', ts: T0 + min }),
      derivedEventId({ userId: 'c-1', itemId: 'sku-1', type: 'purchase', ts: T0 + 2 * min }),
      derivedEventId({ userId: 'c-1', itemId: 'sku-5', type: 'view', ts: T0 + 3 * min }),
    ]);
    expect(new Set(stored.map((r) => r.session_id)).size).toBe(1); // all within 30 minutes: one session
    expect(stored[2]?.value).toBe(89.9);
    expect(await rows(db.url, "select event_id from events where user_id = 'c-2' and type = 'click'")).toEqual([{ event_id: 'given-id-1' }]);

    expect(await redis.lrange('hist:c-1', 0, -1)).toEqual(['sku-2', 'sku-1', 'sku-5']);
    expect(await redis.smembers('buy:c-1')).toEqual(['sku-1']);
    expect(await redis.hgetall('user:c-1')).toEqual({ segment: 'runners' });
    expect(await redis.lrange('hist:c-2', 0, -1)).toEqual([]); // impressions and clicks are not history
    expect(await redis.hgetall('istat:sku-2')).toEqual({ impressions: '1', clicks: '1' });
  });

  it('re-running the same files stores nothing twice and leaves the feature store as it was', async () => {
    const summary = await runImport({ items: join(dir, 'items.csv'), events: join(dir, 'events.ndjson'), onError: 'skip', database: targets.database, eventWriter: targets.eventWriter, featureStore: targets.featureStore, now: T0 + 999 });
    expect(summary.events).toMatchObject({ inserted: 0, duplicates: 6 });
    expect(await rows(db.url, 'select count(*)::int as n from events')).toEqual([{ n: 6 }]);
    expect(await redis.lrange('hist:c-1', 0, -1)).toEqual(['sku-2', 'sku-1', 'sku-5']);
    expect(await redis.hgetall('istat:sku-2')).toEqual({ impressions: '1', clicks: '1' });
    // createdAt keeps the first import's time; the rest of the row is replaced.
    expect(await rows(db.url, "select created_at from items where id = 'sku-1'")).toEqual([{ created_at: String(T0) }]);
  });

  it('a users file alone moves the segment into the feature store, the history kept', async () => {
    const file = join(dir, 'segments.ndjson');
    await writeFile(file, ndjson([{ id: 'c-1', segment: 'trail-runners' }]));
    const summary = await runImport({ users: file, onError: 'fail', database: targets.database, eventWriter: targets.eventWriter, featureStore: targets.featureStore });
    expect(summary.featureStore).toMatchObject({ users: 1 });
    expect(await redis.hgetall('user:c-1')).toEqual({ segment: 'trail-runners' });
    expect(await redis.lrange('hist:c-1', 0, -1)).toEqual(['sku-2', 'sku-1', 'sku-5']);
  });

  it('caps a long history at the origin cap, newest kept', async () => {
    const file = join(dir, 'long.ndjson');
    await writeFile(file, ndjson(Array.from({ length: USER_HISTORY_CAP + 30 }, (_, i) => ({ userId: 'c-long', itemId: `x${i}`, type: 'view', ts: T0 + i * 1000 }))));
    const summary = await runImport({ events: file, onError: 'fail', database: targets.database, eventWriter: targets.eventWriter, featureStore: targets.featureStore, batchSize: 40 });
    const history = await redis.lrange('hist:c-long', 0, -1);
    expect(history).toHaveLength(USER_HISTORY_CAP);
    expect(summary.events?.unknownItems).toBe(USER_HISTORY_CAP + 30); // x0… are not in the catalogue
    expect(history.at(-1)).toBe(`x${USER_HISTORY_CAP + 29}`);
    expect(history[0]).toBe('x30');
  });

  it('reports malformed CSV records in file order, and the rows before a fatal one are stored', async () => {
    const file = join(dir, 'ragged.csv');
    await writeFile(file, `userId,itemId,type,ts\nc-8,sku-1,view,${T0}\nc-8,sku-2,view,${T0 + min},extra\nc-8,sku-5,view,${T0 + 2 * min}\n`);
    const skip = await runImport({ events: file, onError: 'skip', database: targets.database, eventWriter: targets.eventWriter });
    expect(skip.events).toMatchObject({ rows: 3, rejected: 1, inserted: 2 });
    expect(skip.events?.errors).toEqual([{ line: 3, reason: expect.stringContaining('malformed CSV') }]);
    const other = join(dir, 'ragged-fail.csv');
    await writeFile(other, `userId,itemId,type,ts\nc-7,sku-1,view,${T0}\nc-7,sku-2,view,${T0 + min},extra\n`);
    await expect(runImport({ events: other, onError: 'fail', database: targets.database, eventWriter: targets.eventWriter })).rejects.toThrow(`${other}:3: malformed CSV`);
    expect(await rows(db.url, "select item_id from events where user_id = 'c-7'")).toEqual([{ item_id: 'sku-1' }]);
  });

  it('--on-error fail stops at the first bad row and names its line', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(file, `userId,itemId,type,ts\nc-9,sku-1,view,${T0}\nc-9,sku-1,view,yesterday\n`);
    const run = runImport({ events: file, onError: 'fail', database: targets.database, eventWriter: targets.eventWriter, featureStore: targets.featureStore });
    await expect(run).rejects.toThrow(ImportRejectedError);
    await expect(runImport({ events: file, onError: 'fail', database: targets.database, eventWriter: targets.eventWriter })).rejects.toThrow(`${file}:3: ts: not a timestamp`);
  });
});

describe('a feature store that is down', () => {
  it('fails the import with a reason after the events are stored; the re-run stores nothing twice and rebuilds', async () => {
    const file = join(dir, 'redis-down.ndjson');
    await writeFile(file, ndjson([
      { userId: 'c-down', itemId: 'sku-2', type: 'view', ts: T0 + 10 * min },
      { userId: 'c-down', itemId: 'sku-1', type: 'view', ts: T0 + 11 * min },
    ]));
    const down = await openImportTargets({ databaseUrl: db.url, redisUrl: 'redis://127.0.0.1:1', redisKeyPrefix: prefix });
    try {
      await expect(runImport({ events: file, onError: 'fail', database: down.database, eventWriter: down.eventWriter, featureStore: down.featureStore })).rejects.toThrow('the rows are stored; re-run the same import');
    } finally {
      await down.close();
    }
    expect(await rows(db.url, "select count(*)::int as n from events where user_id = 'c-down'")).toEqual([{ n: 2 }]);
    const up = await openImportTargets({ databaseUrl: db.url, redisUrl: REDIS_URL, redisKeyPrefix: prefix });
    try {
      const summary = await runImport({ events: file, onError: 'fail', database: up.database, eventWriter: up.eventWriter, featureStore: up.featureStore });
      expect(summary.events).toMatchObject({ inserted: 0, duplicates: 2 });
      expect(summary.featureStore).toEqual({ users: 1, seconds: expect.any(Number) });
    } finally {
      await up.close();
    }
    expect(await redis.lrange('hist:c-down', 0, -1)).toEqual(['sku-2', 'sku-1']);
  });
});

describe('npm run import (CLI)', () => {
  it('imports into an embedded PGlite folder (COPY, then plain INSERTs on the re-run), and says what it refused', async () => {
    const pglite = join(dir, 'pglite');
    const args = ['--items', join(dir, 'items.csv'), '--events', join(dir, 'events.ndjson'), '--pglite-dir', pglite, '--no-progress'];
    const first = await spawnScript('scripts/import.ts', args, NO_REDIS).done;
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ events: { inserted: 6, rejected: 2 }, featureStore: 'skipped' });
    expect(first.stderr).toContain(`${join(dir, 'items.csv')}:4: title`);
    expect(first.stderr).toContain(`PGlite ${pglite} (COPY)`);
    const again = await spawnScript('scripts/import.ts', [...args, '--no-copy'], NO_REDIS).done;
    expect(again.stderr).not.toContain('(COPY)');
    expect(JSON.parse(again.stdout)).toMatchObject({ events: { inserted: 0, duplicates: 6 } });
  });

  it('--check validates the same way and writes nothing', async () => {
    const pglite = join(dir, 'pglite-check');
    const bad = await spawnScript('scripts/import.ts', ['--check', '--items', join(dir, 'items.csv'), '--events', join(dir, 'events.ndjson'), '--pglite-dir', pglite]).done;
    expect(bad.code).toBe(3);
    expect(JSON.parse(bad.stdout)).toMatchObject({ check: true, items: { rows: 5, rejected: 2 }, events: { rows: 8, rejected: 2 } });
    expect(bad.stderr).toContain(`${join(dir, 'events.ndjson')}:4: invalid JSON`);
    expect(existsSync(pglite)).toBe(false);
    const good = await spawnScript('scripts/import.ts', ['--check', '--users', join(dir, 'users.csv')]).done;
    expect(good.code, good.stderr).toBe(0);
  });

  it('fails with the path of a missing file and a bad --on-error value', async () => {
    const missing = await spawnScript('scripts/import.ts', ['--events', join(dir, 'nope.csv'), '--pglite-dir', join(dir, 'pglite2')]).done;
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${join(dir, 'nope.csv')}: no such file`);
    const bad = await spawnScript('scripts/import.ts', ['--events', join(dir, 'events.ndjson'), '--on-error', 'maybe']).done;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--on-error must be skip or fail');
  });
});
