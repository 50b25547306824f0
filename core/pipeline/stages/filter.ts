/**
 * Stage: business rules on the candidates (shared/rerank/rules.ts): in stock per the catalogue, not excluded
 * (explicit excludes, purchases, the visitor's history and session items), no duplicates. Keeps the order.
 */
import type { RankCandidate } from '../../../shared/features/encode.ts';
import type { FeatureSpace } from '../../../shared/features/feature-space.ts';
import { applyRules } from '../../../shared/rerank/rules.ts';
import type { ItemCatalog } from '../../ports/catalog.ts';

/** A candidate that passed the rules, with its item id. */
export type KeptCandidate = RankCandidate & { id: string };

export function filterCandidates(space: FeatureSpace, catalog: ItemCatalog, candidates: readonly RankCandidate[], excluded: ReadonlySet<string>): KeptCandidate[] {
  return applyRules(
    candidates.map((c) => ({ ...c, id: space.itemId(c.index) ?? '' })),
    { excluded, isAvailable: (id) => catalog.isAvailable(id) },
  ).kept;
}
