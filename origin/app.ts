/**
 * createOriginApp(deps): the origin's Hono app. Cross-cutting concerns in order: latency metrics, body size
 * limit, rate limiting on /v1/*, then the routes. Every error body is JSON with a reason.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { routePath } from 'hono/route';
import type { OriginDeps } from './deps.ts';
import { problem } from './http/problems.ts';
import { rateLimit } from './http/rate-limit.ts';
import { InProcessRateLimiter } from '../adapters/memory/rate-limiter.ts';
import { openApiDocument } from './openapi.ts';
import { registerEvents } from './routes/events.ts';
import { registerExperiments } from './routes/experiments.ts';
import { registerExport } from './routes/export.ts';
import { registerHealth } from './routes/health.ts';
import { registerItems } from './routes/items.ts';
import { registerRecommend } from './routes/recommend.ts';
import { registerUsers } from './routes/users.ts';

export function createOriginApp(deps: OriginDeps): Hono {
  const app = new Hono();
  const { metrics, config } = deps;
  const log = deps.log ?? (() => undefined);
  const limiter = deps.rateLimiter ?? new InProcessRateLimiter({ ratePerSecond: config.RATE_LIMIT_RPS, burst: config.RATE_LIMIT_BURST });

  app.use('*', async (c, next) => {
    const started = performance.now();
    if (deps.worker !== undefined) c.header('x-origin-worker', String(deps.worker));
    await next();
    metrics.httpDuration.observe({ method: c.req.method, route: routePath(c) || 'unmatched', status: String(c.res.status) }, (performance.now() - started) / 1000);
  });
  app.use('/v1/*', bodyLimit({ maxSize: config.BODY_LIMIT_BYTES, onError: (c) => problem(c, 413, `body larger than ${config.BODY_LIMIT_BYTES} bytes`) }));
  app.use('/v1/*', rateLimit(limiter, metrics, { trustProxy: config.TRUST_PROXY, apiKeys: config.API_KEYS }));

  registerRecommend(app, deps);
  registerEvents(app, deps);
  registerExport(app, deps);
  registerUsers(app, deps);
  registerItems(app, deps);
  registerExperiments(app, deps, deps.experimentService);
  registerHealth(app, deps);
  // Built once: `servers` names PUBLIC_URL when set, never the request's Host header (which a client chooses).
  const openApi = openApiDocument(config.PUBLIC_URL);
  app.get('/openapi.json', (c) => c.json(openApi));

  app.notFound((c) => problem(c, 404, `no route for ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    log({ component: 'http', level: 'error', path: c.req.path, error: error.message });
    return problem(c, 500, 'internal error');
  });
  return app;
}
