/**
 * Stage: business rules on the candidates (shared/rerank/rules.ts): in stock per the catalogue, not excluded
 * (explicit excludes, purchases, the visitor's history and session items), no duplicates. Keeps the order.
 * Availability answers are remembered by item index while the catalogue's revision stays the same.
 */
import type { RankCandidate } from '../../../shared/features/encode.ts';
import type { FeatureSpace } from '../../../shared/features/feature-space.ts';
import { applyRules } from '../../../shared/rerank/rules.ts';
import type { ItemCatalog } from '../../ports/catalog.ts';

/** A candidate that passed the rules, with its item id. */
export type KeptCandidate = RankCandidate & { id: string };

export function filterCandidates(space: FeatureSpace, catalog: ItemCatalog, candidates: readonly RankCandidate[], excluded: ReadonlySet<string>): KeptCandidate[] {
  const availableAt = availabilityByIndex(space, catalog);
  return applyRules(
    candidates.map((c) => ({ ...c, id: space.itemId(c.index) ?? '' })),
    { excluded, isAvailable: (id) => catalog.isAvailable(id), isAvailableCandidate: availableAt ? (c) => availableAt(c.index, c.id) : undefined },
  ).kept;
}

interface AvailabilityCache {
  catalog: ItemCatalog;
  revision: number;
  /** By feature-space index: 0 not asked yet, 1 available, 2 not. */
  states: Uint8Array;
}

const caches = new WeakMap<FeatureSpace, AvailabilityCache>();

/**
 * catalog.isAvailable(id) remembered by feature-space index while the catalogue's revision stays the same (a
 * candidate's id is a function of its index): a byte per item instead of a hash lookup of the id for each of a
 * request's ~1,000 candidates (cache misses on a big catalogue; the nightly asks for the same items again and
 * again). Undefined when the catalogue has no revision.
 */
function availabilityByIndex(space: FeatureSpace, catalog: ItemCatalog): ((index: number, id: string) => boolean) | undefined {
  const revision = catalog.revision;
  if (revision === undefined) return undefined;
  let cache = caches.get(space);
  if (!cache || cache.catalog !== catalog || cache.revision !== revision) {
    cache = { catalog, revision, states: new Uint8Array(space.itemCount + 1) };
    caches.set(space, cache);
  }
  const { states } = cache;
  return (index, id) => {
    if (!(index > 0 && index < states.length)) return catalog.isAvailable(id);
    let state = states[index]!;
    if (state === 0) {
      state = catalog.isAvailable(id) ? 1 : 2;
      states[index] = state;
    }
    return state === 1;
  };
}
