/**
 * DELETE /v1/users/:id (API key): erases the user everywhere (core/erasure/erase-user.ts): the erasure
 * marker first, then online features and the user's Redis session lists, precomputed slates in KV, and last
 * the events and profile row in Postgres. Idempotent; any part failing → 503 naming it, and a retry completes
 * the rest. `slates: "not-configured"` only when the origin was started without any slate KV.
 */
import type { Hono } from 'hono';
import { eraseUser, type ErasureStep } from '../../core/erasure/erase-user.ts';
import type { OriginDeps } from '../deps.ts';
import { requireApiKey } from '../http/api-key.ts';
import { PathIdSchema } from '../../shared/contracts/ids.ts';
import { problem, reasonsOf } from '../http/problems.ts';
import { eraseUserRows, markErased, sessionsOfUser } from '../../adapters/postgres/repository.ts';


const FAILED: Record<ErasureStep, string> = {
  marker: 'database unavailable, nothing erased yet',
  features: 'feature store unavailable: erasure recorded, online features not yet erased; retry',
  slates: 'slate store unavailable: erasure recorded and features erased, slates not yet; retry',
  events: 'database unavailable: features and slates erased, stored events not yet; retry',
};

export function registerUsers(app: Hono, deps: OriginDeps): void {
  const retry = { 'Retry-After': String(deps.config.RETRY_AFTER_SECONDS) };
  app.delete('/v1/users/:id', requireApiKey(deps.config.API_KEYS), async (c) => {
    const id = PathIdSchema.safeParse(c.req.param('id'));
    if (!id.success) return problem(c, 400, 'invalid user id', reasonsOf(id.error));
    const db = async () => deps.database.get();
    const result = await eraseUser(id.data, {
      markErased: async (userId) => markErased(await db(), userId),
      sessionsOf: async (userId) => sessionsOfUser(await db(), userId),
      featureStore: deps.featureStore,
      eraseSlates: deps.eraseSlates,
      eraseRows: async (userId) => eraseUserRows(await db(), userId),
    });
    if (!result.ok) return problem(c, 503, FAILED[result.failed], undefined, retry);
    return c.json({ userId: id.data, erasedEvents: result.events, sessions: result.sessions, features: 'erased', slates: result.slates });
  });
}
