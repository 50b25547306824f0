/** The rate-limiter port the origin's HTTP layer takes: one token per request, per client key. */
export interface Decision {
  allowed: boolean;
  /** Seconds until a token is available (0 when allowed). */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  take(key: string): Promise<Decision>;
}
