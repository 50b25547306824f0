/**
 * Rate limiting in Redis with rate-limiter-flexible's RateLimiterRedis, so every origin process and replica shares
 * one budget per client (one atomic Lua call per request, one key per client: safe on Redis Cluster too). When
 * Redis fails or is not connected, the library's insurance limiter (in process, same window) decides instead: an
 * outage of the limiter's store neither blocks all traffic nor lifts limits entirely.
 */
import type { Cluster, Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { decide, memoryLimiter, windowOf, type LimitSettings } from '../memory/rate-limiter.ts';
import type { Decision, RateLimiter } from '../../core/ports/rate-limiter.ts';

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis | Cluster;
  private readonly limiter: RateLimiterRedis;
  /** Settles once the first connection attempt is over, so the first requests don't all go to the insurance. */
  private readonly firstConnect: Promise<void>;

  /**
   * `redis` is owned by the limiter (closed by close()); it should fail fast: no offline queue, a short command
   * timeout. `keyPrefix` is the limiter's own prefix inside Redis.
   */
  constructor(redis: Redis | Cluster, settings: LimitSettings & { keyPrefix?: string }) {
    this.redis = redis;
    this.redis.on('error', () => undefined);
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      ...windowOf(settings),
      keyPrefix: `${settings.keyPrefix ?? ''}rl`,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memoryLimiter(settings, `${settings.keyPrefix ?? ''}rl-insurance`),
    });
    this.firstConnect = redis.status === 'ready' ? Promise.resolve() : new Promise((resolve) => {
      const timer = setTimeout(resolve, 1500);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async take(key: string): Promise<Decision> {
    await this.firstConnect;
    return decide(this.limiter, key);
  }

  close(): void {
    this.redis.disconnect();
  }
}
