/**
 * `npm run bench:import [-- --events 1000000 --users 20000 --items 10000 --format ndjson|csv --target postgres|pglite]`
 * Bulk-import throughput: writes a synthetic event log (and its catalogue) to a temp folder, imports it with
 * runImport into a fresh Postgres database (COPY path; --target pglite: an embedded PGlite folder) and a private
 * Redis prefix (feature-store rebuild included), and prints one JSON line: events, seconds, events/s, peak RSS.
 * The goal is 1M events in under 60 s. Everything it creates (files, database, Redis keys) is removed afterwards.
 * Services: DATABASE_URL (admin database of the server; default postgres://postgres@127.0.0.1:5432/test), REDIS_URL.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createRng } from '../../shared/util/rng.ts';
import { runImport } from '../../batch/import/import.ts';
import { openImportTargets } from '../../batch/import/open-targets.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '20000' },
    items: { type: 'string', default: '10000' },
    format: { type: 'string', default: 'ndjson' },
    target: { type: 'string', default: 'postgres' },
  },
});
const count = (name: 'events' | 'users' | 'items'): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
};
const [events, users, items] = [count('events'), count('users'), count('items')];
const format = values.format === 'csv' ? 'csv' : 'ndjson';
const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(path);
  for (const line of lines) if (!out.write(line)) await once(out, 'drain');
  await new Promise<void>((resolve) => out.end(resolve));
}

/** Users view items (skewed popularity), some add to cart and buy; time moves forward ~20 s per event. */
function* eventLines(): Generator<string> {
  const rng = createRng(7);
  const types = ['view', 'view', 'view', 'view', 'view', 'view', 'impression', 'click', 'add_to_cart', 'purchase'] as const;
  const start = Date.UTC(2025, 0, 1);
  if (format === 'csv') yield 'userId,itemId,type,ts,value\n';
  let chunk = '';
  for (let i = 0; i < events; i++) {
    const user = `u${Math.floor(rng.next() * users)}`;
    const item = `i${Math.floor(rng.next() ** 2 * items)}`;
    const type = types[Math.floor(rng.next() * types.length)] ?? 'view';
    const ts = start + i * 20_000;
    chunk += format === 'csv' ? `${user},${item},${type},${ts},${type === 'purchase' ? '19.99' : ''}\n` : `${JSON.stringify({ userId: user, itemId: item, type, ts, ...(type === 'purchase' ? { value: 19.99 } : {}) })}\n`;
    if (chunk.length > 1 << 16) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

function* itemLines(): Generator<string> {
  for (let i = 0; i < items; i++) yield `${JSON.stringify({ id: `i${i}`, title: `Item ${i}`, category: `c${i % 40}`, brand: `b${i % 200}`, price: 5 + (i % 100) })}\n`;
}

const dir = await mkdtemp(join(tmpdir(), 'bench-import-'));
const dbName = `bench_import_${randomBytes(4).toString('hex')}`;
const prefix = `bench-import-${randomBytes(4).toString('hex')}:`;
const admin = new pg.Client({ connectionString: adminUrl });
let created = false;
try {
  const eventsFile = join(dir, `events.${format}`);
  await writeLines(join(dir, 'items.ndjson'), itemLines());
  await writeLines(eventsFile, eventLines());
  let databaseUrl: string | undefined;
  if (values.target === 'postgres') {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    created = true;
    const url = new URL(adminUrl);
    url.pathname = `/${dbName}`;
    databaseUrl = url.toString();
  }
  const targets = await openImportTargets({ databaseUrl, pgliteDir: join(dir, 'pglite'), redisUrl, redisKeyPrefix: prefix });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  const started = performance.now();
  const summary = await runImport({ items: join(dir, 'items.ndjson'), events: eventsFile, onError: 'fail', database: targets.database, eventWriter: targets.eventWriter, featureStore: targets.featureStore });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await targets.close();
  console.log(JSON.stringify({
    bench: 'import',
    target: values.target === 'postgres' ? 'postgres (COPY)' : 'pglite',
    format,
    events,
    fileMb: Math.round((await stat(eventsFile)).size / 1e5) / 10,
    inserted: summary.events?.inserted,
    usersRebuilt: summary.featureStore === 'skipped' ? 0 : summary.featureStore.users,
    seconds: Math.round(seconds * 10) / 10,
    eventsSeconds: summary.events?.seconds,
    featureStoreSeconds: summary.featureStore === 'skipped' ? 0 : summary.featureStore.seconds,
    eventsPerSecond: Math.round(events / seconds),
    peakRssMb: Math.round(peakRss / 1e6),
    goal: '1M events < 60 s',
  }));
} finally {
  if (created) await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
  await admin.end().catch(() => undefined);
  const redis = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  await rm(dir, { recursive: true, force: true });
}
