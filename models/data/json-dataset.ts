/**
 * A data set from one JSON file ({ items, interactions, users? }), for shops whose data is not one of the
 * built-in loaders and for the robustness tests. Lenient where real exports are: category / brand / price /
 * segment may be missing (→ "unknown" / 0 / one segment), ids are any non-empty strings, timestamps are epoch
 * ms or ISO strings. Rows that are wrong fail with the row's position, never silently.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { EVENT_TYPES, type Dataset } from '../../shared/catalog/types.ts';

const Id = z.union([z.string().min(1).max(64), z.number().int().transform(String)]);
const Ts = z.union([z.number(), z.string().transform((s, ctx) => {
  const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(ms)) ctx.addIssue({ code: 'custom', message: `not a timestamp: ${s}` });
  return ms;
})]);

const FileSchema = z.object({
  name: z.string().min(1).max(64).default('json'),
  items: z.array(z.object({
    id: Id, title: z.string().max(200).optional(), category: z.string().max(64).nullish(), brand: z.string().max(64).nullish(),
    price: z.number().nonnegative().nullish(), stock: z.number().int().nonnegative().nullish(), createdAt: Ts.nullish(),
  })).min(1, 'no items'),
  users: z.array(z.object({ id: Id, segment: z.string().min(1).max(64).nullish() })).default([]),
  interactions: z.array(z.object({
    userId: Id, itemId: Id, ts: Ts, type: z.enum(EVENT_TYPES).default('view'), sessionId: Id.nullish(), eventId: Id.nullish(),
  })).min(1, 'no interactions'),
});

export async function loadJsonDataset(path: string): Promise<Dataset> {
  const parsed = FileSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join('.')}: ${issue.message}`);
  }
  const data = parsed.data;
  const items = data.items.map((i) => ({
    id: i.id, title: i.title?.trim() || i.id, category: i.category?.trim() || 'unknown', brand: i.brand?.trim() || 'unknown',
    price: i.price ?? 0, stock: i.stock ?? 1, image: '', createdAt: Math.max(0, Math.trunc(i.createdAt ?? 0)),
  }));
  const known = new Set(items.map((i) => i.id));
  const unknownItem = data.interactions.findIndex((e) => !known.has(e.itemId));
  if (unknownItem >= 0) throw new Error(`${path}: interactions.${unknownItem}: item ${data.interactions[unknownItem]!.itemId} is not in items`);
  const segmentOf = new Map(data.users.map((u) => [u.id, u.segment ?? 'all']));
  const interactions = data.interactions.map((e, n) => ({
    eventId: e.eventId ?? `e${n}`, userId: e.userId, itemId: e.itemId, type: e.type, ts: e.ts, sessionId: e.sessionId ?? `s-${e.userId}-${n}`,
  })).sort((a, b) => a.ts - b.ts);
  const users = [...new Set(interactions.map((e) => e.userId))].map((id) => ({ id, segment: segmentOf.get(id) ?? 'all' }));
  return {
    name: data.name, items, users, interactions,
    segments: [...new Set(users.map((u) => u.segment))].sort(),
    categories: [...new Set(items.map((i) => i.category))].sort(),
    brands: [...new Set(items.map((i) => i.brand))].sort(),
  };
}
