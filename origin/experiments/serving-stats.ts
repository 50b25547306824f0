/**
 * Per-variant serving guardrails and shadow comparisons, counted in memory on the request path (no I/O) and
 * flushed as additive deltas to experiment_counters every EXPERIMENT_STATS_FLUSH_MS, so the report sums all
 * replicas and survives restarts. A failed flush keeps its deltas for the next one (nothing is lost while
 * Postgres is down; memory is bounded by the label set). Also feeds the Prometheus series for Grafana.
 */
import { isFallback, latencyBucket, latencyCounter, LATENCY_BUCKETS_MS } from '../../core/experiments/guardrails.ts';
import type { OriginMetrics } from '../metrics.ts';
import type { DatabaseHandle } from '../../adapters/postgres/database.ts';
import { addCounters, type CounterDelta } from '../../adapters/postgres/experiment-repository.ts';
import type { Experiment } from './definitions.ts';
import type { ShadowLog } from './shadow.ts';

export const SHADOW_ARM = 'shadow';
export type ServedOutcome = 'ok' | 'fallback' | 'error';

export function outcomeOf(degraded: readonly string[] | null): ServedOutcome {
  return degraded === null ? 'error' : isFallback(degraded) ? 'fallback' : 'ok';
}

export class ExperimentCounters {
  private pending = new Map<string, CounterDelta>();
  private readonly labelled = new Set<string>();
  private readonly shadowLabelled = new Set<string>();
  private readonly metrics: OriginMetrics;

  constructor(metrics: OriginMetrics) {
    this.metrics = metrics;
  }

  private add(experimentId: string, arm: string, name: string, value: number): void {
    const key = `${experimentId}\u0000${arm}\u0000${name}`;
    const delta = this.pending.get(key);
    if (delta) delta.value += value;
    else this.pending.set(key, { experimentId, arm, name, value });
  }

  /** One answered (or failed: degraded = null) recommend request in these arms. */
  recordServed(arms: readonly { experimentId: string; variantId: string }[], latencyMs: number, degraded: readonly string[] | null): void {
    const outcome = outcomeOf(degraded);
    for (const { experimentId, variantId } of arms) {
      this.add(experimentId, variantId, 'requests', 1);
      if (outcome === 'error') this.add(experimentId, variantId, 'errors', 1);
      if (outcome === 'fallback') this.add(experimentId, variantId, 'fallbacks', 1);
      this.add(experimentId, variantId, latencyCounter(latencyBucket(latencyMs)), 1);
      this.labelled.add(`${experimentId}\u0000${variantId}`);
      this.metrics.experimentRequests.inc({ experiment: experimentId, variant: variantId, outcome });
      this.metrics.experimentDuration.observe({ experiment: experimentId, variant: variantId }, latencyMs / 1000);
    }
  }

  recordShadow(line: ShadowLog): void {
    const id = line.experimentId;
    this.add(id, SHADOW_ARM, 'comparisons', 1);
    this.add(id, SHADOW_ARM, `served_${latencyCounter(latencyBucket(line.servedLatencyMs))}`, 1);
    this.add(id, SHADOW_ARM, `shadow_${latencyCounter(latencyBucket(line.shadowLatencyMs))}`, 1);
    this.shadowLabelled.add(id);
    this.metrics.shadowComparisons.inc({ experiment: id, result: line.error ? 'error' : 'ok' });
    if (line.error) {
      this.add(id, SHADOW_ARM, 'errors', 1);
      return;
    }
    this.add(id, SHADOW_ARM, 'overlap_sum', line.overlap);
    this.add(id, SHADOW_ARM, 'overlap_sq', line.overlap * line.overlap);
    if (line.rankCorrelation !== null) {
      this.add(id, SHADOW_ARM, 'tau_sum', line.rankCorrelation);
      this.add(id, SHADOW_ARM, 'tau_n', 1);
    }
    this.metrics.shadowOverlap.observe({ experiment: id }, line.overlap);
  }

  /** The deltas since the last take; give them back with putBack when they could not be stored. */
  take(): CounterDelta[] {
    const out = [...this.pending.values()];
    this.pending = new Map();
    return out;
  }

  putBack(deltas: readonly CounterDelta[]): void {
    for (const d of deltas) this.add(d.experimentId, d.arm, d.name, d.value);
  }

  /** Drops the Prometheus series of variants no longer running, keeping the label set bounded. */
  retain(experiments: readonly Experiment[]): void {
    const live = new Set(experiments.filter((e) => e.enabled).flatMap((e) => e.variants.map((v) => `${e.id}\u0000${v.id}`)));
    for (const key of this.labelled) {
      if (live.has(key)) continue;
      const [experiment = '', variant = ''] = key.split('\u0000');
      for (const outcome of ['ok', 'fallback', 'error']) this.metrics.experimentRequests.remove({ experiment, variant, outcome });
      this.metrics.experimentDuration.remove({ experiment, variant });
      this.labelled.delete(key);
    }
    const liveShadows = new Set(experiments.filter((e) => e.enabled && e.shadow).map((e) => e.id));
    for (const experiment of this.shadowLabelled) {
      if (liveShadows.has(experiment)) continue;
      this.metrics.shadowOverlap.remove({ experiment });
      for (const result of ['ok', 'error']) this.metrics.shadowComparisons.remove({ experiment, result });
      this.shadowLabelled.delete(experiment);
    }
  }
}

/** Latency histogram (non-cumulative, with overflow) from stored counters with a name prefix. */
export function latencyCounts(counters: ReadonlyMap<string, number> | undefined, prefix = ''): number[] {
  return Array.from({ length: LATENCY_BUCKETS_MS.length + 1 }, (_, i) => counters?.get(`${prefix}${latencyCounter(i)}`) ?? 0);
}

export interface CounterFlusher {
  /** Adds the pending deltas to Postgres now; on failure they stay pending and the error is thrown. */
  flush(): Promise<void>;
  /** Stops the timer after a last flush (errors logged). */
  stop(): Promise<void>;
}

export function startFlushing(counters: ExperimentCounters, database: DatabaseHandle, everyMs: number, log: (line: Record<string, unknown>) => void): CounterFlusher {
  let chain: Promise<void> = Promise.resolve();
  // Flushes run one after another so two never add the same deltas.
  const flush = (): Promise<void> => {
    const run = chain.then(async () => {
      const deltas = counters.take();
      if (deltas.length === 0) return;
      try {
        await addCounters(await database.get(), deltas);
      } catch (error) {
        counters.putBack(deltas);
        throw error;
      }
    });
    chain = run.catch(() => undefined);
    return run;
  };
  const timer = setInterval(() => {
    flush().catch((error: unknown) => log({ component: 'experiment-counters', level: 'warn', error: error instanceof Error ? error.message : String(error) }));
  }, everyMs);
  timer.unref();
  return {
    flush,
    stop: async () => {
      clearInterval(timer);
      await flush().catch((error: unknown) => log({ component: 'experiment-counters', level: 'warn', error: error instanceof Error ? error.message : String(error) }));
    },
  };
}
