/**
 * Fixtures for the origin tests: a private Postgres database per test file, and the real service (real
 * pipeline on the committed demo models, real stores) listening on a random port.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig, type OriginConfig } from '../../origin/config.ts';
import { buildOriginService, type OriginService } from '../../origin/wiring.ts';
import type { Dataset } from '../../shared/catalog/types.ts';
import { openDatabase } from '../../adapters/postgres/database.ts';
import { insertCatalog, insertEvents } from '../../adapters/postgres/repository.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const API_KEY = 'test-key-0123456789abcdef';

/** Creates `t_<random>` on the Postgres server of DATABASE_URL; returns its URL and a drop function. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface RunningOrigin {
  url: string;
  service: OriginService;
  config: OriginConfig;
  close(): Promise<void>;
}

export async function startOrigin(env: Record<string, string | undefined>): Promise<RunningOrigin> {
  const config = loadConfig({ API_KEYS: API_KEY, MODEL_POLL_MS: '0', SEED_HISTORIES: 'false', ...env });
  const service = await buildOriginService(config);
  const server = serve({ fetch: service.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    service,
    config,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await service.close();
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

export function uniqueId(prefix: string): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

/** Removes a test's keys from the shared Redis (SCAN, never KEYS). */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Stores a data set's catalogue, users and events in a database (migrations run on open), as a shop's history. */
export async function seedDatabase(databaseUrl: string, dataset: Pick<Dataset, 'items' | 'users' | 'interactions'>): Promise<void> {
  const handle = await openDatabase({ databaseUrl });
  try {
    const db = await handle.get();
    await insertCatalog(db, dataset.items, dataset.users);
    for (let i = 0; i < dataset.interactions.length; i += 500) {
      await insertEvents(db, dataset.interactions.slice(i, i + 500).map((e) => ({ eventId: e.eventId, type: e.type, itemId: e.itemId, userId: e.userId, sessionId: e.sessionId, ts: e.ts })));
    }
  } finally {
    await handle.close();
  }
}
