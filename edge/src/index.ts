/**
 * The edge worker (Hono on Cloudflare Workers). Routes:
 *   GET  /v1/recommendations  slates from KV + session rerank, origin fallback (see recommend.ts)
 *   POST /v1/events           widget beacons → origin (see events.ts)
 *   GET  /widget.js           the <reco-slate> web component
 *   GET  /demo, /img/<id>.svg the demo shop page and placeholder images
 *   GET  /healthz, /v1/stats  liveness and per-isolate serve-path counters
 */
import { Hono } from 'hono';
import { EventBatchSchema } from '../../shared/contracts/events.ts';
import { EdgeRecommendQuerySchema } from '../../shared/contracts/recommend.ts';
import { modelFileKey } from '../../shared/kv/keys.ts';
import { configFrom, type Env } from './env.ts';
import { count, snapshot } from './counters.ts';
import { demoPage, placeholderImage } from './demo-page.ts';
import { acceptEvents } from './events.ts';
import { BUNDLED_MODEL_VERSION } from './generated/model.ts';
import bundledReranker from './generated/session_reranker.onnx';
import { WIDGET_JS } from './generated/widget.ts';
import { recommendAtEdge } from './recommend.ts';

const MAX_EVENT_BODY_BYTES = 256 * 1024;
const app = new Hono<{ Bindings: Env }>();

/** Reranker bytes for a model version: published to KV by the nightly job, else the bundled one if it matches. */
async function loadReranker(kv: KVNamespace, modelVersion: string): Promise<Uint8Array> {
  const published = await kv.get(modelFileKey(modelVersion, 'session_reranker.onnx'), { type: 'arrayBuffer', cacheTtl: 3600 });
  if (published) return new Uint8Array(published);
  if (modelVersion === BUNDLED_MODEL_VERSION) return new Uint8Array(bundledReranker);
  throw new Error(`no session reranker for model version ${modelVersion}`);
}

/** The same error body as the origin's: `{error, reasons: ["path: message", …]}`. */
function reasonsOf(error: { issues: { path: PropertyKey[]; message: string }[] }): string[] {
  return error.issues.slice(0, 20).map((i) => `${i.path.map(String).join('.') || '(request)'}: ${i.message}`);
}

app.get('/healthz', (c) => c.json({ ok: true }));
app.get('/v1/stats', (c) => c.json(snapshot()));

app.get('/v1/recommendations', async (c) => {
  const parsed = EdgeRecommendQuerySchema.safeParse(c.req.query());
  if (!parsed.success) {
    count('recommend.bad-request');
    return c.json({ error: 'bad_request', reasons: reasonsOf(parsed.error) }, 400);
  }
  const config = configFrom(c.env);
  const answer = await recommendAtEdge(parsed.data, {
    kv: c.env.SLATES,
    origin: { url: config.originUrl, timeoutMs: config.originTimeoutMs, apiKey: config.originApiKey },
    slateMaxAgeMs: config.slateMaxAgeMs,
    cache: { freshMs: config.cacheFreshMs, waitUntil: (p) => c.executionCtx.waitUntil(p) },
    loadReranker: (version) => loadReranker(c.env.SLATES, version),
    now: Date.now,
    requestId: crypto.randomUUID(),
  });
  count(`path.${answer.path}`);
  for (const reason of answer.degraded) count(`degraded.${reason}`);
  console.log(JSON.stringify({ event: 'recommend', path: answer.path, degraded: answer.degraded, items: answer.items.length }));
  c.header('cache-control', 'private, no-store');
  c.header('access-control-allow-origin', '*');
  return c.json(answer);
});

app.options('/v1/events', (c) => c.body(null, 204, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type' }));
app.post('/v1/events', async (c) => {
  c.header('access-control-allow-origin', '*');
  const length = Number(c.req.header('content-length') ?? 0);
  if (length > MAX_EVENT_BODY_BYTES) return c.json({ error: 'payload_too_large', reasons: [`body over ${MAX_EVENT_BODY_BYTES} bytes`] }, 413);
  const text = await c.req.text();
  if (text.length > MAX_EVENT_BODY_BYTES) return c.json({ error: 'payload_too_large', reasons: [`body over ${MAX_EVENT_BODY_BYTES} bytes`] }, 413);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return c.json({ error: 'bad_request', reasons: ['(body): not valid JSON'] }, 400);
  }
  const parsed = EventBatchSchema.safeParse(body);
  if (!parsed.success) {
    count('events.bad-request');
    return c.json({ error: 'bad_request', reasons: reasonsOf(parsed.error) }, 400);
  }
  const config = configFrom(c.env);
  const outcome = await acceptEvents({ url: config.originUrl, timeoutMs: config.originTimeoutMs, apiKey: config.originApiKey }, parsed.data, config.eventForwardBudgetMs, (p) => c.executionCtx.waitUntil(p));
  return c.json({ accepted: parsed.data.events.length, forwarded: outcome }, 202);
});

app.get('/widget.js', (c) => c.body(WIDGET_JS, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' }));
app.get('/img/:file', (c) => {
  const id = c.req.param('file').replace(/\.svg$/, '');
  return c.body(placeholderImage(id), 200, { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400' });
});
app.get('/demo', (c) => c.html(demoPage(new URL(c.req.url).searchParams)));
app.get('/', (c) => c.redirect('/demo'));

app.onError((error, c) => {
  // Last line of defence: a bug must not surface as a 5xx to the widget; log it and answer empty.
  console.error(JSON.stringify({ event: 'unhandled', path: c.req.path, error: String(error) }));
  count('unhandled');
  if (c.req.path === '/v1/recommendations') {
    return c.json({ items: [], modelVersion: 'none', slateVersion: null, servedBy: 'edge', path: 'popular-fallback', degraded: ['edge-error'], variant: null, latencyMs: 0, requestId: crypto.randomUUID() });
  }
  return c.json({ error: 'internal', reasons: ['unexpected edge error'] }, 500);
});

export default app;
