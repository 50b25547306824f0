/**
 * Rebuilds users' feature-store state (history, purchases, segment) from the events stored in the database,
 * with the origin's one history rule and cap (shared/features/history.ts). An import calls it for the users
 * its file touched, after their events are stored: the history then follows event time, whatever the file's
 * order, and re-running the import (or repairing after a crash between the two stores) gives the same state.
 * The origin's in-process store (no REDIS_URL) is filled the same way at start.
 */
import type { EventType } from '../../shared/catalog/types.ts';
import { shouldAppend, USER_HISTORY_CAP } from '../../shared/features/history.ts';
import type { FeatureStore, SeededUser } from '../../core/ports/feature-store.ts';
import type { DatabaseHandle } from '../../adapters/postgres/database.ts';
import { eventsOfUsers, segmentsOf, usersWithEventsPage } from '../../adapters/postgres/import-repository.ts';

/** Users per database read and feature-store pipeline. */
const PAGE = 500;

/** One user's state from their events, oldest first: the shared history rule, capped; purchases; segment. */
export function seededUserOf(userId: string, events: readonly { itemId: string; type: string }[], segment: string | undefined): SeededUser {
  const history: string[] = [];
  const purchased = new Set<string>();
  for (const event of events) {
    const type = event.type as EventType;
    if (shouldAppend(type, event.itemId, history.at(-1))) history.push(event.itemId);
    if (type === 'purchase') purchased.add(event.itemId);
  }
  return { userId, history: history.slice(-USER_HISTORY_CAP), purchased: [...purchased], features: segment ? { segment } : {} };
}

async function rebuildPage(database: DatabaseHandle, store: FeatureStore, userIds: readonly string[]): Promise<number> {
  const db = await database.get();
  const [events, segments] = await Promise.all([eventsOfUsers(db, userIds), segmentsOf(db, userIds)]);
  const byUser = new Map<string, { itemId: string; type: string }[]>(userIds.map((id) => [id, []]));
  for (const event of events) byUser.get(event.userId)?.push(event);
  await store.seedUsers([...byUser].map(([id, list]) => seededUserOf(id, list, segments.get(id))));
  return userIds.length;
}

/** Rebuilds the given users; returns how many. */
export async function rebuildHistories(database: DatabaseHandle, store: FeatureStore, userIds: Iterable<string>, onUsers: (n: number) => void = () => undefined): Promise<number> {
  let page: string[] = [];
  let total = 0;
  for (const id of userIds) {
    page.push(id);
    if (page.length === PAGE) {
      total += await rebuildPage(database, store, page);
      onUsers(page.length);
      page = [];
    }
  }
  if (page.length > 0) {
    total += await rebuildPage(database, store, page);
    onUsers(page.length);
  }
  return total;
}

/** Every user with stored events (keyset pages): the in-process store's fill at origin start. */
export async function rebuildAllHistories(database: DatabaseHandle, store: FeatureStore): Promise<number> {
  let after = '';
  let total = 0;
  for (;;) {
    const ids = await usersWithEventsPage(await database.get(), after, PAGE);
    if (ids.length === 0) return total;
    total += await rebuildPage(database, store, ids);
    after = ids.at(-1) ?? after;
  }
}
