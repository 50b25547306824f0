/**
 * The catalogue API (API key). PUT /v1/items upserts up to MAX_ITEMS_PER_UPSERT items in the import format
 * (shared/contracts/import.ts): each row is validated on its own, invalid ones come back by index with their
 * reasons while the valid ones are stored; the same request twice leaves the same catalogue (idempotent).
 * DELETE /v1/items/:id retires an item (stock 0): never recommended again, still in histories.
 * Both reach this origin's rules and cards before answering, other origins through NOTIFY catalog_changed,
 * and the edge's item cards at the next nightly — a retirement (stock 0) at once when the origin has the slate
 * KV (SLATES_KV): it is published as catalog:changes, which the edge applies on top of the cards it serves.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { IdSchema } from '../../shared/contracts/ids.ts';
import { itemFromRow, ItemRowSchema, MAX_ITEMS_PER_UPSERT, type ItemRow } from '../../shared/contracts/import.ts';
import type { OriginDeps } from '../deps.ts';
import { requireApiKey } from '../http/api-key.ts';
import { readJsonBody } from '../http/json-body.ts';
import { problem, reasonsOf } from '../http/problems.ts';
import { retireItem, upsertItems } from '../../adapters/postgres/import-repository.ts';
import type { ItemUpdate } from '../../shared/contracts/item-changes.ts';

/** The body: the rows are checked one by one below, so one bad row does not refuse the batch. */
const UpsertEnvelopeSchema = z.object({ items: z.array(z.unknown()).min(1).max(MAX_ITEMS_PER_UPSERT) }).strict();
/** What OpenAPI shows: the envelope with its rows' schema. */
export const ItemUpsertSchema = z.object({ items: z.array(ItemRowSchema).min(1).max(MAX_ITEMS_PER_UPSERT) });
export const ItemUpsertResultSchema = z.object({
  stored: z.number().int(),
  rejected: z.array(z.object({ index: z.number().int(), id: z.string().optional(), reasons: z.array(z.string()) })),
  /** 'published': the batch's retirements (stock 0) sent to the edge's catalog:changes now (SLATES_KV set); else the edge follows at the next nightly. */
  edge: z.enum(['published', 'next-nightly']),
});

export function registerItems(app: Hono, deps: OriginDeps): void {
  const retry = { 'Retry-After': String(deps.config.RETRY_AFTER_SECONDS) };
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => undefined);

  /**
   * Retirements (stock 0) go to the edge now when a slate KV is wired ('published'); everything else — and
   * everything when no KV is wired or it fails — reaches the edge with the next nightly. Only stock 0 is sent:
   * that is what must never be shown, and it keeps the one pending-changes value small (MAX_PENDING_ITEM_CHANGES).
   */
  const toEdge = async (updates: ItemUpdate[]): Promise<'published' | 'next-nightly'> => {
    if (!deps.publishItemChanges) return 'next-nightly';
    try {
      await deps.publishItemChanges(updates);
      return 'published';
    } catch (error) {
      log({ component: 'items', level: 'warn', error: `edge item changes not published: ${error instanceof Error ? error.message : String(error)}` });
      return 'next-nightly';
    }
  };

  app.put('/v1/items', requireApiKey(deps.config.API_KEYS), async (c) => {
    const body = await readJsonBody(c, UpsertEnvelopeSchema);
    if (!body.ok) return problem(c, body.status, body.error, body.reasons);
    const valid: ItemRow[] = [];
    const rejected: z.infer<typeof ItemUpsertResultSchema>['rejected'] = [];
    body.value.items.forEach((raw, index) => {
      const parsed = ItemRowSchema.safeParse(raw);
      if (parsed.success) valid.push(parsed.data);
      else {
        const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : undefined;
        rejected.push({ index, ...(id !== undefined ? { id: id.slice(0, 64) } : {}), reasons: reasonsOf(parsed.error) });
      }
    });
    if (valid.length === 0) return c.json({ error: 'no valid item in the batch', stored: 0, rejected }, 400);
    try {
      const at = now();
      await upsertItems(await deps.database.get(), valid.map((row) => itemFromRow(row, at)));
    } catch {
      return problem(c, 503, 'database unavailable, nothing stored; retry the same request', undefined, retry);
    }
    await deps.refreshCatalog?.();
    const soldOut = valid.filter((row) => row.stock === 0).map((row) => ({ id: row.id, stock: 0 }));
    const edge = soldOut.length > 0 ? await toEdge(soldOut) : 'next-nightly';
    return c.json({ stored: valid.length, rejected, edge });
  });

  app.delete('/v1/items/:id', requireApiKey(deps.config.API_KEYS), async (c) => {
    const id = IdSchema.safeParse(c.req.param('id'));
    if (!id.success) return problem(c, 400, 'invalid item id', reasonsOf(id.error));
    let found: boolean;
    try {
      found = await retireItem(await deps.database.get(), id.data);
    } catch {
      return problem(c, 503, 'database unavailable, nothing retired; retry', undefined, retry);
    }
    if (!found) return problem(c, 404, `no item ${id.data}`);
    await deps.refreshCatalog?.();
    return c.json({ id: id.data, retired: true, stock: 0, edge: await toEdge([{ id: id.data, stock: 0 }]) });
  });
}
