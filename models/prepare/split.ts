/**
 * Time-based split: everything before the cutoff trains, everything after evaluates. The cutoff is a
 * quantile of event time, so no interaction from the evaluation window leaks into features or training.
 */
import type { Interaction } from '../../shared/catalog/types.ts';
import { entersHistory } from '../../shared/features/history.ts';

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
