/**
 * The test behind every experiment verdict: a mixture sequential probability ratio test (mSPRT, normal mixture)
 * on the difference of two means, as in Johari, Pekelis & Walsh, "Always Valid Inference: Continuous Monitoring
 * of A/B Tests" (Operations Research 2022). Operators read the report whenever they like and the canary rule
 * checks on a timer; a fixed-horizon z-test read that way finds false winners far more often than its alpha.
 * The mSPRT's p-value and confidence interval stay valid at any stopping time, so a verdict can be read at
 * every look. The fixed-horizon z-test figures are reported beside it, only valid at a planned sample size.
 *
 * Every metric is reduced to an estimate and the variance of that estimate (CLT on visitor-level sums), so
 * proportions, ratios (delta method) and revenue means share one test. Distributions come from @stdlib.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

/** An estimate and the variance of that estimate (not of one observation), from n units. */
export interface Estimate {
  value: number;
  variance: number;
  n: number;
}

export type Verdict = 'better' | 'worse' | 'inconclusive';

export interface Comparison {
  control: number;
  treatment: number;
  /** treatment − control. */
  difference: number;
  /** difference / control; null when the control is 0. */
  relativeDifference: number | null;
  /** Always-valid (mSPRT) interval for the difference at level 1 − alpha; null when there is no variance yet. */
  ci: [number, number] | null;
  /** Always-valid p-value: min(1, 1/Λ), Λ the mixture likelihood ratio. */
  pValue: number;
  /** Two-sided z-test figures, valid only when read once at a sample size fixed in advance. */
  fixedHorizon: { ci: [number, number] | null; pValue: number };
  /** better/worse when the always-valid interval excludes 0 (and both arms have minUnits), else inconclusive. */
  verdict: Verdict;
}

export interface TestOptions {
  /** Significance level of the interval and the verdict (two-sided). */
  alpha: number;
  /**
   * Standard deviation of the normal mixture over effects (the mSPRT's one tuning knob): the test is most
   * powerful for differences of about this size. Fixed before looking at the difference.
   */
  tau: number;
  /** No verdict before each arm has this many units (the normal approximation needs some). */
  minUnits: number;
}

/** Two-sided normal critical value for level alpha. */
export function zCritical(alpha: number): number {
  return normalQuantile(1 - alpha / 2, 0, 1);
}

/** Normal-approximation interval of one arm's estimate (descriptive, fixed-horizon). */
export function confidenceInterval(estimate: Estimate, alpha: number): [number, number] | null {
  if (!(estimate.variance > 0) || estimate.n < 2) return null;
  const half = zCritical(alpha) * Math.sqrt(estimate.variance);
  return [estimate.value - half, estimate.value + half];
}

/** log Λ of the normal-mixture SPRT for an observed difference with variance v and mixture variance tau². */
export function msprtLogLikelihoodRatio(difference: number, v: number, tau2: number): number {
  return 0.5 * Math.log(v / (v + tau2)) + (difference * difference * tau2) / (2 * v * (v + tau2));
}

/** Half-width of the always-valid interval: the set of θ with Λ(θ̂ − θ) < 1/alpha. */
export function msprtHalfWidth(v: number, tau2: number, alpha: number): number {
  return Math.sqrt(((2 * v * (v + tau2)) / tau2) * (Math.log(1 / alpha) + 0.5 * Math.log((v + tau2) / v)));
}

/** Compares a treatment arm with the control arm on one metric where higher is better. */
export function compare(control: Estimate, treatment: Estimate, options: TestOptions): Comparison {
  const difference = treatment.value - control.value;
  const relativeDifference = control.value !== 0 ? difference / control.value : null;
  const v = control.variance + treatment.variance;
  const enough = control.n >= options.minUnits && treatment.n >= options.minUnits;
  if (!(v > 0) || !Number.isFinite(v) || control.n < 2 || treatment.n < 2) {
    return { control: control.value, treatment: treatment.value, difference, relativeDifference, ci: null, pValue: 1, fixedHorizon: { ci: null, pValue: 1 }, verdict: 'inconclusive' };
  }
  const tau2 = options.tau * options.tau;
  const half = msprtHalfWidth(v, tau2, options.alpha);
  const ci: [number, number] = [difference - half, difference + half];
  const pValue = Math.min(1, Math.exp(-msprtLogLikelihoodRatio(difference, v, tau2)));
  const se = Math.sqrt(v);
  const fixedHalf = zCritical(options.alpha) * se;
  const fixedP = 2 * (1 - normalCdf(Math.abs(difference) / se, 0, 1));
  const verdict: Verdict = !enough ? 'inconclusive' : ci[0] > 0 ? 'better' : ci[1] < 0 ? 'worse' : 'inconclusive';
  return { control: control.value, treatment: treatment.value, difference, relativeDifference, ci, pValue, fixedHorizon: { ci: [difference - fixedHalf, difference + fixedHalf], pValue: fixedP }, verdict };
}

/**
 * Probability that a look at a sample where the difference has variance v rejects (the always-valid interval
 * excludes 0) when the true difference is `difference`: planning figure, and a lower bound on the power of
 * continuous monitoring up to that sample (earlier looks can only add rejections).
 */
export function msprtPower(difference: number, v: number, tau: number, alpha: number): number {
  const half = msprtHalfWidth(v, tau * tau, alpha);
  const se = Math.sqrt(v);
  return normalCdf((difference - half) / se, 0, 1) + normalCdf((-difference - half) / se, 0, 1);
}
