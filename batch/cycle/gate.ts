/**
 * The publication gate of `npm run cycle`: a retrained version replaces the live one only if it is not worse on
 * the same holdout (both evaluated on today's events, split the same way). "Not worse" = the candidate's value of
 * one metric (default served.ndcg@10: the slates the pipeline serves, models/evaluate/served.ts) is at least the live
 * value × (1 − tolerance); default tolerance 0.02 (2 % relative), so evaluation noise does not freeze the model.
 * No live version, or a live version that could not be evaluated with --force, publishes.
 */
export const DEFAULT_GATE_METRIC = 'served.ndcg@10';
export const DEFAULT_GATE_TOLERANCE = 0.02;

export interface GateInput {
  metric: string;
  tolerance: number;
  candidate: Record<string, number>;
  /** null: no live version to compare with. */
  live: Record<string, number> | null;
}

export interface GateDecision {
  publish: boolean;
  reason: string;
  candidateValue: number | null;
  liveValue: number | null;
  /** The lowest candidate value that would have published. */
  threshold: number | null;
}

export function decide(input: GateInput): GateDecision {
  const candidateValue = input.candidate[input.metric];
  if (candidateValue === undefined || !Number.isFinite(candidateValue)) {
    return { publish: false, reason: `the candidate has no ${input.metric} (was it evaluated?)`, candidateValue: null, liveValue: null, threshold: null };
  }
  if (input.live === null) return { publish: true, reason: 'no live model to compare with', candidateValue, liveValue: null, threshold: null };
  const liveValue = input.live[input.metric];
  if (liveValue === undefined || !Number.isFinite(liveValue)) {
    return { publish: true, reason: `the live model has no ${input.metric}`, candidateValue, liveValue: null, threshold: null };
  }
  const threshold = liveValue * (1 - input.tolerance);
  const publish = candidateValue >= threshold;
  const fmt = (v: number): string => v.toFixed(4);
  return {
    publish,
    reason: publish
      ? `${input.metric} ${fmt(candidateValue)} ≥ live ${fmt(liveValue)} × (1 − ${input.tolerance}) = ${fmt(threshold)}`
      : `${input.metric} ${fmt(candidateValue)} < live ${fmt(liveValue)} × (1 − ${input.tolerance}) = ${fmt(threshold)}: the live model stays`,
    candidateValue,
    liveValue,
    threshold,
  };
}
