/**
 * Demo seeding from the built-in generator (the same shop the committed models were trained on): the
 * catalogue and users into the database when the items table is empty, and user histories into the feature
 * store. The demo launcher (and server.ts with SEED_HISTORIES) calls these.
 */
import { generateDataset, type GeneratorOptions } from '../../shared/catalog/generator.ts';
import type { Dataset } from '../../shared/catalog/types.ts';
import { shouldAppend } from '../../shared/features/history.ts';
import type { DatabaseHandle } from '../../adapters/postgres/database.ts';
import { countItems, insertCatalog } from '../../adapters/postgres/repository.ts';
import type { FeatureStore, SeededUser } from '../../core/ports/feature-store.ts';

let cached: { key: string; dataset: Dataset } | undefined;
/** The generated demo dataset (memoised: catalogue and history seeding share one generation). */
export function demoDataset(options: Partial<GeneratorOptions> = {}): Dataset {
  const key = JSON.stringify(options);
  if (cached?.key !== key) cached = { key, dataset: generateDataset(options) };
  return cached.dataset;
}

/** Inserts the generated catalogue and users when the items table is empty; returns how many items were added. */
export async function seedCatalogIfEmpty(database: DatabaseHandle, dataset: Dataset): Promise<number> {
  const db = await database.get();
  if ((await countItems(db)) > 0) return 0;
  await insertCatalog(db, dataset.items, dataset.users);
  return dataset.items.length;
}

/** Per-user history (shared history rule), purchases and segment for the first `maxUsers` users. */
export function seededUsersOf(dataset: Dataset, maxUsers: number): SeededUser[] {
  const chosen = new Map(dataset.users.slice(0, maxUsers).map((u) => [u.id, { userId: u.id, history: [] as string[], purchased: [] as string[], features: { segment: u.segment } }]));
  for (const event of dataset.interactions) {
    const user = chosen.get(event.userId);
    if (!user) continue;
    if (shouldAppend(event.type, event.itemId, user.history.at(-1))) user.history.push(event.itemId);
    if (event.type === 'purchase' && !user.purchased.includes(event.itemId)) user.purchased.push(event.itemId);
  }
  return [...chosen.values()];
}

export async function seedHistories(store: FeatureStore, dataset: Dataset, maxUsers = 5000): Promise<number> {
  const seeded = seededUsersOf(dataset, maxUsers);
  await store.seedUsers(seeded);
  return seeded.length;
}
