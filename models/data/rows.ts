/**
 * Import rows (shared/contracts/import.ts: what `npm run import` and the data-set converters speak) → the
 * trainer's Dataset, with the import's own defaults (itemFromRow/userFromRow; createdAt: the item's first
 * event when the row has none); events without a session id get one from a 30-minute inactivity
 * gap; events naming items missing from the catalogue are dropped (counted). Rows are validated with the
 * import schemas, so a converter and a file import agree on what a row means.
 */
import type { Dataset, Interaction, Item, User } from '../../shared/catalog/types.ts';
import { EventRowSchema, itemFromRow, ItemRowSchema, userFromRow, UserRowSchema, type EventRow, type ItemRow, type UserRow } from '../../shared/contracts/import.ts';

/** What a converter (batch/import/converters/) hands out: three streams of import rows. */
export interface RowStreams {
  items(): AsyncIterable<ItemRow | Record<string, unknown>>;
  events(): AsyncIterable<EventRow | Record<string, unknown>>;
  users(): AsyncIterable<UserRow | Record<string, unknown>>;
}

export const SESSION_GAP_MS = 30 * 60_000;

export interface FoldedDataset {
  dataset: Dataset;
  /** Events dropped because their item is not in the catalogue. */
  unknownItemEvents: number;
}

/** Builds a Dataset from already-read catalogue, users and (time-ordered) interactions. */
export function datasetOf(name: string, items: Item[], users: User[], interactions: Interaction[]): FoldedDataset {
  const known = new Set(items.map((item) => item.id));
  const kept = interactions.filter((e) => known.has(e.itemId));
  kept.sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  return {
    dataset: {
      name,
      items,
      users,
      interactions: kept,
      segments: [...new Set(users.map((u) => u.segment))].sort(),
      categories: [...new Set(items.map((i) => i.category))].sort(),
      brands: [...new Set(items.map((i) => i.brand))].sort(),
    },
    unknownItemEvents: interactions.length - kept.length,
  };
}

/** Reads a converter's three streams into a Dataset (rows failing the import schema stop with their position). */
export async function datasetFromRows(name: string, rows: RowStreams): Promise<FoldedDataset> {
  const events: EventRow[] = [];
  let n = 0;
  for await (const raw of rows.events()) {
    n++;
    const parsed = EventRowSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${name}: event row ${n}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    events.push(parsed.data);
  }
  events.sort((a, b) => a.ts - b.ts);
  const firstSeen = new Map<string, number>();
  for (const e of events) if (!firstSeen.has(e.itemId)) firstSeen.set(e.itemId, e.ts);

  const items: Item[] = [];
  n = 0;
  for await (const raw of rows.items()) {
    n++;
    const parsed = ItemRowSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${name}: item row ${n}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    // The import's defaults; an item without a date entered the catalogue at its first event here.
    items.push(itemFromRow(parsed.data, firstSeen.get(parsed.data.id) ?? 0));
  }
  const users: User[] = [];
  for await (const raw of rows.users()) {
    const parsed = UserRowSchema.safeParse(raw);
    if (parsed.success) users.push(userFromRow(parsed.data));
  }

  const lastByUser = new Map<string, { ts: number; session: string }>();
  const interactions: Interaction[] = events.map((e) => {
    let sessionId = e.sessionId;
    if (sessionId === undefined) {
      const last = lastByUser.get(e.userId);
      sessionId = last && e.ts - last.ts <= SESSION_GAP_MS ? last.session : `${e.userId}@${e.ts}`;
      lastByUser.set(e.userId, { ts: e.ts, session: sessionId });
    }
    return { eventId: e.eventId ?? `${e.userId}-${e.itemId}-${e.type}-${e.ts}`, userId: e.userId, sessionId, itemId: e.itemId, type: e.type, ts: e.ts };
  });
  return datasetOf(name, items, users, interactions);
}
