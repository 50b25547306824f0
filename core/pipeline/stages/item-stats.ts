/**
 * Stage: click statistics for exploration (Thompson sampling), fetched once per batch for the head of every
 * slate that has exploration slots. When the source fails, exploration is off for the batch (`ok: false`).
 */
import type { ItemStats } from '../../ports/feature-store.ts';
import type { PipelineRequest } from '../types.ts';
import type { PipelineSettings } from '../settings.ts';

/** The feature store's itemStats; absent = uniform priors. */
export type ItemStatsSource = (itemIds: readonly string[]) => Promise<Map<string, ItemStats>>;

export interface StatsWanted {
  /** Ranked candidate ids of one slate, best first. */
  readonly ids: readonly string[];
  readonly slots: number;
  readonly rerankPool: number;
}

export interface ItemStatsResult {
  ok: boolean;
  map: Map<string, ItemStats>;
}

/** Request's slots (nightly: 0) capped by the setting and by k/5, so exploration never crowds a short slate. */
export function explorationSlotsFor(request: PipelineRequest, settings: PipelineSettings): number {
  const asked = Math.min(request.explorationSlots ?? settings.explorationSlots, settings.explorationSlots);
  return Math.min(asked, Math.max(1, Math.floor(request.k / 5)));
}

export async function fetchItemStats(source: ItemStatsSource | undefined, slates: readonly StatsWanted[]): Promise<ItemStatsResult> {
  const wanting = slates.filter((s) => s.slots > 0);
  if (wanting.length === 0 || !source) return { ok: true, map: new Map() };
  // Exploration draws from twice the MMR pool (see rerank.ts).
  const ids = [...new Set(wanting.flatMap((s) => s.ids.slice(0, s.rerankPool * 2)))];
  try {
    return { ok: true, map: await source(ids) };
  } catch {
    return { ok: false, map: new Map() };
  }
}
