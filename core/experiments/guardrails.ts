/**
 * Serving guardrails of one experiment arm from the counters the origins flush (requests, errors, fallbacks
 * and a fixed-bucket latency histogram): error and fallback rates and latency percentiles. The percentile is
 * interpolated inside its bucket, as Prometheus' histogram_quantile does, so it is as exact as the buckets.
 */

/** Upper bounds (ms) of the latency histogram kept per arm; a last bucket holds everything slower. */
export const LATENCY_BUCKETS_MS = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 125, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000] as const;

/** Counter names as stored: requests, errors, fallbacks and one latency_<i> per bucket (i = index, last = overflow). */
export const latencyCounter = (bucket: number): string => `latency_${bucket}`;

export interface ArmServing {
  requests: number;
  /** Requests answered with an error (the pipeline failed: 503). */
  errors: number;
  /** Answers degraded by a fault (any degraded reason except the normal cold-start path `no-history`). */
  fallbacks: number;
  /** Non-cumulative counts per bucket of LATENCY_BUCKETS_MS, plus the overflow bucket at the end. */
  latency: number[];
}

export interface Guardrails {
  requests: number;
  errorRate: number | null;
  fallbackRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

/** Index of the latency bucket for a duration. */
export function latencyBucket(ms: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((le) => ms <= le);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

/** q-quantile (0..1) of a bucketed histogram; linear inside the bucket; the overflow bucket answers its lower bound. */
export function quantileFromBuckets(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] ?? 0;
    if (count > 0 && seen + count >= rank) {
      const lower = i === 0 ? 0 : (LATENCY_BUCKETS_MS[i - 1] ?? 0);
      const upper = LATENCY_BUCKETS_MS[i];
      if (upper === undefined) return lower;
      return lower + ((upper - lower) * (rank - seen)) / count;
    }
    seen += count;
  }
  return LATENCY_BUCKETS_MS.at(-1) ?? null;
}

export function guardrailsOf(s: ArmServing): Guardrails {
  const rate = (x: number): number | null => (s.requests > 0 ? x / s.requests : null);
  return {
    requests: s.requests,
    errorRate: rate(s.errors),
    fallbackRate: rate(s.fallbacks),
    p50Ms: quantileFromBuckets(s.latency, 0.5),
    p95Ms: quantileFromBuckets(s.latency, 0.95),
    p99Ms: quantileFromBuckets(s.latency, 0.99),
  };
}

/** Degraded reasons that are not a fault: a visitor without history is served from the segment/popular path by design. */
export const NORMAL_DEGRADATIONS: ReadonlySet<string> = new Set(['no-history']);

export function isFallback(degraded: readonly string[]): boolean {
  return degraded.some((reason) => !NORMAL_DEGRADATIONS.has(reason));
}
