/**
 * Redis feature store (ioredis). Layout under an optional key prefix:
 *   sess:<id>   list of item ids, newest last, LTRIM-capped, TTL refreshed on write
 *   hist:<uid>  list of item ids, newest last, capped
 *   buy:<uid>   set of purchased item ids
 *   user:<uid>  hash of user features
 *   istat:<id>  hash {impressions, clicks}
 * The "immediate repeat collapses" rule is applied atomically by a small Lua script (same rule as
 * shared/features/history.ts), so concurrent ingestion cannot double-append.
 * Commands fail fast when Redis is down (no offline queue), so callers can degrade instead of hanging.
 */
import { Redis } from 'ioredis';
import { entersHistory, USER_HISTORY_CAP } from '../../shared/features/history.ts';
import { SESSION_ITEMS_CAP, SESSION_TTL_SECONDS, type FeatureStore, type ItemStats, type RecordedInteraction, type SeededUser } from '../../core/ports/feature-store.ts';

const APPEND_UNLESS_LAST = `
local last = redis.call('LINDEX', KEYS[1], -1)
if last ~= ARGV[1] then
  redis.call('RPUSH', KEYS[1], ARGV[1])
  redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
end
if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return 1`;

type PipelineWithAppend = ReturnType<Redis['pipeline']> & { appendUnlessLast(key: string, itemId: string, cap: number, ttl: number): unknown };
type AppendCommand = (key: string, itemId: string, cap: number, ttl: number) => Promise<number>;

export class RedisFeatureStore implements FeatureStore {
  private readonly redis: Redis;
  private readonly append: AppendCommand;
  /** Settles once the first connection attempt is over (ready or given up), so early commands don't fail spuriously. */
  private readonly firstConnect: Promise<void>;

  constructor(url: string, options: { keyPrefix?: string; commandTimeoutMs?: number } = {}) {
    this.redis = new Redis(url, {
      keyPrefix: options.keyPrefix ?? '',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 200,
      connectTimeout: 1000,
      retryStrategy: (attempt) => Math.min(1000, 50 * attempt),
      lazyConnect: false,
    });
    this.redis.on('error', () => undefined); // surfaced per command; reconnects in the background
    this.firstConnect = new Promise((resolve) => {
      const timer = setTimeout(resolve, 1500);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.redis.defineCommand('appendUnlessLast', { numberOfKeys: 1, lua: APPEND_UNLESS_LAST });
    const client = this.redis as unknown as { appendUnlessLast: (k: string, i: string, c: number, t: number) => Promise<number> };
    this.append = (key, itemId, cap, ttl) => client.appendUnlessLast(key, itemId, cap, ttl);
  }

  async record(event: RecordedInteraction): Promise<void> {
    await this.firstConnect;
    const work: Promise<unknown>[] = [];
    if (event.type === 'impression') work.push(this.redis.hincrby(`istat:${event.itemId}`, 'impressions', 1));
    if (event.type === 'click') work.push(this.redis.hincrby(`istat:${event.itemId}`, 'clicks', 1));
    if (entersHistory(event.type)) {
      work.push(this.append(`sess:${event.sessionId}`, event.itemId, SESSION_ITEMS_CAP, SESSION_TTL_SECONDS));
      if (event.userId !== undefined) work.push(this.append(`hist:${event.userId}`, event.itemId, USER_HISTORY_CAP, 0));
    }
    if (event.type === 'purchase' && event.userId !== undefined) work.push(this.redis.sadd(`buy:${event.userId}`, event.itemId));
    await Promise.all(work);
  }

  async recordMany(events: readonly RecordedInteraction[]): Promise<void> {
    await this.firstConnect;
    // One pipeline for the whole batch: Redis runs pipelined commands in order, so the repeat rule per list
    // holds exactly as with one call per event, at one round trip per batch instead of several per event.
    const pipeline = this.redis.pipeline() as unknown as PipelineWithAppend;
    for (const event of events) {
      if (event.type === 'impression') pipeline.hincrby(`istat:${event.itemId}`, 'impressions', 1);
      if (event.type === 'click') pipeline.hincrby(`istat:${event.itemId}`, 'clicks', 1);
      if (entersHistory(event.type)) {
        pipeline.appendUnlessLast(`sess:${event.sessionId}`, event.itemId, SESSION_ITEMS_CAP, SESSION_TTL_SECONDS);
        if (event.userId !== undefined) pipeline.appendUnlessLast(`hist:${event.userId}`, event.itemId, USER_HISTORY_CAP, 0);
      }
      if (event.type === 'purchase' && event.userId !== undefined) pipeline.sadd(`buy:${event.userId}`, event.itemId);
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  }

  async sessionItems(sessionId: string): Promise<string[]> {
    await this.firstConnect;
    return this.redis.lrange(`sess:${sessionId}`, 0, -1);
  }

  async userHistory(userId: string): Promise<string[]> {
    await this.firstConnect;
    return this.redis.lrange(`hist:${userId}`, 0, -1);
  }

  async purchased(userId: string): Promise<string[]> {
    await this.firstConnect;
    return this.redis.smembers(`buy:${userId}`);
  }

  async userFeatures(userId: string): Promise<Record<string, string>> {
    await this.firstConnect;
    return this.redis.hgetall(`user:${userId}`);
  }

  async setUserFeatures(userId: string, fields: Record<string, string>): Promise<void> {
    await this.firstConnect;
    if (Object.keys(fields).length > 0) await this.redis.hset(`user:${userId}`, fields);
  }

  async itemStats(itemIds: readonly string[]): Promise<Map<string, ItemStats>> {
    await this.firstConnect;
    const pipeline = this.redis.pipeline();
    for (const id of itemIds) pipeline.hmget(`istat:${id}`, 'impressions', 'clicks');
    const results = (await pipeline.exec()) ?? [];
    return new Map(itemIds.map((id, i) => {
      const [error, value] = results[i] ?? [null, [null, null]];
      if (error) throw error;
      const [impressions, clicks] = (value as (string | null)[]) ?? [];
      return [id, { impressions: Number(impressions ?? 0), clicks: Number(clicks ?? 0) }];
    }));
  }

  async seedUsers(users: readonly SeededUser[]): Promise<void> {
    await this.firstConnect;
    const perPipeline = 500; // bounded pipelines keep memory and command timeouts predictable
    for (let i = 0; i < users.length; i += perPipeline) {
      const pipeline = this.redis.multi();
      for (const user of users.slice(i, i + perPipeline)) {
        pipeline.del(`hist:${user.userId}`, `buy:${user.userId}`, `user:${user.userId}`);
        const history = user.history.slice(-USER_HISTORY_CAP);
        if (history.length > 0) pipeline.rpush(`hist:${user.userId}`, ...history);
        if (user.purchased.length > 0) pipeline.sadd(`buy:${user.userId}`, ...user.purchased);
        if (Object.keys(user.features).length > 0) pipeline.hset(`user:${user.userId}`, user.features);
      }
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error);
      if (failed?.[0]) throw failed[0];
    }
  }

  async eraseUser(userId: string, sessionIds: readonly string[] = []): Promise<void> {
    await this.firstConnect;
    await this.redis.del(`hist:${userId}`, `buy:${userId}`, `user:${userId}`, ...sessionIds.map((id) => `sess:${id}`));
  }

  async ping(): Promise<boolean> {
    await this.firstConnect;
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
