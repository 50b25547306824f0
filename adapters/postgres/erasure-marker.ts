/**
 * The erasure marker (core/erasure/marker.ts) over Postgres' `user_deletions` table, which
 * DELETE /v1/users/:id writes in the same transaction that deletes the user's events. `openErasureMarker`
 * is for jobs outside the origin (the nightly): one small indexed query per call, so it can be asked before
 * every batch of writes.
 */
import type { ErasureMarker } from '../../core/erasure/marker.ts';
import { openDatabase, type DatabaseHandle } from './database.ts';
import { erasedUsers } from './repository.ts';

/** Ids per query: keeps the IN list far below Postgres' bind-parameter limit. */
const CHUNK = 5000;

export function postgresErasureMarker(database: DatabaseHandle): ErasureMarker {
  return {
    async erased(userIds) {
      const db = await database.get();
      const out = new Set<string>();
      for (let i = 0; i < userIds.length; i += CHUNK) for (const id of await erasedUsers(db, userIds.slice(i, i + CHUNK))) out.add(id);
      return out;
    },
  };
}

/** A marker with its own connection (close it when done). */
export async function openErasureMarker(databaseUrl: string): Promise<ErasureMarker & { close(): Promise<void> }> {
  const database = await openDatabase({ databaseUrl });
  return { ...postgresErasureMarker(database), close: () => database.close() };
}
