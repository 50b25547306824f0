/**
 * GET /v1/recommendations (and its CORS preflight). Identifies the visitor (a user only with a valid
 * X-User-Token from an allowed page), runs the decision chain (recommend.ts), counts KV reads per request
 * (response header X-KV-Reads, /v1/stats, the request log line) and, with CPU_TIMING=on, reports the
 * isolate's compute time in Server-Timing (meter.ts says when that figure is meaningful).
 */
import type { Hono } from 'hono';
import { EdgeRecommendQuerySchema } from '../../../shared/contracts/recommend.ts';
import { EDGE_RERANK_GATE_FILE, EDGE_RERANKER_FILE, modelFileKey } from '../../../shared/kv/keys.ts';
import { count } from '../counters.ts';
import { configFrom, type Env } from '../env.ts';
import { BUNDLED_MODEL_VERSION, BUNDLED_RERANK_GATE } from '../generated/model.ts';
import { DEFAULT_RERANK_GATE, RerankGateSchema, type RerankGate } from '../../../shared/contracts/rerank-gate.ts';
import bundledReranker from '../generated/session_reranker.onnx';
import { reasonsOf } from '../http.ts';
import { identifyVisitor, recommendationCors, recommendationPreflight } from '../identity.ts';
import { MeteredKv, RequestMeter } from '../meter.ts';
import { recommendAtEdge } from '../recommend.ts';
import { scorerFor, type PublishedReranker, type RerankerRuntime } from '../rerank/runtime.ts';

/**
 * Reranker bytes for a model version: published to KV by the nightly job, else the bundled one if it matches;
 * null when the version's gate is off (its evaluation found the rerank did not help: slates keep their order).
 * Read once per version per isolate (scorerFor caches the result).
 */
async function loadReranker(kv: MeteredKv, modelVersion: string): Promise<PublishedReranker | null> {
  const [published, gateBytes] = await Promise.all([
    kv.bytes(modelFileKey(modelVersion, EDGE_RERANKER_FILE), 3600),
    kv.bytes(modelFileKey(modelVersion, EDGE_RERANK_GATE_FILE), 3600),
  ]);
  const bundled = modelVersion === BUNDLED_MODEL_VERSION;
  const gate = gateBytes ? parseGate(gateBytes) : bundled ? BUNDLED_RERANK_GATE : DEFAULT_RERANK_GATE;
  if (gate.gate === 'off') return null;
  if (published) return { model: new Uint8Array(published), strength: gate.strength };
  if (bundled) return { model: new Uint8Array(bundledReranker), strength: gate.strength };
  throw new Error(`no session reranker for model version ${modelVersion}`);
}

/** A gate file that does not parse leaves the rerank on at full strength, as versions published before gates. */
function parseGate(bytes: ArrayBuffer): RerankGate {
  try {
    return RerankGateSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return DEFAULT_RERANK_GATE;
  }
}

function countReads(reads: number): void {
  count('kv.reads', reads);
  count(`kv.reads-per-request.${reads > 10 ? '11+' : reads}`);
}

export function registerRecommendations(app: Hono<{ Bindings: Env }>, runtime: RerankerRuntime): void {
  app.options('/v1/recommendations', (c) => {
    const config = configFrom(c.env);
    return c.body(null, 204, recommendationPreflight(c.req.header('origin'), config.allowedOrigins));
  });

  app.get('/v1/recommendations', async (c) => {
    const meter = new RequestMeter();
    const parsed = EdgeRecommendQuerySchema.safeParse(c.req.query());
    if (!parsed.success) {
      count('recommend.bad-request');
      return c.json({ error: 'bad_request', reasons: reasonsOf(parsed.error) }, 400, { 'access-control-allow-origin': '*' });
    }
    const config = configFrom(c.env);
    const origin = c.req.header('origin');
    const visitor = await identifyVisitor({ user: parsed.data.user, token: c.req.header('x-user-token'), origin }, config, Date.now());
    const degraded: string[] = visitor.kind === 'anonymous' && visitor.because ? [visitor.because] : [];
    const query = visitor.kind === 'user' ? parsed.data : { ...parsed.data, user: undefined };
    const kv = new MeteredKv(c.env.SLATES, meter);
    const created: { ms: number | null } = { ms: null };
    const answer = await recommendAtEdge(
      query,
      {
        kv,
        origin: { url: config.originUrl, timeoutMs: config.originTimeoutMs, apiKey: config.originApiKey },
        slateMaxAgeMs: config.slateMaxAgeMs,
        cache: { freshMs: config.cacheFreshMs, waitUntil: (p) => c.executionCtx.waitUntil(p) },
        isolateCacheMs: config.isolateCacheMs,
        rerankCandidates: config.rerankCandidates,
        reranker: async (version) => {
          const { handle, created: fresh } = scorerFor(runtime, version, () => loadReranker(kv, version));
          const ready = await meter.io(handle);
          if (fresh) created.ms = ready.createMs;
          return ready;
        },
        now: Date.now,
        requestId: crypto.randomUUID(),
      },
      degraded,
    );
    count(`path.${answer.path}`);
    for (const reason of answer.degraded) count(`degraded.${reason}`);
    countReads(meter.kvReads);
    const body = JSON.stringify(answer);
    const computeMs = meter.computeMs();
    console.log(JSON.stringify({ event: 'recommend', path: answer.path, degraded: answer.degraded, items: answer.items.length, kvReads: meter.kvReads }));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'cache-control': 'private, no-store',
      'x-kv-reads': String(meter.kvReads),
      ...recommendationCors(visitor, origin),
    };
    if (config.cpuTiming === 'on') {
      // The session creation happened inside the I/O wait of the request that triggered it: reported apart.
      const create = created.ms === null ? '' : `, session-create;dur=${created.ms.toFixed(3)}`;
      headers['server-timing'] = `compute;dur=${computeMs.toFixed(3)}, io;dur=${meter.waitedMs().toFixed(3)}${create}`;
      headers['access-control-expose-headers'] = 'server-timing, x-kv-reads';
    }
    return c.body(body, 200, headers);
  });
}
