/**
 * /v1/experiments (API key): create, list, read, pause, resume, stop; results as JSON, as an HTML report
 * (text with ?format=text, what the CLI prints) and the canary evaluation. Bodies are validated by zod and
 * every refusal names the field; a change is in force on this origin when the answer leaves and on the
 * others within a NOTIFY round trip.
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { OriginDeps } from '../deps.ts';
import { ExperimentCreateSchema } from '../experiments/definitions.ts';
import { renderExperimentHtml } from '../experiments/report-html.ts';
import { renderExperimentText } from '../experiments/report-text.ts';
import { ExperimentError, type ExperimentService } from '../experiments/service.ts';
import { requireApiKey } from '../http/api-key.ts';
import { readJsonBody } from '../http/json-body.ts';
import { problem, reasonsOf } from '../http/problems.ts';
import { DatabaseUnavailableError } from '../../adapters/postgres/database.ts';

const IdParamSchema = z.string().min(1).max(64).regex(/^[\w.-]+$/, 'letters, digits, _ . - only');
const ReasonSchema = z.object({ reason: z.string().max(500).optional() }).strict();
const ReportQuerySchema = z.object({ format: z.enum(['html', 'text']).default('html') }).strict();
const EvaluateQuerySchema = z.object({ apply: z.enum(['true', 'false']).default('false') }).strict();

export function registerExperiments(app: Hono, deps: OriginDeps, service: ExperimentService): void {
  const auth = requireApiKey(deps.config.API_KEYS);
  const retry = { 'Retry-After': String(deps.config.RETRY_AFTER_SECONDS) };

  /** Maps the service's and the database's errors onto answers; anything else is the app's 500. */
  const guarded = (handler: (c: Context) => Promise<Response>) => async (c: Context): Promise<Response> => {
    try {
      return await handler(c);
    } catch (error) {
      if (error instanceof ExperimentError) return problem(c, error.status, error.message, error.reasons.length > 0 ? error.reasons : undefined, error.status === 503 ? retry : {});
      if (error instanceof DatabaseUnavailableError) return problem(c, 503, 'database unavailable', undefined, retry);
      throw error;
    }
  };
  const idOf = (c: Context): { ok: true; id: string } | { ok: false; response: Response } => {
    const parsed = IdParamSchema.safeParse(c.req.param('id'));
    return parsed.success ? { ok: true, id: parsed.data } : { ok: false, response: problem(c, 400, 'invalid experiment id', parsed.error.issues.map((i) => `id: ${i.message}`)) };
  };

  app.get('/v1/experiments', auth, guarded(async (c) => c.json({ experiments: await service.list() })));

  app.post('/v1/experiments', auth, guarded(async (c) => {
    const body = await readJsonBody(c, ExperimentCreateSchema);
    if (!body.ok) return problem(c, body.status, body.error, body.reasons);
    const { status, ...definition } = body.value;
    const experiment = await service.create({ ...definition, enabled: true }, status);
    return c.json({ experiment }, 201);
  }));

  app.get('/v1/experiments/:id', auth, guarded(async (c) => {
    const id = idOf(c);
    if (!id.ok) return id.response;
    return c.json(await service.get(id.id));
  }));

  for (const action of ['pause', 'resume', 'stop'] as const) {
    app.post(`/v1/experiments/:id/${action}`, auth, guarded(async (c) => {
      const id = idOf(c);
      if (!id.ok) return id.response;
      let reason: string | undefined;
      if ((c.req.header('content-length') ?? '0') !== '0' || c.req.header('content-type')) {
        const body = await readJsonBody(c, ReasonSchema);
        if (!body.ok) return problem(c, body.status, body.error, body.reasons);
        reason = body.value.reason;
      }
      const experiment = await service.change(id.id, action, reason ? { reason } : {});
      return c.json({ experiment });
    }));
  }

  app.get('/v1/experiments/:id/results', auth, guarded(async (c) => {
    const id = idOf(c);
    if (!id.ok) return id.response;
    return c.json(await service.report(id.id));
  }));

  app.get('/v1/experiments/:id/report', auth, guarded(async (c) => {
    const id = idOf(c);
    if (!id.ok) return id.response;
    const query = ReportQuerySchema.safeParse(c.req.query());
    if (!query.success) return problem(c, 400, 'invalid query', reasonsOf(query.error));
    const report = await service.report(id.id);
    c.header('cache-control', 'no-store');
    if (query.data.format === 'text') return c.text(renderExperimentText(report));
    // The report is self-contained: no script, inline SVG only; a strict CSP keeps it that way.
    c.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    return c.html(renderExperimentHtml(report));
  }));

  app.post('/v1/experiments/:id/evaluate', auth, guarded(async (c) => {
    const id = idOf(c);
    if (!id.ok) return id.response;
    const query = EvaluateQuerySchema.safeParse(c.req.query());
    if (!query.success) return problem(c, 400, 'invalid query', reasonsOf(query.error));
    // An operator asking to apply overrides autoApply=false: that is what the switch is for.
    const apply = query.data.apply === 'true';
    return c.json(await service.evaluateCanary(id.id, { apply, force: apply, actor: 'api' }));
  }));
}
