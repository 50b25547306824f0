/**
 * Operator routes, behind ADMIN_API_KEY (`Authorization: Bearer <key>`; no key configured → 403):
 *   GET    /v1/admin/dead-letters[?limit=&cursor=]   list (id + why it failed + event count)
 *   GET    /v1/admin/dead-letters/:id                the stored batch and the origin's answer
 *   POST   /v1/admin/dead-letters/:id/replay         re-enqueue it onto EVENTS, then delete it
 *   POST   /v1/admin/dead-letters/replay             replay a page of them (?limit=, default 100)
 *   DELETE /v1/admin/dead-letters/:id                discard it
 */
import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { secretsEqual } from '../../../shared/auth/constant-time.ts';
import { configFrom, type Env } from '../env.ts';
import { discardDeadLetter, listDeadLetters, readDeadLetter, replayDeadLetter } from '../dead-letters.ts';
import { reasonsOf } from '../http.ts';

const requireAdmin: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const key = configFrom(c.env).adminApiKey;
  if (!key) return c.json({ error: 'forbidden', reasons: ['operator routes are disabled: set the ADMIN_API_KEY secret'] }, 403);
  const presented = c.req.header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (presented === undefined) return c.json({ error: 'unauthorized', reasons: ['Authorization: Bearer <ADMIN_API_KEY> required'] }, 401, { 'www-authenticate': 'Bearer' });
  if (!(await secretsEqual(presented, key))) return c.json({ error: 'forbidden', reasons: ['key not accepted'] }, 403);
  await next();
};

const ListQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), cursor: z.string().max(1024).optional() }).strict();
const IdSchema = z.string().min(1).max(200).regex(/^[\w.-]+$/);

export function registerAdmin(app: Hono<{ Bindings: Env }>): void {
  app.use('/v1/admin/*', requireAdmin);
  app.get('/v1/admin/dead-letters', async (c) => {
    const query = ListQuerySchema.safeParse(c.req.query());
    if (!query.success) return c.json({ error: 'bad_request', reasons: reasonsOf(query.error) }, 400);
    return c.json(await listDeadLetters(c.env.DEAD_LETTERS, query.data.limit, query.data.cursor));
  });
  app.post('/v1/admin/dead-letters/replay', async (c) => {
    const query = ListQuerySchema.safeParse(c.req.query());
    if (!query.success) return c.json({ error: 'bad_request', reasons: reasonsOf(query.error) }, 400);
    const page = await listDeadLetters(c.env.DEAD_LETTERS, query.data.limit, query.data.cursor);
    const results = [];
    for (const item of page.items) results.push(await replayDeadLetter(c.env.DEAD_LETTERS, c.env.EVENTS, item.id));
    return c.json({ results, cursor: page.cursor });
  });
  app.get('/v1/admin/dead-letters/:id', async (c) => {
    const id = IdSchema.safeParse(c.req.param('id'));
    const record = id.success ? await readDeadLetter(c.env.DEAD_LETTERS, id.data) : null;
    return record ? c.json(record) : c.json({ error: 'not_found', reasons: ['no such dead letter'] }, 404);
  });
  app.post('/v1/admin/dead-letters/:id/replay', async (c) => {
    const id = IdSchema.safeParse(c.req.param('id'));
    if (!id.success) return c.json({ error: 'not_found', reasons: ['no such dead letter'] }, 404);
    const result = await replayDeadLetter(c.env.DEAD_LETTERS, c.env.EVENTS, id.data);
    return c.json(result, result.replayed ? 200 : result.reason === 'no such dead letter' ? 404 : 422);
  });
  app.delete('/v1/admin/dead-letters/:id', async (c) => {
    const id = IdSchema.safeParse(c.req.param('id'));
    const removed = id.success && (await discardDeadLetter(c.env.DEAD_LETTERS, id.data));
    return removed ? c.json({ id: c.req.param('id'), discarded: true }) : c.json({ error: 'not_found', reasons: ['no such dead letter'] }, 404);
  });
}
