/**
 * A read-through cache in front of the feature store's click statistics (the priors of exploration's Thompson
 * sampling). Every slate that explores asks for the stats of its ~100 candidates; read from Redis each time, that
 * was one HMGET per candidate, and at 1M items it cost about as much CPU per request as retrieval did then
 * (docs/benchmarks.md, tenth session). Priors built from hundreds of impressions do not move within seconds, so each item's stats are
 * kept for `ttlMs` (bounded staleness: a click counts in exploration at most ttlMs late) in an LRU of `maxItems`.
 * Only the misses of a batch go to the source, in one call; when that call fails the batch fails as before
 * (exploration off for it), and nothing is cached. ttlMs 0 turns the cache off.
 */
import { LRUCache } from 'lru-cache';
import type { ItemStats } from '../../core/ports/feature-store.ts';
import type { ItemStatsSource } from '../../core/pipeline/stages/item-stats.ts';

export interface ItemStatsCacheOptions {
  ttlMs: number;
  maxItems: number;
}

/** Told, per call, how many ids the cache answered and how many went to the source (the origin's metrics). */
export type ItemStatsLookups = (hits: number, misses: number) => void;

export function cachedItemStats(source: ItemStatsSource, options: ItemStatsCacheOptions, observe: ItemStatsLookups = () => undefined): ItemStatsSource {
  if (options.ttlMs <= 0 || options.maxItems <= 0) {
    return (ids) => {
      observe(0, ids.length);
      return source(ids);
    };
  }
  const cache = new LRUCache<string, ItemStats>({ max: options.maxItems, ttl: options.ttlMs });
  return async (ids) => {
    const found = new Map<string, ItemStats>();
    const missing: string[] = [];
    for (const id of ids) {
      const stats = cache.get(id);
      if (stats) found.set(id, stats);
      else missing.push(id);
    }
    observe(found.size, missing.length);
    if (missing.length > 0) {
      const fetched = await source(missing);
      for (const id of missing) {
        // An item the store has no stats for has none yet: zero counts, cached like any other answer.
        const stats = fetched.get(id) ?? { impressions: 0, clicks: 0 };
        cache.set(id, stats);
        found.set(id, stats);
      }
    }
    return found;
  };
}
