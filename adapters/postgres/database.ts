/**
 * Opens the origin database: node-postgres when DATABASE_URL is set, else embedded PGlite (data dir or in
 * memory). Migrations run lazily on first use and are retried on the next use if Postgres was unreachable,
 * so the service starts (and answers 503 for writes) while the database is down, and recovers without a restart.
 */
import { join } from 'node:path';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { listenPostgres } from './listen.ts';
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
  /**
   * LISTEN on a channel: onNotify gets each NOTIFY payload. On Postgres a dedicated connection that reconnects
   * with backoff (and calls onNotify('') after a reconnect, since notifications sent meanwhile are lost); on
   * PGlite the embedded instance's own listener. Resolves to an unsubscribe function; never rejects.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** PGlite only: COPY … FROM '/dev/blob' with `data` as the input (the bulk import's fast path there). */
  copyFromBlob?: (copySql: string, data: string) => Promise<void>;
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
  const listen = (channel: string, onNotify: (payload: string) => void) => Promise.resolve(listenPostgres(url, channel, onNotify));
  return handle('postgres', db as unknown as Db, () => migrate(db, { migrationsFolder: MIGRATIONS_FOLDER }), () => pool.query('select 1'), listen, () => pool.end());
}

async function openPglite(dataDir: string | undefined): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const client = dataDir ? new PGlite(dataDir) : new PGlite();
  const db = drizzle({ client, schema });
  const listen = async (channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> => {
    try {
      const unsubscribe = await client.listen(channel, onNotify);
      return () => unsubscribe().catch(() => undefined);
    } catch {
      return async () => undefined; // the poll still refreshes
    }
  };
  const pglite = handle('pglite', db as unknown as Db, () => migrate(db, { migrationsFolder: MIGRATIONS_FOLDER }), () => client.query('select 1'), listen, () => client.close());
  pglite.copyFromBlob = async (copySql, data) => {
    await client.query(copySql, [], { blob: new Blob([data]) });
  };
  return pglite;
}

/** The handle both drivers share: migrations run lazily (retried after a failure), ping never throws. */
function handle(kind: DatabaseHandle['kind'], db: Db, migrate: () => Promise<unknown>, probe: () => Promise<unknown>, listen: DatabaseHandle['listen'], close: () => Promise<void>): DatabaseHandle {
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
    listen,
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
