/**
 * Prometheus metrics (prom-client) on a registry owned by the app instance, so tests and several apps in
 * one process don't collide: request latency per route, per pipeline stage, feature lookups, fallbacks,
 * event ingestion outcomes, rate limiting, the model version served, and per experiment variant the
 * guardrails (outcomes, latency) and shadow overlap. Variant labels only come from running experiments
 * (at most MAX_RUNNING_EXPERIMENTS × MAX_VARIANTS series; series of stopped ones are removed).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export interface OriginMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  stageDuration: Histogram<'stage'>;
  pipelineBatchSize: Histogram;
  featureLookups: Counter<'result'>;
  itemStatsLookups: Counter<'result'>;
  fallbacks: Counter<'reason'>;
  served: Counter<'source' | 'variant'>;
  events: Counter<'result'>;
  rateLimited: Counter<'kind'>;
  modelVersion: Gauge<'version'>;
  experimentRequests: Counter<'experiment' | 'variant' | 'outcome'>;
  experimentDuration: Histogram<'experiment' | 'variant'>;
  shadowOverlap: Histogram<'experiment'>;
  shadowComparisons: Counter<'experiment' | 'result'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): OriginMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpDuration: new Histogram({ name: 'origin_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['method', 'route', 'status'], buckets: LATENCY_BUCKETS, registers }),
    stageDuration: new Histogram({ name: 'origin_recommend_stage_duration_seconds', help: 'Recommend latency per stage (features, experiments, pipeline stages)', labelNames: ['stage'], buckets: LATENCY_BUCKETS, registers }),
    pipelineBatchSize: new Histogram({ name: 'origin_pipeline_batch_size', help: 'Concurrent recommend requests served by one pipeline run (one user-tower run, one ANN scan, one DLRM run)', buckets: [1, 2, 4, 8, 16, 32, 64], registers }),
    featureLookups: new Counter({ name: 'origin_feature_lookups_total', help: 'Feature store reads: hit (state found), miss (empty), error (store unavailable)', labelNames: ['result'], registers }),
    itemStatsLookups: new Counter({ name: 'origin_item_stats_lookups_total', help: "Exploration's item click stats: hit (the process cache), miss (read from the feature store)", labelNames: ['result'], registers }),
    fallbacks: new Counter({ name: 'origin_fallbacks_total', help: 'Degraded answers by reason (redis-unavailable, ann-failed, ...)', labelNames: ['reason'], registers }),
    served: new Counter({ name: 'origin_recommendations_total', help: 'Answers by candidate source and experiment variant', labelNames: ['source', 'variant'], registers }),
    events: new Counter({ name: 'origin_events_total', help: 'Ingested events: accepted, duplicate, rejected (db unavailable), feature-store-failed', labelNames: ['result'], registers }),
    rateLimited: new Counter({ name: 'origin_rate_limited_total', help: 'Requests refused with 429, by client kind', labelNames: ['kind'], registers }),
    modelVersion: new Gauge({ name: 'origin_model_version_info', help: 'Model version served (value 1; across cluster workers, every version some worker serves)', labelNames: ['version'], aggregator: 'max', registers }),
    experimentRequests: new Counter({ name: 'origin_experiment_requests_total', help: 'Recommend requests per running experiment variant: ok, fallback (degraded by a fault), error (503)', labelNames: ['experiment', 'variant', 'outcome'], registers }),
    experimentDuration: new Histogram({ name: 'origin_experiment_request_duration_seconds', help: 'Recommend latency per running experiment variant', labelNames: ['experiment', 'variant'], buckets: LATENCY_BUCKETS, registers }),
    shadowOverlap: new Histogram({ name: 'origin_shadow_overlap_ratio', help: 'overlap@k of the shadow slate with the served one', labelNames: ['experiment'], buckets: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], registers }),
    shadowComparisons: new Counter({ name: 'origin_shadow_comparisons_total', help: 'Shadow runs: ok or error', labelNames: ['experiment', 'result'], registers }),
  };
}

/** Keeps exactly one version label at 1. */
export function setModelVersion(metrics: OriginMetrics, version: string): void {
  metrics.modelVersion.reset();
  metrics.modelVersion.set({ version }, 1);
}

/** The item-stats cache's lookups as origin_item_stats_lookups_total (adapters/memory/item-stats-cache.ts). */
export function countItemStatsLookups(metrics: OriginMetrics): (hits: number, misses: number) => void {
  return (hits, misses) => {
    if (hits > 0) metrics.itemStatsLookups.inc({ result: 'hit' }, hits);
    if (misses > 0) metrics.itemStatsLookups.inc({ result: 'miss' }, misses);
  };
}
