/**
 * Time-based split: everything before the cutoff trains, everything after evaluates. The cutoff is a
 * quantile of event time, so no interaction from the evaluation window leaks into features or training.
 */
import type { Interaction } from '../../shared/catalog/types.ts';
import { entersHistory } from '../../shared/features/history.ts';
import { createRng } from '../../shared/util/rng.ts';

export interface TimeSplit {
  cutoff: number;
  train: Interaction[];
  test: Interaction[];
}

export function splitByTime(interactions: readonly Interaction[], testFraction: number): TimeSplit {
  const sorted = [...interactions].sort((a, b) => a.ts - b.ts);
  const cutoff = sorted[Math.floor(sorted.length * (1 - testFraction))]?.ts ?? Infinity;
  return { cutoff, train: sorted.filter((e) => e.ts < cutoff), test: sorted.filter((e) => e.ts >= cutoff) };
}

/** Positive signals used as training targets and histories (clicks duplicate the view that follows). */
export function isPositive(event: Interaction): boolean {
  return entersHistory(event.type);
}

/**
 * Leave-one-out (the MovieLens literature's protocol, e.g. NCF, SASRec, Krichene & Rendle 2020): each user's
 * latest positive interaction is held out, everything else trains. Input must be in time order (ties keep
 * the input order), so "latest" is the last positive in the array.
 */
export function leaveOneOut(interactions: readonly Interaction[]): TimeSplit {
  const lastByUser = new Map<string, Interaction>();
  for (const e of interactions) if (isPositive(e)) lastByUser.set(e.userId, e);
  const held = new Set([...lastByUser.values()].map((e) => e.eventId));
  return { cutoff: NaN, train: interactions.filter((e) => !held.has(e.eventId)), test: interactions.filter((e) => held.has(e.eventId)) };
}

/**
 * Seeded random per-user hold-out: `fraction` of each user's positives (at least one, only for users with at
 * least two) are drawn at random with a seeded RNG and evaluate; the rest train. For data without time (the
 * ML-1M pairs), where "the last one" means nothing.
 */
export function holdoutPerUser(interactions: readonly Interaction[], fraction: number, seed = 1): TimeSplit {
  const byUser = new Map<string, Interaction[]>();
  for (const e of interactions) {
    if (!isPositive(e)) continue;
    const list = byUser.get(e.userId);
    if (list) list.push(e);
    else byUser.set(e.userId, [e]);
  }
  const rng = createRng(seed);
  const held = new Set<string>();
  for (const events of byUser.values()) {
    if (events.length < 2) continue;
    const n = Math.max(1, Math.round(events.length * fraction));
    const order = events.map((_, i) => i);
    for (let i = 0; i < n; i++) {
      const j = i + rng.int(order.length - i);
      [order[i], order[j]] = [order[j]!, order[i]!];
      held.add(events[order[i]!]!.eventId);
    }
  }
  return { cutoff: NaN, train: interactions.filter((e) => !held.has(e.eventId)), test: interactions.filter((e) => held.has(e.eventId)) };
}

/**
 * For data without time (the ML-1M pairs: synthetic timestamps in file order): each user's events get a seeded
 * random order (their own timestamps, re-dealt), so no model learns the file's order — which the random
 * hold-out test does not have. Returns a new array sorted by the new timestamps.
 */
export function shuffleWithinUsers(interactions: readonly Interaction[], seed = 7): Interaction[] {
  const byUser = new Map<string, Interaction[]>();
  for (const e of interactions) {
    const list = byUser.get(e.userId);
    if (list) list.push(e);
    else byUser.set(e.userId, [e]);
  }
  const rng = createRng(seed);
  const out: Interaction[] = [];
  for (const events of byUser.values()) {
    const times = events.map((e) => e.ts);
    const order = [...events];
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    order.forEach((e, i) => out.push({ ...e, ts: times[i]! }));
  }
  return out.sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : 1));
}
