/**
 * Users erased through the origin (DELETE /v1/users/:id → user_deletions in Postgres) must not get a slate.
 * Read from the origin's database when one is configured; the embedded PGlite of `npm start` is held open by
 * the origin process, so without DATABASE_URL there is no erasure list to read (the demo has no erasures at
 * the time its nightly runs).
 */
import { openDatabase } from '../../adapters/postgres/database.ts';
import { allErasedUsers } from '../../adapters/postgres/repository.ts';

export async function erasedUserIds(databaseUrl: string | undefined): Promise<Set<string>> {
  if (!databaseUrl) return new Set();
  const database = await openDatabase({ databaseUrl });
  try {
    return await allErasedUsers(await database.get());
  } finally {
    await database.close();
  }
}
