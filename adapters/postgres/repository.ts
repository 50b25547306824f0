/**
 * The origin's queries, one function per use: event ingestion (idempotent on event id), catalogue and user
 * reads, experiment definitions, and user erasure. Each takes a migrated Db so it runs on Postgres and PGlite alike.
 */
import { and, asc, count, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { Item, User } from '../../shared/catalog/types.ts';
import type { RecoEvent } from '../../shared/contracts/events.ts';
import type { ZodType } from 'zod';
import type { Db } from './database.ts';
import { events, experiments, items, userDeletions, users } from './schema.ts';

export interface StoredEvent extends RecoEvent {
  ts: number;
}

export interface InsertResult {
  /** Events written now, in request order (the feature store applies exactly these). */
  inserted: StoredEvent[];
  duplicates: number;
}

/**
 * INSERT … ON CONFLICT (event_id) DO NOTHING: a repeated id (in this batch or stored earlier) is counted, not
 * written. With `featuresPending` (the origin's ingestion) rows enter the feature outbox: features_pending = true
 * until featuresApplied clears it. Other writers (imports, tests) build the feature store themselves.
 */
export async function insertEvents(db: Db, batch: readonly StoredEvent[], options: { featuresPending?: boolean } = {}): Promise<InsertResult> {
  const unique = [...new Map(batch.map((e) => [e.eventId, e])).values()];
  if (unique.length === 0) return { inserted: [], duplicates: 0 };
  const rows = await db
    .insert(events)
    .values(unique.map((e) => ({ eventId: e.eventId, type: e.type, itemId: e.itemId, userId: e.userId ?? null, sessionId: e.sessionId, ts: e.ts, surface: e.surface ?? null, position: e.position ?? null, slateVersion: e.slateVersion ?? null, modelVersion: e.modelVersion ?? null, variant: e.variant ?? null, value: e.value ?? null, featuresPending: options.featuresPending ?? false })))
    .onConflictDoNothing({ target: events.eventId })
    .returning({ eventId: events.eventId });
  const written = new Set(rows.map((r) => r.eventId));
  return { inserted: unique.filter((e) => written.has(e.eventId)), duplicates: batch.length - written.size };
}

export async function countItems(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(items);
  return row?.n ?? 0;
}

export async function insertCatalog(db: Db, catalog: readonly Item[], people: readonly User[]): Promise<void> {
  const chunk = 1000; // keeps each statement far below Postgres' 65 535 bind-parameter limit
  await db.transaction(async (tx) => {
    for (let i = 0; i < catalog.length; i += chunk) await tx.insert(items).values(catalog.slice(i, i + chunk)).onConflictDoNothing();
    for (let i = 0; i < people.length; i += chunk) await tx.insert(users).values(people.slice(i, i + chunk)).onConflictDoNothing();
  });
}

export async function loadItems(db: Db): Promise<Item[]> {
  return db.select().from(items).orderBy(asc(items.id));
}

/** Users after `afterId` (keyset pagination), skipping erased users. */
export async function usersPage(db: Db, afterId: string, limit: number): Promise<User[]> {
  return db
    .select({ id: users.id, segment: users.segment })
    .from(users)
    .leftJoin(userDeletions, eq(userDeletions.userId, users.id))
    .where(and(gt(users.id, afterId), isNull(userDeletions.userId)))
    .orderBy(asc(users.id))
    .limit(limit);
}

export async function userSegment(db: Db, userId: string): Promise<string | undefined> {
  const [row] = await db.select({ segment: users.segment }).from(users).where(eq(users.id, userId));
  return row?.segment;
}

/**
 * Stored experiment definitions that pass `schema` (the origin's ExperimentSchema), each with its status
 * (only `running` ones split traffic); invalid rows are reported and skipped, never served.
 */
export async function loadExperiments<T>(db: Db, schema: ZodType<T>, onInvalid: (id: string, reason: string) => void = () => undefined): Promise<{ definition: T; status: string }[]> {
  const rows = await db.select().from(experiments).orderBy(asc(experiments.id));
  const valid: { definition: T; status: string }[] = [];
  for (const row of rows) {
    const parsed = schema.safeParse(row.definition);
    if (parsed.success) valid.push({ definition: parsed.data, status: row.status });
    else onInvalid(row.id, parsed.error.issues.map((i) => i.message).join('; '));
  }
  return valid;
}

/** Writes a definition (running), replacing one with the same id; tests and seeding use it, operators use the API. */
export async function saveExperiment(db: Db, experiment: { id: string }, now = Date.now()): Promise<void> {
  await db.insert(experiments).values({ id: experiment.id, definition: experiment, status: 'running', startedAt: now }).onConflictDoUpdate({ target: experiments.id, set: { definition: experiment, updatedAt: new Date() } });
}

/**
 * Records the erasure first (the marker every later writer checks: core/erasure/marker.ts), before anything is
 * deleted, so a write racing with the erasure either lands before it (and is deleted below) or sees the marker.
 */
export async function markErased(db: Db, userId: string): Promise<void> {
  await db.insert(userDeletions).values({ userId }).onConflictDoNothing();
}

/** The sessions the user's stored events name (their Redis session lists hold the user's browsing too). */
export async function sessionsOfUser(db: Db, userId: string): Promise<string[]> {
  const rows = await db.selectDistinct({ id: events.sessionId }).from(events).where(eq(events.userId, userId));
  return rows.map((r) => r.id);
}

/** Deletes events by id (an ingestion that found its user erased after writing removes its own rows). */
export async function deleteEvents(db: Db, eventIds: readonly string[]): Promise<number> {
  if (eventIds.length === 0) return 0;
  return (await db.delete(events).where(inArray(events.eventId, [...eventIds])).returning({ id: events.eventId })).length;
}

/** Deletes the user's events and profile row and records the erasure (the nightly/export omit the user). */
export async function eraseUserRows(db: Db, userId: string): Promise<{ events: number }> {
  return db.transaction(async (tx) => {
    const deleted = await tx.delete(events).where(eq(events.userId, userId)).returning({ id: events.eventId });
    await tx.delete(users).where(eq(users.id, userId));
    await tx.insert(userDeletions).values({ userId }).onConflictDoNothing();
    return { events: deleted.length };
  });
}

export async function erasedUsers(db: Db, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.select({ id: userDeletions.userId }).from(userDeletions).where(inArray(userDeletions.userId, [...ids]));
  return new Set(rows.map((r) => r.id));
}

export async function eventsOfUser(db: Db, userId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(events).where(eq(events.userId, userId));
  return row?.n ?? 0;
}

/** Every erased user id: the nightly job drops these before computing slates (open with openDatabase(DATABASE_URL)). */
export async function allErasedUsers(db: Db): Promise<Set<string>> {
  const rows = await db.select({ id: userDeletions.userId }).from(userDeletions);
  return new Set(rows.map((r) => r.id));
}

/** The feature outbox: these events are in the online feature store now. */
export async function featuresApplied(db: Db, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await db.update(events).set({ featuresPending: false }).where(inArray(events.eventId, [...eventIds]));
}

/** An event the feature store has not applied yet (the outbox drainer's unit of work). */
export interface PendingFeatureEvent {
  eventId: string;
  type: string;
  itemId: string;
  userId: string | null;
  sessionId: string;
  ts: number;
}

/**
 * Takes up to `limit` pending events, oldest first, locked for this transaction (SKIP LOCKED: replicas drain
 * different rows), hands them to `apply`, and clears them when it resolves; a rejection leaves them pending.
 * `apply` may delete rows of its batch through the transaction it is given (late erasures). Returns how many.
 * Only rows received more than `graceMs` ago (database clock) are taken: a younger pending row is still being
 * applied by the request that stored it, and taking it too would apply it twice (duplicate session items).
 */
export async function drainPendingFeatures(db: Db, limit: number, apply: (rows: PendingFeatureEvent[], tx: Db) => Promise<void>, graceMs = 0): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .select({ eventId: events.eventId, type: events.type, itemId: events.itemId, userId: events.userId, sessionId: events.sessionId, ts: events.ts })
      .from(events)
      .where(and(eq(events.featuresPending, true), sql`${events.receivedAt} < now() - (${graceMs} * interval '1 millisecond')`))
      .orderBy(asc(events.ts))
      .limit(limit)
      .for('update', { skipLocked: true });
    if (rows.length === 0) return 0;
    await apply(rows, tx as unknown as Db);
    await tx.update(events).set({ featuresPending: false }).where(inArray(events.eventId, rows.map((r) => r.eventId)));
    return rows.length;
  });
}
