/**
 * In-process feature store with the Redis adapter's semantics (capped lists, history rule, session TTL).
 * The embedded default when REDIS_URL is unset; not shared between processes.
 */
import { shouldAppend, USER_HISTORY_CAP } from '../../shared/features/history.ts';
import { SESSION_ITEMS_CAP, SESSION_TTL_SECONDS, type FeatureStore, type ItemStats, type RecordedInteraction, type SeededUser } from '../../core/ports/feature-store.ts';

interface Session {
  items: string[];
  expiresAt: number;
}

export class MemoryFeatureStore implements FeatureStore {
  private readonly sessions = new Map<string, Session>();
  private readonly histories = new Map<string, string[]>();
  private readonly purchases = new Map<string, Set<string>>();
  private readonly users = new Map<string, Record<string, string>>();
  private readonly stats = new Map<string, ItemStats>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  async record(event: RecordedInteraction): Promise<void> {
    const item = this.stats.get(event.itemId) ?? { impressions: 0, clicks: 0 };
    if (event.type === 'impression') item.impressions++;
    if (event.type === 'click') item.clicks++;
    this.stats.set(event.itemId, item);

    const session = this.liveSession(event.sessionId) ?? { items: [], expiresAt: 0 };
    if (shouldAppend(event.type, event.itemId, session.items.at(-1))) session.items = [...session.items, event.itemId].slice(-SESSION_ITEMS_CAP);
    session.expiresAt = this.now() + SESSION_TTL_SECONDS * 1000;
    this.sessions.set(event.sessionId, session);

    if (event.userId === undefined) return;
    const history = this.histories.get(event.userId) ?? [];
    if (shouldAppend(event.type, event.itemId, history.at(-1))) this.histories.set(event.userId, [...history, event.itemId].slice(-USER_HISTORY_CAP));
    if (event.type === 'purchase') this.purchases.set(event.userId, (this.purchases.get(event.userId) ?? new Set()).add(event.itemId));
  }

  async recordMany(events: readonly RecordedInteraction[]): Promise<void> {
    for (const event of events) await this.record(event);
  }

  async sessionItems(sessionId: string): Promise<string[]> {
    return [...(this.liveSession(sessionId)?.items ?? [])];
  }

  async userHistory(userId: string): Promise<string[]> {
    return [...(this.histories.get(userId) ?? [])];
  }

  async purchased(userId: string): Promise<string[]> {
    return [...(this.purchases.get(userId) ?? [])];
  }

  async userFeatures(userId: string): Promise<Record<string, string>> {
    return { ...(this.users.get(userId) ?? {}) };
  }

  async setUserFeatures(userId: string, fields: Record<string, string>): Promise<void> {
    this.users.set(userId, { ...(this.users.get(userId) ?? {}), ...fields });
  }

  async itemStats(itemIds: readonly string[]): Promise<Map<string, ItemStats>> {
    return new Map(itemIds.map((id) => [id, { ...(this.stats.get(id) ?? { impressions: 0, clicks: 0 }) }]));
  }

  async seedUsers(users: readonly SeededUser[]): Promise<void> {
    for (const user of users) {
      this.histories.set(user.userId, user.history.slice(-USER_HISTORY_CAP));
      this.purchases.set(user.userId, new Set(user.purchased));
      this.users.set(user.userId, { ...user.features });
    }
  }

  async eraseUser(userId: string, sessionIds: readonly string[] = []): Promise<void> {
    for (const id of sessionIds) this.sessions.delete(id);
    this.histories.delete(userId);
    this.purchases.delete(userId);
    this.users.delete(userId);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}

  private liveSession(sessionId: string): Session | undefined {
    const session = this.sessions.get(sessionId);
    if (session && session.expiresAt < this.now()) {
      this.sessions.delete(sessionId);
      return undefined;
    }
    return session;
  }
}
