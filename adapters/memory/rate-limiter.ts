/**
 * Rate limiting per client key with rate-limiter-flexible, in process (RateLimiterMemory): one process's budget.
 * The Redis limiter (adapters/redis/rate-limiter.ts) shares one budget across processes and uses this one as its
 * insurance when Redis fails. Also the one place that maps the origin's settings (sustained requests per second
 * and burst) onto the library's fixed window, and the library's answers onto the port's Decision.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Decision, RateLimiter } from '../../core/ports/rate-limiter.ts';

export interface LimitSettings {
  /** Sustained requests per second per client. */
  ratePerSecond: number;
  /** Requests a client may send at once. */
  burst: number;
}

/**
 * BURST requests per window of BURST / RATE seconds (whole seconds, at least 1): the same long-run rate as a
 * token bucket with that rate and burst, and the same burst at the start of a window.
 */
export function windowOf(settings: LimitSettings): { points: number; duration: number } {
  return { points: settings.burst, duration: Math.max(1, Math.round(settings.burst / settings.ratePerSecond)) };
}

/** Anything with rate-limiter-flexible's consume(): resolves when allowed, rejects with RateLimiterRes when not. */
export interface Consumer {
  consume(key: string, points?: number): Promise<RateLimiterRes>;
}

/** One point for `key`; a refusal becomes a Decision, any other failure (store down, no insurance) is thrown. */
export async function decide(limiter: Consumer, key: string): Promise<Decision> {
  try {
    await limiter.consume(key, 1);
    return { allowed: true, retryAfterSeconds: 0 };
  } catch (error) {
    if (error instanceof RateLimiterRes) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) };
    throw error;
  }
}

export function memoryLimiter(settings: LimitSettings, keyPrefix = 'rl'): RateLimiterMemory {
  return new RateLimiterMemory({ ...windowOf(settings), keyPrefix });
}

/** In-process budget (expired windows are dropped by the library, so a flood of addresses cannot grow memory). */
export class InProcessRateLimiter implements RateLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(settings: LimitSettings) {
    this.limiter = memoryLimiter(settings);
  }

  take(key: string): Promise<Decision> {
    return decide(this.limiter, key);
  }
}
