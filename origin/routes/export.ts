/**
 * GET /v1/export?source=live&modelVersion=&limit=: streams NDJSON slates for every (non-erased) user, computed through
 * pipeline.recommendBatch one page at a time, so memory stays flat for any number of users. One line per
 * user ({"type":"slate",…}) and a final {"type":"end","users":N} line, so a consumer can tell a complete
 * export from a cut connection. Deterministic: no exploration slots.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { MAX_K } from '../../shared/contracts/recommend.ts';
import type { OriginDeps } from '../deps.ts';
import { requireApiKey } from '../http/api-key.ts';
import { problem, reasonsOf } from '../http/problems.ts';
import type { PipelineRequest, PipelineResult } from '../../core/pipeline/types.ts';
import { buildPipelineRequest } from '../../core/request/build-request.ts';
import { usersPage } from '../../adapters/postgres/repository.ts';
import { exportWrittenSlates } from './export-slates.ts';
import type { User } from '../../shared/catalog/types.ts';

const ExportQuerySchema = z
  .object({
    modelVersion: z.string().min(1).max(64).regex(/^[A-Za-z0-9][\w-]*(\.[\w-]+)*$/, 'a version folder name').optional(),
    k: z.coerce.number().int().min(1).max(MAX_K).default(20),
    /** Stop after this many users (sampling, tests). */
    limit: z.coerce.number().int().min(1).max(10_000_000).optional(),
    surface: z.string().min(1).max(64).regex(/^[\w-]+$/).default('home'),
  })
  .strict();

const PAGE = 200;

export function registerExport(app: Hono, deps: OriginDeps): void {
  const now = deps.now ?? Date.now;
  app.get('/v1/export', requireApiKey(deps.config.API_KEYS), async (c) => {
    // The written slates (what the edge serves) when a slate KV is configured, unless ?source=live asks to recompute.
    const source = c.req.query('source') ?? (deps.slatesKv ? 'slates' : 'live');
    if (source === 'slates') {
      if (!deps.slatesKv) return problem(c, 400, 'invalid query', ['source: no slate KV is configured on this origin (SLATES_KV)']);
      return exportWrittenSlates(c, deps, deps.slatesKv);
    }
    if (source !== 'live') return problem(c, 400, 'invalid query', ['source: expected "slates" or "live"']);
    const { source: _source, ...rest } = c.req.query();
    const query = ExportQuerySchema.safeParse(rest);
    if (!query.success) return problem(c, 400, 'invalid query', reasonsOf(query.error));
    const { k, limit, surface, modelVersion } = query.data;
    let db;
    try {
      db = await deps.database.get();
    } catch {
      return problem(c, 503, 'database unavailable', undefined, { 'Retry-After': String(deps.config.RETRY_AFTER_SECONDS) });
    }
    const slatesOf = async (users: readonly User[]): Promise<PipelineResult[]> => {
      const requests: PipelineRequest[] = await Promise.all(users.map(async (user) => {
        const [history, purchased] = await Promise.all([deps.featureStore.userHistory(user.id).catch(() => []), deps.featureStore.purchased(user.id).catch(() => [])]);
        return buildPipelineRequest({ userId: user.id, segment: user.segment, history, purchased }, { surface, k, now: now(), explorationSlots: 0, settings: modelVersion ? { modelVersion } : undefined });
      }));
      return deps.pipeline.recommendBatch(requests);
    };

    // The first page is computed before answering, so an unknown model version is a 404, not a broken stream.
    let first: { users: User[]; results: PipelineResult[] };
    try {
      if (modelVersion !== undefined && modelVersion !== deps.pipeline.modelVersion) {
        if (!deps.pinModelVersion) throw new Error(`only the current version ${deps.pipeline.modelVersion} can be exported here`);
        await deps.pinModelVersion(modelVersion);
      }
      const users = await usersPage(db, '', Math.min(PAGE, limit ?? PAGE));
      first = { users, results: await slatesOf(users) };
      // The registry falls back to the current model for a version it lacks; an export must not relabel that.
      const served = first.results.find((r) => modelVersion !== undefined && r.modelVersion !== modelVersion);
      if (served) throw new Error(`version ${modelVersion} is not loaded (got ${served.modelVersion})`);
    } catch (error) {
      return problem(c, 404, 'cannot export this model version', [error instanceof Error ? error.message : String(error)]);
    }

    const encoder = new TextEncoder();
    let pending: { users: User[]; results: PipelineResult[] } | undefined = first;
    let lastId = '';
    let written = 0;
    let ended = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (ended) return;
        try {
          const page = pending ?? (await nextPage());
          pending = undefined;
          if (page.users.length === 0) {
            controller.enqueue(encoder.encode(`${JSON.stringify({ type: 'end', users: written })}\n`));
            ended = true;
            controller.close();
            return;
          }
          const lines = page.users.map((user, i) => {
            const result = page.results[i]!;
            return JSON.stringify({ type: 'slate', userId: user.id, segment: user.segment, modelVersion: result.modelVersion, source: result.source, degraded: result.degraded, items: result.items.map((it) => ({ id: it.id, score: it.score, reason: it.reason })) });
          });
          written += page.users.length;
          lastId = page.users.at(-1)!.id;
          controller.enqueue(encoder.encode(`${lines.join('\n')}\n`));
        } catch (error) {
          // No end line: the consumer sees an incomplete export rather than a silently short one.
          controller.error(error);
        }
      },
    });
    async function nextPage(): Promise<{ users: User[]; results: PipelineResult[] }> {
      const remaining = limit === undefined ? PAGE : Math.min(PAGE, limit - written);
      if (remaining <= 0) return { users: [], results: [] };
      const users = await usersPage(db!, lastId, remaining);
      return { users, results: users.length > 0 ? await slatesOf(users) : [] };
    }
    return new Response(body, { headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' } });
  });
}
