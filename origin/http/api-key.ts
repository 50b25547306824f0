/**
 * API key check for the operator endpoints (export, erase): `Authorization: Bearer <key>` or `X-API-Key`.
 * Missing → 401, unknown → 403. Keys are compared as SHA-256 digests in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { problem } from './problems.ts';

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

export function presentedKey(header: (name: string) => string | undefined): string | undefined {
  const bearer = header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
  return bearer ?? header('x-api-key') ?? undefined;
}

/** True when the request presents one of `keys` (constant-time digest comparison). */
export function hasApiKey(keys: readonly string[], header: (name: string) => string | undefined): boolean {
  const key = presentedKey(header);
  if (key === undefined) return false;
  const presented = digest(key);
  let match = false;
  for (const known of keys) if (timingSafeEqual(digest(known), presented)) match = true;
  return match;
}

export function requireApiKey(keys: readonly string[]): MiddlewareHandler {
  const known = keys.map(digest);
  return async (c, next) => {
    const key = presentedKey((name) => c.req.header(name));
    if (key === undefined) return problem(c, 401, 'API key required (Authorization: Bearer <key> or X-API-Key)', undefined, { 'WWW-Authenticate': 'Bearer' });
    const presented = digest(key);
    if (!known.some((k) => timingSafeEqual(k, presented))) return problem(c, 403, 'API key not accepted');
    await next();
  };
}
