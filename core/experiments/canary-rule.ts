/**
 * The canary rule: from a canary experiment's results (control = live model first, canary second) decide to
 * promote the canary's model version, roll it back, or wait. Stated in docs/experiments.md; in order:
 *   1. guardrails, once both arms served minRequests: roll back when the canary's error rate or fallback rate
 *      exceeds the control's by more than the allowed increase, or its p99 latency exceeds
 *      max(control p99 × maxP99Ratio, control p99 + p99SlackMs);
 *   2. roll back when the primary metric is significantly worse (always-valid interval entirely below 0);
 *   3. roll back when maxHours passed without a promotion;
 *   4. promote when guardrails were judged, both arms have minVisitors, the sample ratio is sound, and the
 *      primary metric is significantly better, or non-inferior: the interval's lower end, relative to the
 *      control, is above −nonInferiorityMargin;
 *   5. otherwise wait (the reasons say for what).
 * Rolling back is cheap and promoting is not, so every doubt resolves to "wait" or "roll back".
 */
import type { ExperimentResults, MetricComparison } from './results.ts';

export interface CanaryThresholds {
  minVisitors: number;
  minRequests: number;
  maxHours: number;
  nonInferiorityMargin: number;
  maxErrorRateIncrease: number;
  maxFallbackRateIncrease: number;
  maxP99Ratio: number;
  p99SlackMs: number;
}

export type CanaryAction = 'promote' | 'rollback' | 'wait';

export interface CanaryFigures {
  hoursRunning: number;
  control: { id: string; visitors: number; requests: number; errorRate: number | null; fallbackRate: number | null; p99Ms: number | null };
  canary: { id: string; visitors: number; requests: number; errorRate: number | null; fallbackRate: number | null; p99Ms: number | null };
  primaryMetric: string;
  primary: Pick<MetricComparison, 'control' | 'treatment' | 'difference' | 'relativeDifference' | 'ci' | 'pValue' | 'verdict'> | null;
  /** The lower end of the always-valid interval relative to the control (the non-inferiority figure). */
  relativeLowerBound: number | null;
  p99LimitMs: number | null;
  srmPValue: number | null;
  thresholds: CanaryThresholds;
}

export interface CanaryDecision {
  action: CanaryAction;
  reasons: string[];
  figures: CanaryFigures;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

export function decideCanary(results: ExperimentResults, rule: CanaryThresholds, hoursRunning: number): CanaryDecision {
  const [control, canary] = results.variants;
  if (!control || !canary) throw new Error('a canary experiment has a control and a canary variant');
  const primary = results.comparisons.find((c) => c.variant === canary.id && c.metric === results.primaryMetric) ?? null;
  const relativeLowerBound = primary?.ci && primary.control !== 0 ? primary.ci[0] / primary.control : null;
  const gc = control.guardrails;
  const gk = canary.guardrails;
  const p99LimitMs = gc.p99Ms === null ? null : Math.max(gc.p99Ms * rule.maxP99Ratio, gc.p99Ms + rule.p99SlackMs);
  const figures: CanaryFigures = {
    hoursRunning,
    control: { id: control.id, visitors: control.counts.visitors, requests: gc.requests, errorRate: gc.errorRate, fallbackRate: gc.fallbackRate, p99Ms: gc.p99Ms },
    canary: { id: canary.id, visitors: canary.counts.visitors, requests: gk.requests, errorRate: gk.errorRate, fallbackRate: gk.fallbackRate, p99Ms: gk.p99Ms },
    primaryMetric: results.primaryMetric,
    primary: primary && { control: primary.control, treatment: primary.treatment, difference: primary.difference, relativeDifference: primary.relativeDifference, ci: primary.ci, pValue: primary.pValue, verdict: primary.verdict },
    relativeLowerBound,
    p99LimitMs,
    srmPValue: results.srm.pValue,
    thresholds: rule,
  };
  const decide = (action: CanaryAction, reasons: string[]): CanaryDecision => ({ action, reasons, figures });

  const guardrailsJudged = gc.requests >= rule.minRequests && gk.requests >= rule.minRequests;
  if (guardrailsJudged) {
    const breaches: string[] = [];
    const errorIncrease = (gk.errorRate ?? 0) - (gc.errorRate ?? 0);
    if (errorIncrease > rule.maxErrorRateIncrease) breaches.push(`error rate ${pct(gk.errorRate ?? 0)} vs ${pct(gc.errorRate ?? 0)} (allowed increase ${pct(rule.maxErrorRateIncrease)})`);
    const fallbackIncrease = (gk.fallbackRate ?? 0) - (gc.fallbackRate ?? 0);
    if (fallbackIncrease > rule.maxFallbackRateIncrease) breaches.push(`fallback rate ${pct(gk.fallbackRate ?? 0)} vs ${pct(gc.fallbackRate ?? 0)} (allowed increase ${pct(rule.maxFallbackRateIncrease)})`);
    if (p99LimitMs !== null && gk.p99Ms !== null && gk.p99Ms > p99LimitMs) breaches.push(`p99 latency ${gk.p99Ms.toFixed(1)} ms > limit ${p99LimitMs.toFixed(1)} ms (control ${gc.p99Ms?.toFixed(1)} ms)`);
    if (breaches.length > 0) return decide('rollback', breaches.map((b) => `guardrail: ${b}`));
  }
  if (primary?.verdict === 'worse') return decide('rollback', [`${results.primaryMetric} is worse: difference ${primary.difference.toPrecision(3)}, always-valid p = ${primary.pValue.toPrecision(3)}`]);
  if (hoursRunning >= rule.maxHours) return decide('rollback', [`no promotion after ${rule.maxHours} h (the canary could not show it is not worse)`]);

  const waiting: string[] = [];
  if (!guardrailsJudged) waiting.push(`guardrails need ${rule.minRequests} requests per arm (control ${gc.requests}, canary ${gk.requests})`);
  if (control.counts.visitors < rule.minVisitors || canary.counts.visitors < rule.minVisitors) waiting.push(`promotion needs ${rule.minVisitors} visitors per arm (control ${control.counts.visitors}, canary ${canary.counts.visitors})`);
  if (results.srm.flagged) waiting.push(`sample ratio mismatch (p = ${results.srm.pValue?.toPrecision(3)}): assignment or logging is broken, no promotion`);
  if (waiting.length > 0) return decide('wait', waiting);
  if (primary?.verdict === 'better') return decide('promote', [`${results.primaryMetric} is better: +${primary.difference.toPrecision(3)}, always-valid p = ${primary.pValue.toPrecision(3)}; guardrails within limits`]);
  if (relativeLowerBound !== null && relativeLowerBound > -rule.nonInferiorityMargin) return decide('promote', [`${results.primaryMetric} is non-inferior: the interval's lower end is ${pct(relativeLowerBound)} of the control (margin −${pct(rule.nonInferiorityMargin)}); guardrails within limits`]);
  return decide('wait', [`${results.primaryMetric}: not yet shown better or within −${pct(rule.nonInferiorityMargin)} of the control${relativeLowerBound === null ? '' : ` (lower end ${pct(relativeLowerBound)})`}`]);
}
