/**
 * Rate-limit middleware: 429 with Retry-After once a client's budget is spent. Only authenticated identities get
 * their own bucket: a request whose API key is one of API_KEYS is limited per key (hashed, so raw secrets never
 * sit in the limiter's store); every other request — no key, or a key that is not accepted — shares the bucket of
 * its client address, so inventing keys cannot buy more requests.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
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

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

/** The bucket of a request: `key:<digest>` for an accepted API key, otherwise `ip:<address>`. */
export function bucketOf(known: readonly Buffer[], key: string | undefined, ip: () => string): { bucket: string; kind: 'api-key' | 'ip' } {
  if (key !== undefined) {
    const presented = digest(key);
    let accepted = false;
    for (const k of known) if (timingSafeEqual(k, presented)) accepted = true;
    if (accepted) return { bucket: `key:${presented.toString('hex').slice(0, 32)}`, kind: 'api-key' };
  }
  return { bucket: `ip:${ip()}`, kind: 'ip' };
}

export function rateLimit(limiter: RateLimiter, metrics: OriginMetrics, options: { trustProxy: boolean; apiKeys: readonly string[] }): MiddlewareHandler {
  const known = options.apiKeys.map(digest);
  return async (c, next) => {
    const { bucket, kind } = bucketOf(known, presentedKey((name) => c.req.header(name)), () => clientIp(c, options.trustProxy));
    const decision = await limiter.take(bucket);
    if (!decision.allowed) {
      metrics.rateLimited.inc({ kind });
      return problem(c, 429, 'rate limit exceeded', undefined, { 'Retry-After': String(decision.retryAfterSeconds) });
    }
    await next();
  };
}
