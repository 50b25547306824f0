/**
 * Publishes price and stock updates for the edge between nightly runs (KV key ITEM_CHANGES_KEY; the edge
 * applies them to the cards its slates carry within ISOLATE_CACHE_SECONDS + KV's cache time, docs/edge.md).
 * Read-merge-write of one small value: run one publisher at a time (KV has no compare-and-swap). Each publish
 * also drops the changes the live version already contains (recorded over two hours before it was computed;
 * the edge itself ignores those older than one hour before the slate's time).
 */
import { ItemChangesSchema, mergeItemChanges, pruneItemChanges, type ItemUpdate } from '../../shared/contracts/item-changes.ts';
import { SlatePointerSchema } from '../../shared/contracts/slate.ts';
import { ITEM_CHANGES_KEY, SLATE_POINTER_KEY } from '../../shared/kv/keys.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';

const PRUNE_BEFORE_VERSION_MS = 2 * 3_600_000;

function parsed<T>(text: string | null, parse: (value: unknown) => { success: true; data: T } | { success: false }): T | null {
  if (text === null) return null;
  try {
    const result = parse(JSON.parse(text));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}

export async function publishItemChanges(kv: KvWriter, updates: readonly ItemUpdate[], now: number): Promise<{ pending: number; pruned: number }> {
  const pointer = parsed(await kv.get(SLATE_POINTER_KEY), (v) => SlatePointerSchema.safeParse(v));
  const current = parsed(await kv.get(ITEM_CHANGES_KEY), (v) => ItemChangesSchema.safeParse(v));
  const before = Object.keys(current?.items ?? {}).length;
  const pruned = pointer ? pruneItemChanges(current ?? { f: 1, items: {} }, pointer.createdAt - PRUNE_BEFORE_VERSION_MS) : current;
  const merged = mergeItemChanges(pruned, updates, now);
  await kv.putMany([{ key: ITEM_CHANGES_KEY, value: JSON.stringify(merged) }]);
  return { pending: Object.keys(merged.items).length, pruned: before - Object.keys(pruned?.items ?? {}).length };
}
