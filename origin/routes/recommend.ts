/**
 * POST /v1/recommend: who may be answered for (a userId only with a user token or an API key, see
 * http/user-identity.ts), features from the store (degrading without them), experiment assignment, the
 * pipeline, and an answer that is checked against the shared contract before it leaves.
 */
import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { RecommendRequestSchema, RecommendResponseSchema, type RecommendResponse } from '../../shared/contracts/recommend.ts';
import type { OriginDeps } from '../deps.ts';
import { assignAll } from '../experiments/assign.ts';
import { recommendWithExperiments } from '../experiments/shadow.ts';
import { buildPipelineRequest } from '../../core/request/build-request.ts';
import { visitorFeatures } from '../../core/request/visitor-features.ts';
import { readJsonBody } from '../http/json-body.ts';
import { problem } from '../http/problems.ts';
import { provenUserId } from '../http/user-identity.ts';

export function registerRecommend(app: Hono, deps: OriginDeps): void {
  const { metrics, catalog } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => undefined);
  app.post('/v1/recommend', async (c) => {
    const started = performance.now();
    const body = await readJsonBody(c, RecommendRequestSchema);
    if (!body.ok) return problem(c, body.status, body.error, body.reasons);
    const proof = await provenUserId(body.value.userId, (name) => c.req.header(name), deps.config, now());
    const request = { ...body.value, userId: proof.userId };
    const requestId = c.req.header('x-request-id')?.slice(0, 64) ?? randomUUID();

    const featuresStarted = performance.now();
    const features = await visitorFeatures(deps.featureStore, request, deps.config.REDIS_COMMAND_TIMEOUT_MS + 100);
    metrics.stageDuration.observe({ stage: 'feature_store' }, (performance.now() - featuresStarted) / 1000);
    metrics.featureLookups.inc({ result: features.lookup });

    // Unknown ids from the widget (items since removed from the catalogue) are ignored, not an error.
    const known = (id: string): boolean => catalog.size === 0 || catalog.get(id) !== undefined;
    const pipelineRequest = buildPipelineRequest(
      { userId: request.userId, sessionId: request.sessionId, segment: request.segment ?? features.segment, history: features.history, purchased: features.purchased, storedSessionItems: features.storedSessionItems, requestSessionItems: request.sessionItemIds.filter(known), excludeIds: request.excludeIds },
      { surface: request.surface, k: request.k, now: now() },
    );

    const experiments = deps.experiments.current();
    const assignment = assignAll(experiments, request, request.surface);
    let result;
    try {
      result = await recommendWithExperiments(
        deps.pipeline,
        experiments,
        pipelineRequest,
        (line) => {
          log({ component: 'experiments', ...line });
          deps.experimentCounters.recordShadow(line);
        },
        assignment,
      );
    } catch (error) {
      deps.experimentCounters.recordServed(assignment.arms, performance.now() - started, null);
      metrics.fallbacks.inc({ reason: 'pipeline-failed' });
      log({ component: 'recommend', level: 'error', requestId, error: error instanceof Error ? error.message : String(error) });
      return problem(c, 503, 'recommendation pipeline unavailable', undefined, { 'Retry-After': String(deps.config.RETRY_AFTER_SECONDS) });
    }
    for (const [stage, ms] of Object.entries(result.stageMs)) metrics.stageDuration.observe({ stage }, ms / 1000);
    const degraded = [...new Set([...proof.degraded, ...features.degraded, ...result.degraded])];
    for (const reason of degraded) metrics.fallbacks.inc({ reason });
    metrics.served.inc({ source: result.source, variant: result.variant ?? 'none' });
    deps.experimentCounters.recordServed(assignment.arms, performance.now() - started, degraded);

    const response: RecommendResponse = RecommendResponseSchema.parse({
      items: result.items.slice(0, request.k),
      modelVersion: result.modelVersion,
      slateVersion: null,
      servedBy: 'origin',
      path: 'origin',
      degraded,
      variant: result.variant,
      latencyMs: performance.now() - started,
      requestId,
    });
    c.header('x-request-id', requestId);
    return c.json(response);
  });
}
