/**
 * Token-bucket rate limiting per client key (API key or IP), in process: one replica's budget (the Redis
 * limiter, adapters/redis/rate-limiter.ts, shares one across replicas and falls back to this one). Pure
 * logic with an injected clock; a bounded map of buckets (idle ones are swept) so a flood of IPs cannot grow memory.
 */
import type { Decision, RateLimiter } from '../../core/ports/rate-limiter.ts';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class InProcessRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly ratePerSecond: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(options: { ratePerSecond: number; burst: number; now?: () => number; maxKeys?: number }) {
    this.ratePerSecond = options.ratePerSecond;
    this.burst = options.burst;
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  async take(key: string): Promise<Decision> {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSecond);
    bucket.updatedAt = now;
    if (!this.buckets.has(key) && this.buckets.size >= this.maxKeys) this.sweep(now);
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond)) };
  }

  /** Drops buckets that have refilled completely (they are equivalent to a fresh bucket). */
  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(key);
    }
    if (this.buckets.size >= this.maxKeys) this.buckets.clear();
  }
}
