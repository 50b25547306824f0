/**
 * DELETE /v1/users/:id (API key): erases the user's events and profile row in Postgres, their online
 * features, and (when a KV writer is wired) their precomputed slates, and records the erasure so exports
 * and the nightly omit them. Idempotent; any part failing → 503, and a retry completes the rest.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import type { OriginDeps } from '../deps.ts';
import { requireApiKey } from '../http/api-key.ts';
import { problem, reasonsOf } from '../http/problems.ts';
import { eraseUserRows } from '../../adapters/postgres/repository.ts';

const UserIdSchema = z.string().min(1).max(64).regex(/^[\w.:@-]+$/, 'ids may only contain letters, digits and _ . : @ -');

export function registerUsers(app: Hono, deps: OriginDeps): void {
  const retry = { 'Retry-After': String(deps.config.RETRY_AFTER_SECONDS) };
  app.delete('/v1/users/:id', requireApiKey(deps.config.API_KEYS), async (c) => {
    const id = UserIdSchema.safeParse(c.req.param('id'));
    if (!id.success) return problem(c, 400, 'invalid user id', reasonsOf(id.error));
    let erased;
    try {
      erased = await eraseUserRows(await deps.database.get(), id.data);
    } catch {
      return problem(c, 503, 'database unavailable, nothing erased yet', undefined, retry);
    }
    try {
      await deps.featureStore.eraseUser(id.data);
    } catch {
      return problem(c, 503, 'feature store unavailable: events erased, online features not yet; retry', undefined, retry);
    }
    let slates: 'erased' | 'not-configured' = 'not-configured';
    if (deps.eraseSlates) {
      try {
        await deps.eraseSlates(id.data);
        slates = 'erased';
      } catch {
        return problem(c, 503, 'slate store unavailable: events and features erased, slates not yet; retry', undefined, retry);
      }
    }
    return c.json({ userId: id.data, erasedEvents: erased.events, features: 'erased', slates });
  });
}
