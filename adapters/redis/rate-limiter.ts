/**
 * Token bucket in Redis, so every origin replica shares one budget per client. One Lua call per request
 * (atomic refill + take). When Redis fails, the in-process limiter decides instead: an outage of the
 * limiter's store neither blocks all traffic nor lifts limits entirely.
 */
import { Redis } from 'ioredis';
import { InProcessRateLimiter } from '../memory/rate-limiter.ts';
import type { Decision, RateLimiter } from '../../core/ports/rate-limiter.ts';

// KEYS[1] bucket hash; ARGV: rate/s, burst, now ms. Returns {allowed 0|1, retry-after seconds}.
const TAKE = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) / 1000 * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.max(1, math.ceil((1 - tokens) / rate))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, retry}`;

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly fallback: InProcessRateLimiter;
  private readonly ratePerSecond: number;
  private readonly burst: number;
  /** Settles once the first connection attempt is over, so the first requests don't all go to the fallback. */
  private readonly firstConnect: Promise<void>;

  constructor(url: string, options: { ratePerSecond: number; burst: number; keyPrefix?: string; commandTimeoutMs?: number }) {
    this.ratePerSecond = options.ratePerSecond;
    this.burst = options.burst;
    this.fallback = new InProcessRateLimiter(options);
    this.redis = new Redis(url, { keyPrefix: `${options.keyPrefix ?? ''}rl:`, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: options.commandTimeoutMs ?? 200, connectTimeout: 1000, retryStrategy: (n) => Math.min(1000, 50 * n) });
    this.redis.on('error', () => undefined);
    this.firstConnect = new Promise((resolve) => {
      const timer = setTimeout(resolve, 1500);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async take(key: string): Promise<Decision> {
    await this.firstConnect;
    try {
      const [allowed, retry] = (await this.redis.eval(TAKE, 1, key, this.ratePerSecond, this.burst, Date.now())) as [number, number];
      return { allowed: allowed === 1, retryAfterSeconds: retry };
    } catch {
      return this.fallback.take(key);
    }
  }

  close(): void {
    this.redis.disconnect();
  }
}
