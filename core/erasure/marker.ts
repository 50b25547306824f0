/**
 * The erasure marker: which of these users were erased (DELETE /v1/users/:id). Anything that writes
 * per-user data after the erasure may have happened — the nightly before each batch of KV writes, the event
 * ingestion before storing a user's events — asks the marker at write time, not once at start, so a concurrent
 * job cannot bring an erased user back. Backed by the Postgres `user_deletions` table
 * (adapters/postgres/erasure-marker.ts); the origin records the erasure there before erasing anything else.
 */
export interface ErasureMarker {
  /** The subset of `userIds` that were erased (empty set when none; rejects when the store is unreachable). */
  erased(userIds: readonly string[]): Promise<Set<string>>;
}

/** Keeps the items whose user was not erased; items without a user always stay. One marker read per call. */
export async function withoutErased<T>(marker: ErasureMarker, items: readonly T[], userOf: (item: T) => string | undefined): Promise<T[]> {
  const ids = [...new Set(items.map(userOf).filter((id): id is string => id !== undefined))];
  if (ids.length === 0) return [...items];
  const erased = await marker.erased(ids);
  if (erased.size === 0) return [...items];
  return items.filter((item) => {
    const id = userOf(item);
    return id === undefined || !erased.has(id);
  });
}
