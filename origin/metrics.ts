/**
 * Prometheus metrics (prom-client) on a registry owned by the app instance, so tests and several apps in
 * one process don't collide: request latency per route, per pipeline stage, feature lookups, fallbacks,
 * event ingestion outcomes, rate limiting, and the model version served.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export interface OriginMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  stageDuration: Histogram<'stage'>;
  featureLookups: Counter<'result'>;
  fallbacks: Counter<'reason'>;
  served: Counter<'source' | 'variant'>;
  events: Counter<'result'>;
  rateLimited: Counter<'kind'>;
  modelVersion: Gauge<'version'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): OriginMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpDuration: new Histogram({ name: 'origin_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['method', 'route', 'status'], buckets: LATENCY_BUCKETS, registers }),
    stageDuration: new Histogram({ name: 'origin_recommend_stage_duration_seconds', help: 'Recommend latency per stage (features, experiments, pipeline stages)', labelNames: ['stage'], buckets: LATENCY_BUCKETS, registers }),
    featureLookups: new Counter({ name: 'origin_feature_lookups_total', help: 'Feature store reads: hit (state found), miss (empty), error (store unavailable)', labelNames: ['result'], registers }),
    fallbacks: new Counter({ name: 'origin_fallbacks_total', help: 'Degraded answers by reason (redis-unavailable, ann-failed, ...)', labelNames: ['reason'], registers }),
    served: new Counter({ name: 'origin_recommendations_total', help: 'Answers by candidate source and experiment variant', labelNames: ['source', 'variant'], registers }),
    events: new Counter({ name: 'origin_events_total', help: 'Ingested events: accepted, duplicate, rejected (db unavailable), feature-store-failed', labelNames: ['result'], registers }),
    rateLimited: new Counter({ name: 'origin_rate_limited_total', help: 'Requests refused with 429, by client kind', labelNames: ['kind'], registers }),
    modelVersion: new Gauge({ name: 'origin_model_version_info', help: 'Model version served (value 1)', labelNames: ['version'], registers }),
  };
}

/** Keeps exactly one version label at 1. */
export function setModelVersion(metrics: OriginMetrics, version: string): void {
  metrics.modelVersion.reset();
  metrics.modelVersion.set({ version }, 1);
}
