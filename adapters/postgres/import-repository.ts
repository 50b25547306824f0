/**
 * Bulk writes of `npm run import` and the catalogue API, on Postgres and PGlite alike (drizzle):
 * catalogue and user upserts (replace by id, the earliest createdAt kept), event inserts idempotent on event
 * id (ON CONFLICT DO NOTHING), and the per-user event reads the feature-store rebuild streams through.
 * The COPY fast path for a Postgres server is in ./copy-events.ts.
 */
import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Item, User } from '../../shared/catalog/types.ts';
import type { Db } from './database.ts';
import { events, items, users } from './schema.ts';

/** An event as the import stores it (the origin's own columns — surface, position, … — stay null). */
export interface ImportedEvent {
  eventId: string;
  type: string;
  itemId: string;
  userId: string;
  sessionId: string;
  ts: number;
  value: number | null;
}

export interface EventBatchResult {
  /** Rows written now (the rest were stored before, or repeated within the batch). */
  inserted: number;
  /** Inserted impressions and clicks per item (the feature store's item counters take exactly these). */
  counters: { itemId: string; type: 'impression' | 'click'; n: number }[];
}

/** Writes batches of imported events; `close` frees what the writer holds. */
export interface EventWriter {
  write(batch: readonly ImportedEvent[]): Promise<EventBatchResult>;
  close(): Promise<void>;
}

/** Rows per statement: far below Postgres' 65 535 bind parameters at 7 columns. */
const EVENT_CHUNK = 5000;
const ITEM_CHUNK = 2000;

export function countersOf(rows: readonly { itemId: string; type: string }[]): EventBatchResult['counters'] {
  const byKey = new Map<string, EventBatchResult['counters'][number]>();
  for (const row of rows) {
    if (row.type !== 'impression' && row.type !== 'click') continue;
    const key = `${row.type}\u0000${row.itemId}`;
    const entry = byKey.get(key);
    if (entry) entry.n++;
    else byKey.set(key, { itemId: row.itemId, type: row.type, n: 1 });
  }
  return [...byKey.values()];
}

/** Multi-row INSERT … ON CONFLICT DO NOTHING RETURNING: the path for PGlite (and any Db). */
export function drizzleEventWriter(db: Db): EventWriter {
  return {
    async write(batch) {
      let inserted = 0;
      const written: { itemId: string; type: string }[] = [];
      for (let i = 0; i < batch.length; i += EVENT_CHUNK) {
        const rows = await db.insert(events).values(batch.slice(i, i + EVENT_CHUNK)).onConflictDoNothing({ target: events.eventId }).returning({ itemId: events.itemId, type: events.type });
        inserted += rows.length;
        for (const row of rows) if (row.type === 'impression' || row.type === 'click') written.push(row);
      }
      return { inserted, counters: countersOf(written) };
    },
    async close() {},
  };
}

/** Last row wins for a repeated id (ON CONFLICT DO UPDATE may not touch one row twice in a statement). */
function lastById<T extends { id: string }>(rows: readonly T[]): T[] {
  return [...new Map(rows.map((row) => [row.id, row])).values()];
}

/** Inserts or replaces items by id; a stored createdAt that is earlier is kept. Returns the rows written. */
export async function upsertItems(db: Db, batch: readonly Item[]): Promise<number> {
  const unique = lastById(batch);
  for (let i = 0; i < unique.length; i += ITEM_CHUNK) {
    await db
      .insert(items)
      .values(unique.slice(i, i + ITEM_CHUNK))
      .onConflictDoUpdate({
        target: items.id,
        set: {
          title: sql`excluded.title`,
          category: sql`excluded.category`,
          brand: sql`excluded.brand`,
          price: sql`excluded.price`,
          stock: sql`excluded.stock`,
          image: sql`excluded.image`,
          createdAt: sql`least(${items.createdAt}, excluded.created_at)`,
          updatedAt: sql`now()`,
        },
      });
  }
  return unique.length;
}

export async function upsertUsers(db: Db, batch: readonly User[]): Promise<number> {
  const unique = lastById(batch);
  for (let i = 0; i < unique.length; i += ITEM_CHUNK) {
    await db.insert(users).values(unique.slice(i, i + ITEM_CHUNK)).onConflictDoUpdate({ target: users.id, set: { segment: sql`excluded.segment` } });
  }
  return unique.length;
}

/** Retires an item (stock 0: never recommended, still in histories). False when the id is unknown. */
export async function retireItem(db: Db, id: string): Promise<boolean> {
  const rows = await db.update(items).set({ stock: 0, updatedAt: sql`now()` }).where(eq(items.id, id)).returning({ id: items.id });
  return rows.length > 0;
}

/** Every item id (the import counts events about items the catalogue does not hold). */
export async function allItemIds(db: Db): Promise<string[]> {
  const rows = await db.select({ id: items.id }).from(items);
  return rows.map((r) => r.id);
}

export async function itemsByIds(db: Db, ids: readonly string[]): Promise<Item[]> {
  if (ids.length === 0) return [];
  return db.select().from(items).where(inArray(items.id, [...ids]));
}

/**
 * Items written after `since` (updated_at), with the database's clock just before the read (`readAt`, the same
 * clock that stamps updated_at): the origin's catalogue refresh.
 */
export async function itemsChangedSince(db: Db, since: Date | undefined): Promise<{ items: Item[]; readAt: Date }> {
  const clock = (await db.execute(sql`select now() as now`)) as unknown as { rows: { now: Date | string }[] };
  const readAt = new Date(clock.rows[0]!.now);
  const rows = await db.select().from(items).where(since ? gt(items.updatedAt, since) : undefined);
  return { items: rows, readAt };
}

/** The events of some users, each user's in time order (ts, then event id): what a history is rebuilt from. */
export async function eventsOfUsers(db: Db, userIds: readonly string[]): Promise<{ userId: string; itemId: string; type: string }[]> {
  if (userIds.length === 0) return [];
  const rows = await db
    .select({ userId: events.userId, itemId: events.itemId, type: events.type })
    .from(events)
    .where(and(inArray(events.userId, [...userIds])))
    .orderBy(asc(events.userId), asc(events.ts), asc(events.eventId));
  return rows.map((r) => ({ userId: r.userId ?? '', itemId: r.itemId, type: r.type }));
}

export async function segmentsOf(db: Db, userIds: readonly string[]): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const rows = await db.select({ id: users.id, segment: users.segment }).from(users).where(inArray(users.id, [...userIds]));
  return new Map(rows.map((r) => [r.id, r.segment]));
}

/** User ids with events after `afterId` (keyset pages): the in-process store's rebuild at origin start walks these. */
export async function usersWithEventsPage(db: Db, afterId: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectDistinct({ userId: events.userId })
    .from(events)
    .where(sql`${events.userId} is not null and ${events.userId} > ${afterId}`)
    .orderBy(asc(events.userId))
    .limit(limit);
  return rows.map((r) => r.userId ?? '').filter((id) => id !== '');
}
