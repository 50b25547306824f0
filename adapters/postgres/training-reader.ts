/**
 * Reads what training needs from the event store (Postgres or PGlite, the same tables the origin writes):
 * the catalogue, user segments and the interactions since a time, in time order. Events without a user
 * (anonymous sessions) are kept under their session id, so sessions still teach the session reranker;
 * erased users' events are already deleted by eraseUserRows. Read in keyset pages so a large table is not
 * one giant result set.
 */
import { and, asc, gt, gte, lt, or, eq } from 'drizzle-orm';
import type { EventType, Interaction, Item, User } from '../../shared/catalog/types.ts';
import { EVENT_TYPES } from '../../shared/catalog/types.ts';
import type { Db } from './database.ts';
import { events, items, users } from './schema.ts';

export interface TrainingRows {
  items: Item[];
  users: User[];
  /** Sorted by ts ascending (ties by event id). */
  interactions: Interaction[];
}

const PAGE = 50_000;
const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** Catalogue, users and the events with sinceMs <= ts < untilMs (epoch ms). */
export async function readTrainingRows(db: Db, sinceMs: number, untilMs = Number.MAX_SAFE_INTEGER): Promise<TrainingRows> {
  const catalog = await db.select().from(items).orderBy(asc(items.id));
  const people = await db.select({ id: users.id, segment: users.segment }).from(users).orderBy(asc(users.id));
  const interactions: Interaction[] = [];
  let after: { ts: number; eventId: string } | undefined;
  for (;;) {
    const page = await db
      .select({ eventId: events.eventId, type: events.type, itemId: events.itemId, userId: events.userId, sessionId: events.sessionId, ts: events.ts })
      .from(events)
      .where(and(gte(events.ts, sinceMs), lt(events.ts, untilMs), after === undefined ? undefined : or(gt(events.ts, after.ts), and(eq(events.ts, after.ts), gt(events.eventId, after.eventId)))))
      .orderBy(asc(events.ts), asc(events.eventId))
      .limit(PAGE);
    for (const row of page) {
      if (!KNOWN_TYPES.has(row.type)) continue;
      interactions.push({ eventId: row.eventId, type: row.type as EventType, itemId: row.itemId, userId: row.userId ?? `session:${row.sessionId}`, sessionId: row.sessionId, ts: row.ts });
    }
    const last = page.at(-1);
    if (!last || page.length < PAGE) break;
    after = { ts: last.ts, eventId: last.eventId };
  }
  return { items: catalog, users: people, interactions };
}
