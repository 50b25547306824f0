/**
 * One way to open a Redis connection for serving: fail fast (no offline queue, one retry, a short command
 * timeout) and reconnect in the background, so callers degrade instead of hanging while Redis is down.
 */
import { Redis } from 'ioredis';

export interface RedisConnectOptions {
  commandTimeoutMs?: number;
  /** ioredis key prefix (prepended to every key); the rate limiter adds its own inside the library instead. */
  keyPrefix?: string;
}

export function connectRedis(url: string, options: RedisConnectOptions = {}): Redis {
  const redis = new Redis(url, {
    keyPrefix: options.keyPrefix ?? '',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 200,
    connectTimeout: 1000,
    retryStrategy: (attempt) => Math.min(1000, 50 * attempt),
  });
  redis.on('error', () => undefined); // surfaced per command; reconnects in the background
  return redis;
}
