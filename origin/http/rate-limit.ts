/** Rate-limit middleware: one token bucket per API key (when presented) or client IP; 429 with Retry-After. */
import { createHash } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { OriginMetrics } from '../metrics.ts';
import { presentedKey } from './api-key.ts';
import { problem } from './problems.ts';
import type { RateLimiter } from '../../core/ports/rate-limiter.ts';

export function clientIp(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // not served by @hono/node-server (app.request in scripts)
  }
}

export function rateLimit(limiter: RateLimiter, metrics: OriginMetrics, trustProxy: boolean): MiddlewareHandler {
  return async (c, next) => {
    const key = presentedKey((name) => c.req.header(name));
    // Hash keys so raw secrets never sit in the limiter's map (or in Redis when it is shared).
    const bucket = key !== undefined ? `key:${createHash('sha256').update(key).digest('hex').slice(0, 32)}` : `ip:${clientIp(c, trustProxy)}`;
    const decision = await limiter.take(bucket);
    if (!decision.allowed) {
      metrics.rateLimited.inc({ kind: key !== undefined ? 'api-key' : 'ip' });
      return problem(c, 429, 'rate limit exceeded', undefined, { 'Retry-After': String(decision.retryAfterSeconds) });
    }
    await next();
  };
}
