/**
 * Opens the origin database: node-postgres when DATABASE_URL is set, else embedded PGlite (data dir or in
 * memory). Migrations run lazily on first use and are retried on the next use if Postgres was unreachable,
 * so the service starts (and answers 503 for writes) while the database is down, and recovers without a restart.
 */
import { join } from 'node:path';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export const MIGRATIONS_FOLDER = join(import.meta.dirname, 'migrations');

export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`database unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

export interface DatabaseHandle {
  /** Migrated database; rejects with DatabaseUnavailableError when it cannot be reached. */
  get(): Promise<Db>;
  kind: 'postgres' | 'pglite';
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  pgliteDir?: string | undefined;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openPglite(options.pgliteDir);
}

async function openPostgres(url: string): Promise<DatabaseHandle> {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  // Short timeouts: a write path waiting on a dead database should fail fast and tell the client to retry.
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10_000, query_timeout: 10_000 });
  pool.on('error', () => undefined); // idle client errors (server restart) are surfaced on the next query
  const db = drizzle({ client: pool, schema });
  return handle('postgres', db as unknown as Db, () => migrate(db, { migrationsFolder: MIGRATIONS_FOLDER }), () => pool.query('select 1'), () => pool.end());
}

async function openPglite(dataDir: string | undefined): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const client = dataDir ? new PGlite(dataDir) : new PGlite();
  const db = drizzle({ client, schema });
  return handle('pglite', db as unknown as Db, () => migrate(db, { migrationsFolder: MIGRATIONS_FOLDER }), () => client.query('select 1'), () => client.close());
}

/** The handle both drivers share: migrations run lazily (retried after a failure), ping never throws. */
function handle(kind: DatabaseHandle['kind'], db: Db, migrate: () => Promise<unknown>, probe: () => Promise<unknown>, close: () => Promise<void>): DatabaseHandle {
  const migrated = lazyOnce(async () => {
    await migrate();
  });
  return {
    kind,
    async get() {
      try {
        await migrated();
      } catch (error) {
        throw new DatabaseUnavailableError(error);
      }
      return db;
    },
    async ping() {
      try {
        await probe();
        return true;
      } catch {
        return false;
      }
    },
    close,
  };
}

/** Runs `task` once successfully; a failure is not cached, so the next caller tries again. */
function lazyOnce(task: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => {
    pending ??= task().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
