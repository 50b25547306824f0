/**
 * GET /v1/export?source=slates[&version=&segment=&kind=&format=ndjson|csv&items=]: streams the slates the
 * nightly job wrote to KV — the same rows as `npm run export`, i.e. exactly what the edge serves — filtered by
 * version and segment. Used when the origin has a slate KV configured (SLATES_KV); `source=live` recomputes
 * through the pipeline instead (export.ts).
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { versionMetaKey } from '../../shared/kv/keys.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import { contentTypeOf, ExportError, ExportQuerySchema, exportSlates } from '../../batch/export/export.ts';
import { problem, reasonsOf } from '../http/problems.ts';
import { usersPage } from '../../adapters/postgres/repository.ts';
import { postgresErasureMarker } from '../../adapters/postgres/erasure-marker.ts';
import type { OriginDeps } from '../deps.ts';

const SlatesQuerySchema = z
  .object({
    source: z.literal('slates').optional(),
    version: z.string().regex(/^[\w.-]+$/).max(64).optional(),
    segment: z.string().min(1).max(64).regex(/^[\w-]+$/).optional(),
    kind: z.enum(['all', 'user', 'segment']).default('all'),
    format: z.enum(['ndjson', 'csv']).default('ndjson'),
    /** Items per slate (default all). */
    items: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

/** Segment of every known user, for the segment filter (one pass over the users table). */
async function segmentsOf(deps: OriginDeps): Promise<Map<string, string>> {
  const db = await deps.database.get();
  const out = new Map<string, string>();
  for (let last = ''; ; ) {
    const page = await usersPage(db, last, 5000);
    if (page.length === 0) return out;
    for (const user of page) out.set(user.id, user.segment);
    last = page.at(-1)!.id;
  }
}

export async function exportWrittenSlates(c: Context, deps: OriginDeps, slatesKv: () => Promise<KvWriter>): Promise<Response> {
  const parsed = SlatesQuerySchema.safeParse(c.req.query());
  if (!parsed.success) return problem(c, 400, 'invalid query', reasonsOf(parsed.error));
  const { version, segment, kind, format, items } = parsed.data;
  const query = ExportQuerySchema.parse({ version, segment, kind, format, limit: items });
  let kv: KvWriter;
  let segments: Map<string, string> | undefined;
  try {
    kv = await slatesKv();
    // Only finished versions are exported (their meta key is written just before the pointer flips).
    if (version !== undefined && (await kv.get(versionMetaKey(version))) === null) return problem(c, 404, 'no such slate version', [`version ${version} was not written completely`]);
    if (kind !== 'segment') segments = await segmentsOf(deps);
  } catch (error) {
    return problem(c, 503, 'slate store unavailable', [error instanceof Error ? error.message : String(error)], { 'Retry-After': String(deps.config.RETRY_AFTER_SECONDS) });
  }
  const marker = postgresErasureMarker(deps.database);
  const rows = exportSlates(kv, query, segments ? (userId) => segments.get(userId) : undefined, (ids) => marker.erased(ids));
  // Pull the first row before answering, so "no version" is a 404 and not a broken stream.
  let first: IteratorResult<string>;
  try {
    first = await rows.next();
  } catch (error) {
    if (error instanceof ExportError) return problem(c, 404, 'no such slate version', [error.message]);
    throw error;
  }
  const encoder = new TextEncoder();
  let pending: IteratorResult<string> | undefined = first;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = pending ?? (await rows.next());
        pending = undefined;
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (error) {
        controller.error(error);
      }
    },
  });
  return new Response(body, { headers: { 'content-type': contentTypeOf(format), 'cache-control': 'no-store' } });
}
