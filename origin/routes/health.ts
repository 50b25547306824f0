/**
 * /healthz: the process answers. /readyz: a model is loaded and Postgres answers (the feature store is
 * reported but optional: without it the service degrades instead of failing), with the ONNX providers in use. /metrics: Prometheus text (under ORIGIN_WORKERS, all workers
 * aggregated by the cluster's primary).
 */
import type { Hono } from 'hono';
import type { OriginDeps } from '../deps.ts';
import { withTimeout } from '../../shared/util/timeout.ts';

export function registerHealth(app: Hono, deps: OriginDeps): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const [database, featureStore] = await Promise.all([
      withTimeout(deps.database.ping(), 2000).catch(() => false),
      withTimeout(deps.featureStore.ping(), 2000).catch(() => false),
    ]);
    const modelVersion = deps.pipeline.modelVersion;
    const ready = database && modelVersion !== '';
    // Which ONNX execution providers serve (ONNX_EXECUTION_PROVIDERS), so a GPU that fell back to CPU shows here, not
    // only in the log. Only the count of load warnings: their text (paths, database errors) stays in the log, as this route is public.
    const model = deps.modelStatus?.();
    const onnx = model ? { onnxProviders: model.providers, modelWarnings: model.warnings.length } : {};
    return c.json({ ready, modelVersion, ...onnx, database: database ? 'up' : 'down', featureStore: featureStore ? 'up' : 'down', catalogItems: deps.catalog.size }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    c.header('content-type', deps.metrics.registry.contentType);
    if (!deps.metricsText) return c.body(await deps.metrics.registry.metrics());
    try {
      return c.body(await deps.metricsText());
    } catch (error) {
      return c.json({ error: 'metrics_unavailable', reason: error instanceof Error ? error.message : String(error) }, 503);
    }
  });
}
