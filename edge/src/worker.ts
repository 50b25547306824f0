/**
 * The edge worker (Hono on Cloudflare Workers), built around one session-reranker runtime (index.ts: the
 * default onnxruntime-web build; index.free.ts: the plain-TypeScript build for the Workers Free plan).
 *   GET  /v1/recommendations  slates from KV + session rerank, origin fallback (routes/recommendations.ts)
 *   POST /v1/events           beacons → EVENTS queue (routes/events.ts); the queue consumer → origin
 *   /v1/admin/dead-letters    operator: inspect / replay / discard undeliverable batches (routes/admin.ts)
 *   GET  /widget.js           the <reco-slate> web component
 *   GET  /demo, /img/<id>.svg the demo shop page and placeholder images
 *   GET  /healthz, /v1/stats  liveness and per-isolate counters
 * queue(): EVENTS → origin (event-forwarder.ts); the dead-letter queue → DEAD_LETTERS KV (dead-letters.ts).
 */
import { Hono } from 'hono';
import { count, snapshot } from './counters.ts';
import { storeDeadLetters } from './dead-letters.ts';
import { demoPage, placeholderImage } from './demo-page.ts';
import { configFrom, type Env } from './env.ts';
import { forwardQueuedEvents } from './event-forwarder.ts';
import { WIDGET_JS } from './generated/widget.ts';
import type { RerankerRuntime } from './rerank/runtime.ts';
import { registerAdmin } from './routes/admin.ts';
import { registerEvents } from './routes/events.ts';
import { registerRecommendations } from './routes/recommendations.ts';

export function createWorker(runtime: RerankerRuntime): ExportedHandler<Env> {
  const app = new Hono<{ Bindings: Env }>();
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/v1/stats', (c) => c.json({ reranker: runtime.name, counters: snapshot() }));
  registerRecommendations(app, runtime);
  registerEvents(app);
  registerAdmin(app);
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
      return c.json({ items: [], modelVersion: 'none', slateVersion: null, servedBy: 'edge', path: 'popular-fallback', degraded: ['edge-error'], variant: null, latencyMs: 0, requestId: crypto.randomUUID() }, 200, { 'access-control-allow-origin': '*' });
    }
    return c.json({ error: 'internal', reasons: ['unexpected edge error'] }, 500);
  });

  return {
    fetch: app.fetch,
    async queue(batch, env) {
      if (batch.queue === env.DEAD_LETTER_QUEUE) {
        await storeDeadLetters(batch.messages, env.DEAD_LETTERS, Date.now);
        return;
      }
      const config = configFrom(env);
      await forwardQueuedEvents(batch.messages, {
        origin: { url: config.originUrl, timeoutMs: config.originTimeoutMs, apiKey: config.originApiKey },
        deadLetter: async (message) => {
          await env.EVENTS_DLQ.send(message, { contentType: 'json' });
        },
        now: Date.now,
      });
    },
  };
}
