/**
 * Keeps the origin's in-memory catalogue (rules: in stock; reasons and item cards: titles) current without a
 * restart: the first load reads every item, later ones only the rows whose updated_at moved (imports, PUT/DELETE
 * /v1/items, SQL by hand), re-reading a few seconds back so a transaction that committed late is not missed
 * (re-applying a row is harmless). "Back" is from the database clock at the previous read, not from the newest row
 * seen: otherwise the last seconds of a bulk write (all of it when it was one transaction: one updated_at for every
 * row) would be read again at every refresh until the next write. A LISTEN on `catalog_changed` (trigger of
 * migration 0004) reloads within milliseconds; a poll every CATALOG_REFRESH_MS (every 5 s while still empty)
 * catches what was missed. On errors the last good catalogue stays.
 */
import type { DatabaseHandle } from '../adapters/postgres/database.ts';
import { itemsChangedSince } from '../adapters/postgres/import-repository.ts';
import type { InMemoryItemCatalog } from '../adapters/memory/item-catalog.ts';
import type { CatalogItem } from '../core/ports/catalog.ts';
import { coalescedRefresh } from '../shared/util/coalesced.ts';

export const CATALOG_CHANNEL = 'catalog_changed';
/** How far back each incremental reload looks behind the database clock at the previous read. */
const OVERLAP_MS = 5000;
const EMPTY_POLL_MS = 5000;

export interface RefreshingCatalog {
  /** Loads what changed now (one load at a time; a change during a load triggers one more). */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

export interface CatalogSourceOptions {
  refreshMs: number;
  /** Runs before each load until the catalogue is non-empty (the demo seeding). */
  beforeFirstLoad?: () => Promise<void>;
  log?: (line: Record<string, unknown>) => void;
  /** Runs after a load that changed items (the served model embeds new items from their content). */
  onChanged?: () => Promise<unknown>;
  /** After every load that reached the database: rows read, and how many of them changed the catalogue. */
  onLoaded?: (load: { rowsRead: number; changed: number }) => void;
  /** How far back each incremental reload looks (default 5 s). */
  overlapMs?: number;
}

/** Rows from the database carry the brand too (a content feature of cold-start embeddings). */
type StoredItem = CatalogItem & { brand?: string };

function differs(held: StoredItem | undefined, item: StoredItem): boolean {
  return !held || held.brand !== item.brand || held.title !== item.title || held.category !== item.category || held.price !== item.price || held.stock !== item.stock || held.image !== item.image || held.createdAt !== item.createdAt;
}

export function catalogFromDatabase(database: DatabaseHandle, catalog: InMemoryItemCatalog, options: CatalogSourceOptions): RefreshingCatalog {
  const log = options.log ?? (() => undefined);
  const overlapMs = options.overlapMs ?? OVERLAP_MS;
  /** The database clock just before the last read: every row committed before it has been seen. */
  let lastReadAt: Date | undefined;
  const load = async (): Promise<void> => {
    try {
      if (catalog.size === 0) await options.beforeFirstLoad?.();
      const since = lastReadAt ? new Date(lastReadAt.getTime() - overlapMs) : undefined;
      const changed = await itemsChangedSince(await database.get(), since);
      // The overlap re-reads rows already applied: only rows that differ from what the catalogue holds count as a change.
      const fresh = changed.items.filter((item) => differs(catalog.get(item.id), item));
      catalog.upsert(fresh);
      options.onLoaded?.({ rowsRead: changed.items.length, changed: fresh.length });
      if (fresh.length > 0) await options.onChanged?.().catch((error: unknown) => log({ component: 'cold-start', level: 'warn', error: error instanceof Error ? error.message : String(error) }));
      // A row stamped before the read but committed after it is within the overlap of the next one.
      lastReadAt = changed.readAt;
    } catch (error) {
      // Start anyway: recommendations work from the model's feature space; events answer 503 until the db is back.
      log({ component: 'catalog', level: 'warn', error: error instanceof Error ? error.message : String(error) });
    }
  };
  const { refresh, settled } = coalescedRefresh(load);
  // Every 5 s while the catalogue is still empty (database down at start), then every refreshMs.
  let lastPoll = Date.now();
  const timer = setInterval(() => {
    if (catalog.size > 0 && Date.now() - lastPoll < options.refreshMs) return;
    lastPoll = Date.now();
    void refresh();
  }, Math.min(options.refreshMs, EMPTY_POLL_MS));
  timer.unref();
  const unlisten = database.listen(CATALOG_CHANNEL, () => void refresh());
  return {
    refresh,
    async stop() {
      clearInterval(timer);
      await (await unlisten)();
      await settled();
    },
  };
}
