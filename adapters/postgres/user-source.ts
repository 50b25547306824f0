/**
 * UserSource over the origin's stores: active users are those with a positive interaction in Postgres'
 * events table and no row in user_deletions; each user's segment comes from the users table. Histories and
 * purchases are what the origin itself reads (the feature store's capped lists) when a feature store is given
 * and it holds the user; otherwise (no store, user not in it, store down) they are rebuilt from the user's
 * events with the same rule and cap (core/users/fold-history.ts). Erasure is read from user_deletions, which
 * DELETE /v1/users/:id fills in the same transaction that removes the events.
 */
import { and, asc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { EventType } from '../../shared/catalog/types.ts';
import type { FeatureStore } from '../../core/ports/feature-store.ts';
import type { NightlyUser, UserSource } from '../../core/ports/user-source.ts';
import { foldHistory } from '../../core/users/fold-history.ts';
import { USER_HISTORY_CAP } from '../../shared/features/history.ts';
import type { Db } from './database.ts';
import { erasedUsers } from './repository.ts';
import { events, userDeletions, users } from './schema.ts';

const HISTORY_TYPES: EventType[] = ['view', 'add_to_cart', 'purchase'];
const PAGE = 1000;

export interface PostgresUserSourceOptions {
  /** The origin's feature store: histories/purchases come from it when it knows the user. */
  featureStore?: FeatureStore | undefined;
  close?: (() => Promise<void>) | undefined;
}

export class PostgresUserSource implements UserSource {
  readonly kind = 'store' as const;
  private readonly db: Db;
  private readonly options: PostgresUserSourceOptions;

  constructor(db: Db, options: PostgresUserSourceOptions = {}) {
    this.db = db;
    this.options = options;
  }

  /** Ids of users with at least one positive interaction who are not erased, in code-unit id order (as JS sorts). */
  async activeUserIds(): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ id: events.userId })
      .from(events)
      .leftJoin(userDeletions, eq(userDeletions.userId, events.userId))
      .where(and(isNotNull(events.userId), inArray(events.type, HISTORY_TYPES), isNull(userDeletions.userId)));
    return rows.flatMap((r) => (r.id === null ? [] : [r.id])).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async activeUsers(): Promise<NightlyUser[]> {
    const ids = await this.activeUserIds();
    const out: NightlyUser[] = [];
    for (let i = 0; i < ids.length; i += PAGE) out.push(...(await this.page(ids.slice(i, i + PAGE))));
    return out;
  }

  private async page(ids: string[]): Promise<NightlyUser[]> {
    const segmentRows = await this.db.select({ id: users.id, segment: users.segment }).from(users).where(inArray(users.id, ids));
    const segments = new Map(segmentRows.map((r) => [r.id, r.segment]));
    const rows = await this.db
      .select({ userId: events.userId, type: events.type, itemId: events.itemId })
      .from(events)
      .where(and(inArray(events.userId, ids), inArray(events.type, HISTORY_TYPES)))
      // Same order as the feature store received them: by time, ties by event id (the generator's order too).
      .orderBy(sql`${events.userId} collate "C"`, asc(events.ts), sql`${events.eventId} collate "C"`);
    const byUser = new Map<string, { type: EventType; itemId: string }[]>();
    for (const row of rows) {
      if (row.userId === null) continue;
      const list = byUser.get(row.userId) ?? [];
      list.push({ type: row.type as EventType, itemId: row.itemId });
      byUser.set(row.userId, list);
    }
    const fromStore = await Promise.all(ids.map((id) => this.fromFeatureStore(id)));
    const out: NightlyUser[] = [];
    for (const [i, id] of ids.entries()) {
      const folded = foldHistory(byUser.get(id) ?? []);
      const stored = fromStore[i];
      const history = stored && stored.history.length > 0 ? stored.history.slice(-USER_HISTORY_CAP) : folded.history;
      const purchased = stored && stored.history.length > 0 ? stored.purchased : folded.purchased;
      if (history.length === 0) continue;
      out.push({ id, segment: segments.get(id) ?? stored?.segment ?? '', history, purchased });
    }
    return out;
  }

  private async fromFeatureStore(id: string): Promise<{ history: string[]; purchased: string[]; segment: string | undefined } | undefined> {
    const store = this.options.featureStore;
    if (!store) return undefined;
    try {
      const [history, purchased, features] = await Promise.all([store.userHistory(id), store.purchased(id), store.userFeatures(id)]);
      return { history, purchased, segment: features.segment };
    } catch {
      return undefined; // store down: the events in Postgres are the fallback
    }
  }

  async erasedAmong(ids: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    // Chunks keep the IN list far below Postgres' bind-parameter limit (the start-up check asks for every user).
    for (let i = 0; i < ids.length; i += 5000) for (const id of await erasedUsers(this.db, ids.slice(i, i + 5000))) out.add(id);
    return out;
  }

  async close(): Promise<void> {
    await this.options.close?.();
  }
}
