/**
 * Redis feature store (ioredis). Layout under an optional key prefix:
 *   sess:<id>   list of item ids, newest last, LTRIM-capped, TTL refreshed on write
 *   hist:<uid>  list of item ids, newest last, capped
 *   buy:<uid>   set of purchased item ids
 *   user:<uid>  hash of user features
 *   istat:<id>  hash {impressions, clicks}
 * On a Redis Cluster (`REDIS_URL=redis+cluster://…`) a user's keys carry a hash tag — hist:{<uid>}, buy:{<uid>},
 * user:{<uid>} — so they share one slot and an erasure stays one DEL; batches are split per node (batch.ts). The
 * single-node layout is unchanged (no tags), so existing data stays readable.
 * The "immediate repeat collapses" rule is applied atomically by a small Lua script (same rule as
 * shared/features/history.ts), so concurrent ingestion cannot double-append.
 * Commands fail fast when Redis is down (no offline queue), so callers can degrade instead of hanging.
 */
import { execBatch, type Command } from './batch.ts';
import { connectRedis, firstConnect, type RedisClient } from './connect.ts';
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

type AppendCommand = (key: string, itemId: string, cap: number, ttl: number) => Promise<number>;

export class RedisFeatureStore implements FeatureStore {
  private readonly redis: RedisClient;
  private readonly append: AppendCommand;
  private readonly keyPrefix: string;
  /** hist/buy/user key of a user: hash-tagged on a cluster so one user's keys share a slot. */
  private readonly userKey: (kind: 'hist' | 'buy' | 'user', userId: string) => string;
  /** Settles once the first connection attempt is over (ready or given up), so early commands don't fail spuriously. */
  private readonly firstConnect: Promise<void>;

  constructor(url: string, options: { keyPrefix?: string; commandTimeoutMs?: number } = {}) {
    this.keyPrefix = options.keyPrefix ?? '';
    this.redis = connectRedis(url, { keyPrefix: this.keyPrefix, commandTimeoutMs: options.commandTimeoutMs });
    this.userKey = this.redis.isCluster ? (kind, userId) => `${kind}:{${userId}}` : (kind, userId) => `${kind}:${userId}`;
    this.firstConnect = firstConnect(this.redis);
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
      if (event.userId !== undefined) work.push(this.append(this.userKey('hist', event.userId), event.itemId, USER_HISTORY_CAP, 0));
    }
    if (event.type === 'purchase' && event.userId !== undefined) work.push(this.redis.sadd(this.userKey('buy', event.userId), event.itemId));
    await Promise.all(work);
  }

  async recordMany(events: readonly RecordedInteraction[]): Promise<void> {
    await this.firstConnect;
    // One pipeline for the whole batch: Redis runs pipelined commands in order, so the repeat rule per list
    // holds exactly as with one call per event, at one round trip per batch instead of several per event.
    const commands: Command[] = [];
    for (const event of events) {
      if (event.type === 'impression') commands.push(['hincrby', `istat:${event.itemId}`, 'impressions', 1]);
      if (event.type === 'click') commands.push(['hincrby', `istat:${event.itemId}`, 'clicks', 1]);
      if (entersHistory(event.type)) {
        commands.push(['appendUnlessLast', `sess:${event.sessionId}`, event.itemId, SESSION_ITEMS_CAP, SESSION_TTL_SECONDS]);
        if (event.userId !== undefined) commands.push(['appendUnlessLast', this.userKey('hist', event.userId), event.itemId, USER_HISTORY_CAP, 0]);
      }
      if (event.type === 'purchase' && event.userId !== undefined) commands.push(['sadd', this.userKey('buy', event.userId), event.itemId]);
    }
    await execBatch(this.redis, commands, { keyPrefix: this.keyPrefix });
  }

  async sessionItems(sessionId: string): Promise<string[]> {
    await this.firstConnect;
    return this.redis.lrange(`sess:${sessionId}`, 0, -1);
  }

  async userHistory(userId: string): Promise<string[]> {
    await this.firstConnect;
    return this.redis.lrange(this.userKey('hist', userId), 0, -1);
  }

  async purchased(userId: string): Promise<string[]> {
    await this.firstConnect;
    return this.redis.smembers(this.userKey('buy', userId));
  }

  async userFeatures(userId: string): Promise<Record<string, string>> {
    await this.firstConnect;
    return this.redis.hgetall(this.userKey('user', userId));
  }

  async setUserFeatures(userId: string, fields: Record<string, string>): Promise<void> {
    await this.firstConnect;
    if (Object.keys(fields).length > 0) await this.redis.hset(this.userKey('user', userId), fields);
  }

  async itemStats(itemIds: readonly string[]): Promise<Map<string, ItemStats>> {
    await this.firstConnect;
    const results = await execBatch(this.redis, itemIds.map((id): Command => ['hmget', `istat:${id}`, 'impressions', 'clicks']), { keyPrefix: this.keyPrefix });
    return new Map(itemIds.map((id, i) => {
      const [impressions, clicks] = (results[i] as (string | null)[] | undefined) ?? [];
      return [id, { impressions: Number(impressions ?? 0), clicks: Number(clicks ?? 0) }];
    }));
  }

  async seedUsers(users: readonly SeededUser[]): Promise<void> {
    await this.firstConnect;
    const perPipeline = 500; // bounded pipelines keep memory and command timeouts predictable
    for (let i = 0; i < users.length; i += perPipeline) {
      const commands: Command[] = [];
      for (const user of users.slice(i, i + perPipeline)) {
        const [hist, buy, features] = [this.userKey('hist', user.userId), this.userKey('buy', user.userId), this.userKey('user', user.userId)];
        commands.push(['del', hist, buy, features]);
        const history = user.history.slice(-USER_HISTORY_CAP);
        if (history.length > 0) commands.push(['rpush', hist, ...history]);
        if (user.purchased.length > 0) commands.push(['sadd', buy, ...user.purchased]);
        const fields = Object.entries(user.features).flat();
        if (fields.length > 0) commands.push(['hset', features, ...fields]);
      }
      // One MULTI per slot: a user's keys (one slot on a cluster) are replaced all at once.
      await execBatch(this.redis, commands, { transaction: true, keyPrefix: this.keyPrefix });
    }
  }

  async eraseUser(userId: string, sessionIds: readonly string[] = []): Promise<void> {
    await this.firstConnect;
    await this.redis.del(this.userKey('hist', userId), this.userKey('buy', userId), this.userKey('user', userId));
    // Session keys live in other cluster slots: one DEL each (a multi-key DEL must stay in one slot).
    await Promise.all(sessionIds.map((id) => this.redis.del(`sess:${id}`)));
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
