/**
 * Chooses where the nightly's users and catalogue come from (`--users auto|store|generator`):
 * - store: the origin's Postgres (DATABASE_URL) — active users from its events, segments from its users
 *   table, histories from the feature store (REDIS_URL, same key prefix as the origin) when it knows the user,
 *   else rebuilt from the events (adapters/postgres/user-source.ts); the catalogue from its items table.
 * - generator: the built-in demo shop (batch/nightly/inputs.ts); erasures still come from Postgres when set.
 * - auto (default): store when a database is configured and it holds at least one active user, else generator.
 */
import type { Item } from '../../shared/catalog/types.ts';
import type { UserSource } from '../../core/ports/user-source.ts';
import { openDatabase } from '../../adapters/postgres/database.ts';
import { loadItems } from '../../adapters/postgres/repository.ts';
import { PostgresUserSource } from '../../adapters/postgres/user-source.ts';
import { RedisFeatureStore } from '../../adapters/redis/feature-store.ts';
import { demoInputs, generatorUserSource } from './inputs.ts';

export type UsersFrom = 'auto' | 'store' | 'generator';

export interface SourceSettings {
  usersFrom: UsersFrom;
  databaseUrl?: string | undefined;
  /** An embedded PGlite folder instead of a server (npm start -- --dataset …); only when no databaseUrl. */
  pgliteDir?: string | undefined;
  redisUrl?: string | undefined;
  redisKeyPrefix?: string | undefined;
  maxUsers?: number | undefined;
}

export interface NightlySources {
  source: UserSource;
  items: Item[];
  /** The generator's segment list; undefined for the store (the distinct segments of its active users). */
  segments: string[] | undefined;
}

export async function openNightlySources(settings: SourceSettings): Promise<NightlySources> {
  if (settings.usersFrom === 'store' && !settings.databaseUrl && !settings.pgliteDir) throw new Error('--users store needs the origin database: set DATABASE_URL or --database-url (or --pglite-dir)');
  const demo = () => demoInputs({}, settings.maxUsers);
  if (!settings.databaseUrl && !settings.pgliteDir) {
    const d = demo();
    return { source: generatorUserSource(d.users), items: d.items, segments: d.dataset.segments };
  }
  const database = await openDatabase(settings.databaseUrl ? { databaseUrl: settings.databaseUrl } : { pgliteDir: settings.pgliteDir });
  const db = await database.get();
  const featureStore = settings.redisUrl ? new RedisFeatureStore(settings.redisUrl, { keyPrefix: settings.redisKeyPrefix, commandTimeoutMs: 2000 }) : undefined;
  const close = async (): Promise<void> => {
    await featureStore?.close();
    await database.close();
  };
  const store = new PostgresUserSource(db, { featureStore, close });
  const useStore = settings.usersFrom === 'store' || (settings.usersFrom === 'auto' && (await store.activeUserIds()).length > 0);
  if (useStore) {
    const items = await loadItems(db);
    if (items.length === 0) throw new Error('the origin database has active users but no items: import the catalogue first');
    const limited: UserSource = settings.maxUsers === undefined ? store : { kind: 'store', activeUsers: async () => (await store.activeUsers()).slice(0, settings.maxUsers), erasedAmong: (ids) => store.erasedAmong(ids), close };
    return { source: limited, items, segments: undefined };
  }
  const d = demo();
  // The generator's users, but the origin's erasures still apply (at start and at write time).
  const source = generatorUserSource(d.users, (ids) => store.erasedAmong(ids));
  return { source: { ...source, close }, items: d.items, segments: d.dataset.segments };
}
