/**
 * Price and stock changes published between nightly runs (KV key ITEM_CHANGES_KEY): the edge applies them on
 * top of the cards a slate carries, so a sold-out item stops being shown, and a new price is displayed, within
 * a bounded time (docs/edge.md) instead of at the next nightly. One small value for the whole catalogue:
 * the nightly prunes entries its new version already contains.
 */
import { z } from 'zod';
import { PathIdSchema } from './ids.ts';

/** The same rule as the catalogue's item ids (shared/contracts/import.ts). */
const id = PathIdSchema;

/** At most this many items may be pending at once; beyond it, publish a new nightly version instead. */
export const MAX_PENDING_ITEM_CHANGES = 20_000;

export const ItemChangeSchema = z.object({
  pr: z.number().nonnegative().optional(),
  st: z.number().int().optional(),
  /** When the change was recorded (epoch ms); the nightly prunes what its snapshot already includes. */
  at: z.number().int().nonnegative(),
});
export type ItemChange = z.infer<typeof ItemChangeSchema>;

export const ItemChangesSchema = z.object({
  f: z.literal(1),
  items: z.record(id, ItemChangeSchema).refine((items) => Object.keys(items).length <= MAX_PENDING_ITEM_CHANGES, {
    message: `at most ${MAX_PENDING_ITEM_CHANGES} pending item changes`,
  }),
});
export type ItemChanges = z.infer<typeof ItemChangesSchema>;

/** One row of a catalogue update (what a shop publishes): new price and/or stock of an item. */
export const ItemUpdateSchema = z
  .object({ id, price: z.number().nonnegative().optional(), stock: z.number().int().optional() })
  .strict()
  .refine((u) => u.price !== undefined || u.stock !== undefined, { message: 'price or stock is required' });
export type ItemUpdate = z.infer<typeof ItemUpdateSchema>;

/** Merges updates into the pending changes (the newest value of each field wins). Pure. */
export function mergeItemChanges(current: ItemChanges | null, updates: readonly ItemUpdate[], at: number): ItemChanges {
  const items: Record<string, ItemChange> = { ...(current?.items ?? {}) };
  for (const update of updates) {
    const before = items[update.id];
    items[update.id] = {
      ...(before?.pr !== undefined ? { pr: before.pr } : {}),
      ...(before?.st !== undefined ? { st: before.st } : {}),
      ...(update.price !== undefined ? { pr: update.price } : {}),
      ...(update.stock !== undefined ? { st: update.stock } : {}),
      at,
    };
  }
  return ItemChangesSchema.parse({ f: 1, items });
}

/** Drops the changes recorded before `snapshotAt` (a nightly version computed from a catalogue read after them). */
export function pruneItemChanges(current: ItemChanges, snapshotAt: number): ItemChanges {
  return { f: 1, items: Object.fromEntries(Object.entries(current.items).filter(([, change]) => change.at >= snapshotAt)) };
}
