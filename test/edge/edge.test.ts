/**
 * The edge worker in real workerd (wrangler dev): every serving path, rules, the WASM session rerank (with a
 * parity check against onnxruntime-node), the Cache API, KV reads per request (slates carry their cards;
 * price/stock changes applied within the isolate cache time), bad input and event forwarding through the
 * queue. Failure paths use a stand-in origin that answers slowly or with 500 — a failing dependency, which is
 * what is under test here; the real origin is exercised end to end in test/integration/thin-slice.test.ts.
 * Personal reads (user tokens, CORS) are tested in personal-reads.test.ts, the event queue's retries and dead
 * letters in event-queue.test.ts.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { EventBatchSchema } from '../../shared/contracts/events.ts';
import { rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecommendResponseSchema, type RecommendResponse } from '../../shared/contracts/recommend.ts';
import { blendSessionScores, encodeSessionRerank, itemFeaturesOf, sessionRerankFeeds } from '../../shared/features/encode.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import { EDGE_RERANK_GATE_FILE, EDGE_RERANKER_FILE, ITEM_CHANGES_KEY, modelFileKey, slateKey } from '../../shared/kv/keys.ts';
import { tempDir } from '../nightly/helpers.ts';
import { buildEdge, cardOf, MODEL_DIR, MODEL_VERSION, openKv, slateOf, space, startEdge, userToken, vectors, writeVersion, type RunningEdge } from './support.ts';

type Mode = 'ok' | 'slow' | 'error';
const origin = { mode: 'ok' as Mode, events: [] as unknown[], recommends: 0 };
const ORIGIN_ANSWER: RecommendResponse = {
  items: [{ id: 'i999', score: 0.5, reason: 'From the origin' }], modelVersion: MODEL_VERSION, slateVersion: null,
  servedBy: 'origin', path: 'origin', degraded: [], variant: null, latencyMs: 3, requestId: 'o-1',
};

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => resolve(data));
  });
}

const V = 'vtest1';
/** The session-rerank strength the fixture publishes for the served model version (its gate file). */
const STRENGTH = 0.5;
/** A model version whose published gate is off. */
const GATED_MODEL = 'm-gate-off';
const USER_SLATE = Array.from({ length: 30 }, (_, n) => `i${n + 1}`);
const ALL = [...USER_SLATE, 'i500', 'i501', 'i502', 'i600', 'i601'];
let standIn: Server;
let edge: RunningEdge;
let kv: KvWriter;
let persistTo = '';

type Answer = RecommendResponse & { error?: string; reasons?: string[] };

/** GET /v1/recommendations; `as` signs a user token for that user (as the site's backend would). */
async function get(query: string, as?: string): Promise<{ status: number; json: Answer; kvReads: number }> {
  const headers: Record<string, string> = as ? { 'x-user-token': await userToken(as) } : {};
  const response = await fetch(`${edge.url}/v1/recommendations?${query}`, { headers });
  return { status: response.status, json: (await response.json()) as Answer, kvReads: Number(response.headers.get('x-kv-reads')) };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}


/** The version every worker under test serves (the default build's and the Free plan build's). */
async function writeFixture(target: KvWriter): Promise<void> {
  const now = Date.now();
  await writeVersion(
    target,
    V,
    [
      [{ kind: 'user', id: 'u1' }, slateOf(V, USER_SLATE, now, 'Picked for you', { stock: { i3: 0 } })],
      [{ kind: 'user', id: 'ucardless' }, slateOf(V, USER_SLATE.slice(0, 6), now, 'Picked for you', { cards: false })],
      [{ kind: 'user', id: 'ustale' }, slateOf(V, ['i600', 'i601'], now - 10 * 86_400_000, 'Old pick')],
      [{ kind: 'segment', name: 'gamers' }, slateOf(V, ['i500', 'i501'], now, 'Popular with gamers')],
      [{ kind: 'popular' }, slateOf(V, ['i502', 'i501', 'i500'], now, 'Popular right now')],
      [{ kind: 'user', id: 'ugated' }, slateOf(V, USER_SLATE, now, 'Picked for you', { modelVersion: GATED_MODEL })],
    ],
    [...ALL, 'i200'].map((id) => [id, cardOf(id, id === 'i3' ? 0 : 5)]),
  );
  // As the nightly publishes them: the served version's gate (on, at a strength between the slate and the model),
  // and a second model version, the same reranker, whose evaluation turned the rerank off.
  const reranker = Buffer.from(readFileSync(join(MODEL_DIR, 'session_reranker.onnx'))).toString('base64');
  await target.putMany([
    { key: modelFileKey(MODEL_VERSION, EDGE_RERANK_GATE_FILE), value: Buffer.from(JSON.stringify({ gate: 'on', strength: STRENGTH })).toString('base64'), base64: true },
    { key: modelFileKey(GATED_MODEL, EDGE_RERANKER_FILE), value: reranker, base64: true },
    { key: modelFileKey(GATED_MODEL, EDGE_RERANK_GATE_FILE), value: Buffer.from(JSON.stringify({ gate: 'off', strength: 0 })).toString('base64'), base64: true },
  ]);
}

/**
 * The top 10 that onnxruntime-node gives for u1's slate reranked with `recent` (i3 is out of stock): the items'
 * features and session vectors from the feature space, the model's scores blended at the published strength.
 */
async function expectedRerank(recent: readonly string[]): Promise<{ id: string; score: number }[]> {
  const window = USER_SLATE.filter((id) => !recent.includes(id)).slice(0, 50);
  const feats = (id: string) => itemFeaturesOf(space, space.itemIndex(id), vectors);
  const input = encodeSessionRerank(window.map((id, rank) => ({ ...feats(id), score: 1 - rank / window.length })), recent.map(feats));
  expect(input.candVec.some((v) => v !== 0) && input.sessVec.some((v) => v !== 0), 'the slate and cards carry session vectors').toBe(true);
  const session = await ort.InferenceSession.create(join(MODEL_DIR, 'session_reranker.onnx'));
  const out = await session.run(sessionRerankFeeds<ort.Tensor>(input, {
    int64: (v, dims) => new ort.Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), dims),
    float32: (v, dims) => new ort.Tensor('float32', v, dims),
  }));
  const scores = blendSessionScores(out.scores!.data as Float32Array, input.candScore, STRENGTH);
  return window.map((id, k) => ({ id, score: scores[k]! })).filter((e) => e.id !== 'i3').sort((a, b) => b.score - a.score).slice(0, 10);
}

beforeAll(async () => {
  buildEdge();
  standIn = createServer(async (req, res) => {
    const text = await body(req);
    if (origin.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, 1500));
    if (origin.mode === 'error') {
      res.writeHead(500).end('{"error":"boom"}');
      return;
    }
    if (req.url === '/v1/events') origin.events.push(JSON.parse(text));
    if (req.url === '/v1/recommend') origin.recommends++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.url === '/v1/events' ? { accepted: 1, duplicates: 0 } : ORIGIN_ANSWER));
  });
  await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
  persistTo = await tempDir('edge-kv');
  kv = await openKv(persistTo);
  await writeFixture(kv);
  const { port } = standIn.address() as AddressInfo;
  edge = await startEdge(persistTo, { ORIGIN_URL: `http://127.0.0.1:${port}`, ORIGIN_TIMEOUT_MS: '300', CACHE_FRESH_SECONDS: '0', ISOLATE_CACHE_SECONDS: '1' });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
  await kv?.close();
  await new Promise((resolve) => standIn?.close(resolve));
  if (persistTo) await rm(persistTo, { recursive: true, force: true });
});

describe('edge worker in workerd', () => {
  it('serves a known user from their KV slate with the shared contract', async () => {
    origin.mode = 'ok';
    const { status, json } = await get('user=u1&k=5', 'u1');
    expect(status).toBe(200);
    expect(RecommendResponseSchema.parse(json)).toMatchObject({ servedBy: 'edge', path: 'kv-slate', slateVersion: V, modelVersion: MODEL_VERSION, degraded: [] });
    // i3 is out of stock (its card says so): skipped, the next one moves up.
    expect(json.items.map((i) => i.id)).toEqual(['i1', 'i2', 'i4', 'i5', 'i6']);
    expect(json.items[0]).toMatchObject({ title: 'Item i1', image: '/img/i1.svg', reason: 'Picked for you' });
  });

  it('reranks with the session model in WASM, equal to onnxruntime-node on the same inputs', async () => {
    const recent = ['i200', 'i17'];
    const { json } = await get(`user=u1&k=10&recent=${recent.join(',')}`, 'u1');
    expect(json.path).toBe('kv-slate');
    expect(json.degraded).toEqual([]);
    const ids = json.items.map((i) => i.id);
    expect(ids).not.toContain('i17'); // just viewed: never shown again
    expect(ids).not.toContain('i3'); // out of stock

    // Expected scores from onnxruntime-node for the same candidate window the edge reranked.
    const expected = await expectedRerank(recent);
    expect(ids).toEqual(expected.map((e) => e.id));
    json.items.forEach((item, k) => expect(item.score).toBeCloseTo(Math.round(expected[k]!.score * 1e4) / 1e4, 3));
    // The rerank changed the order (the test would pass vacuously otherwise).
    expect(ids).not.toEqual(USER_SLATE.filter((id) => id !== 'i17' && id !== 'i3').slice(0, 10));
  });

  it('keeps the slate order for a model version whose published gate is off (its evaluation found no gain)', async () => {
    const recent = ['i200', 'i17'];
    const { json } = await get(`user=ugated&k=10&recent=${recent.join(',')}`, 'ugated');
    expect(json).toMatchObject({ path: 'kv-slate', modelVersion: GATED_MODEL, degraded: [] });
    expect(json.items.map((i) => i.id)).toEqual(USER_SLATE.filter((id) => !recent.includes(id)).slice(0, 10));
  });

  it('answers anonymous visitors from the segment slate, else the popular slate', async () => {
    expect((await get('session=s1&segment=gamers&k=2')).json).toMatchObject({ path: 'kv-segment-slate', items: [{ id: 'i500' }, { id: 'i501' }] });
    expect((await get('session=s1&segment=nobody&k=1')).json).toMatchObject({ path: 'kv-popular-slate', items: [{ id: 'i502' }] });
    expect((await get('session=s1&k=3&exclude=i501')).json.items.map((i) => i.id)).toEqual(['i502', 'i500']);
  });

  it('asks the origin on a KV miss and passes its answer through', async () => {
    origin.mode = 'ok';
    const before = origin.recommends;
    const { json } = await get('user=unknown-user&k=3', 'unknown-user');
    expect(json).toMatchObject({ servedBy: 'origin', path: 'origin', items: [{ id: 'i999' }] });
    expect(origin.recommends).toBe(before + 1);
  });

  it('falls back to the popular slate when the origin times out or fails, flagged, never a 5xx', async () => {
    origin.mode = 'slow';
    const slow = await get('user=unknown-user&k=2', 'unknown-user');
    expect(slow.status).toBe(200);
    expect(slow.json).toMatchObject({ servedBy: 'edge', path: 'popular-fallback', degraded: ['origin-timeout'], items: [{ id: 'i502' }, { id: 'i501' }] });
    origin.mode = 'error';
    const failed = await get('user=unknown-user&k=2', 'unknown-user');
    expect(failed.json).toMatchObject({ path: 'popular-fallback', degraded: ['origin-error'] });
    origin.mode = 'ok';
  });

  it('serves a stale slate (flagged) only when the origin cannot answer', async () => {
    origin.mode = 'ok';
    const fresh = await get('user=ustale&k=2', 'ustale');
    expect(fresh.json).toMatchObject({ path: 'origin', degraded: ['stale-slate'] });
    origin.mode = 'error';
    const stale = await get('user=ustale&k=2', 'ustale');
    expect(stale.json).toMatchObject({ servedBy: 'edge', path: 'stale-slate', degraded: ['origin-error'], items: [{ id: 'i600' }, { id: 'i601' }] });
    origin.mode = 'ok';
  });

  it('serves shared slates through the Cache API with stale-while-revalidate', async () => {
    const key = slateKey(V, { kind: 'segment', name: 'gamers' });
    expect((await get('session=s2&segment=gamers&k=1')).json.items[0]?.id).toBe('i500');
    await kv.putMany([{ key, value: slateOf(V, ['i501', 'i500'], Date.now(), 'Popular with gamers') }]);
    // The cached copy answers first (stale), and its refresh runs after the answer.
    expect((await get('session=s2&segment=gamers&k=1')).json.items[0]?.id).toBe('i500');
    let latest = '';
    for (let attempt = 0; attempt < 20 && latest !== 'i501'; attempt++) {
      latest = (await get('session=s2&segment=gamers&k=1')).json.items[0]?.id ?? '';
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(latest).toBe('i501');
  });

  it('costs one KV read per request once warm: the slate carries its cards; older card-less slates still work', async () => {
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const reads: number[] = [];
    for (let n = 0; n < 11; n++) {
      const answer = await get('user=u1&k=8&recent=i2,i5', 'u1');
      expect(answer.json).toMatchObject({ path: 'kv-slate', degraded: [] });
      expect(answer.json.items).toHaveLength(8);
      expect(answer.json.items[0]).toMatchObject({ title: expect.stringMatching(/^Item i/), image: expect.stringMatching(/\.svg$/) });
      reads.push(answer.kvReads);
    }
    // The user's slate; the pointer and item changes come from isolate memory (re-read once per ISOLATE_CACHE_SECONDS).
    expect(median(reads)).toBe(1);
    // Anonymous visitors: the popular slate comes from the Cache API, not billed as a KV read; here
    // CACHE_FRESH_SECONDS=0 makes every answer refresh it in the background (one read), in production once a minute.
    const anonymous: number[] = [];
    for (let n = 0; n < 11; n++) anonymous.push((await get('session=s9&k=3')).kvReads);
    expect(median(anonymous)).toBeLessThanOrEqual(1);
    // A slate written before slates carried cards: one read per shortlisted item's card, same answer shape.
    const cardless = await get('user=ucardless&k=3', 'ucardless');
    expect(cardless.json.items.map((i) => i.id)).toEqual(['i1', 'i2', 'i4']); // i3's card says out of stock
    expect(cardless.json.items[0]?.title).toBe('Item i1');
    expect(cardless.kvReads).toBeGreaterThan(3);
    const stats = (await (await fetch(`${edge.url}/v1/stats`)).json()) as { counters: Record<string, number> };
    expect(stats.counters['kv.reads-per-request.1']).toBeGreaterThanOrEqual(1);
    expect(stats.counters['kv.reads']).toBeGreaterThan(0);
  });

  it('applies published price and stock changes within the isolate cache time (ISOLATE_CACHE_SECONDS=1 here)', async () => {
    const before = await get('user=u1&k=3', 'u1');
    expect(before.json.items.map((i) => i.id)).toEqual(['i1', 'i2', 'i4']);
    const newPrice = 1234.5;
    await kv.putMany([{ key: ITEM_CHANGES_KEY, value: JSON.stringify({ f: 1, items: { i1: { st: 0, at: Date.now() }, i2: { pr: newPrice, at: Date.now() } } }) }]);
    let after = before;
    await until(async () => {
      after = await get('user=u1&k=3', 'u1');
      return after.json.items[0]?.id !== 'i1';
    }, 5_000);
    expect(after.json.items.map((i) => i.id)).toEqual(['i2', 'i4', 'i5']); // i1 sold out since the nightly
    expect(after.json.items[0]?.price).toBe(newPrice);
    await kv.deleteMany([ITEM_CHANGES_KEY]);
    await until(async () => (await get('user=u1&k=3', 'u1')).json.items[0]?.id === 'i1', 5_000);
  });

  it('rejects malformed requests with 400 and a reason', async () => {
    for (const query of ['k=5', 'user=u1&k=0', 'user=u1&k=1000', "user=u1'%20or%201=1", 'user=u1&recent=a,,b', 'user=u1&bogus=1']) {
      const { status, json } = await get(query);
      expect(status, query).toBe(400);
      expect(json.error).toBe('bad_request');
      expect(json.reasons?.length).toBeGreaterThan(0);
    }
  });

  it('acknowledges valid beacons (202) once queued, forwards them to the origin; invalid ones get 400; a slow origin still receives them', async () => {
    origin.mode = 'ok';
    origin.events = [];
    const event = { eventId: 'e-edge-1', type: 'click', itemId: 'i1', sessionId: 's1', ts: Date.now() };
    const ok = await fetch(`${edge.url}/v1/events`, { method: 'POST', body: JSON.stringify({ events: [event] }), headers: { 'content-type': 'text/plain' } });
    expect(ok.status).toBe(202);
    expect(await ok.json()).toEqual({ accepted: 1, anonymised: 0, degraded: [], forwarded: 'queued' });
    await until(() => JSON.stringify(origin.events).includes('e-edge-1'));
    expect(origin.events).toEqual([{ events: [event] }]);

    const bad = await fetch(`${edge.url}/v1/events`, { method: 'POST', body: JSON.stringify({ events: [{ ...event, type: 'hover' }] }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { reasons: string[] }).reasons.join(' ')).toContain('type');
    expect((await fetch(`${edge.url}/v1/events`, { method: 'POST', body: '{not json' })).status).toBe(400);

    origin.mode = 'slow';
    const slowEvent = { ...event, eventId: 'e-edge-slow' };
    const queued = await fetch(`${edge.url}/v1/events`, { method: 'POST', body: JSON.stringify({ events: [slowEvent] }) });
    expect(queued.status).toBe(202);
    await until(() => JSON.stringify(origin.events).includes('e-edge-slow'));
    origin.mode = 'ok';
  });

  it('serves the widget script and the demo page', async () => {
    const widget = await fetch(`${edge.url}/widget.js`);
    expect(widget.headers.get('content-type')).toContain('javascript');
    expect(await widget.text()).toContain('reco-slate');
    expect(await (await fetch(`${edge.url}/demo`)).text()).toContain('<reco-slate');
    expect((await fetch(`${edge.url}/img/i1.svg`)).headers.get('content-type')).toBe('image/svg+xml');
  });

  it('answers random query strings with 200 or a 400 with a reason, never a 5xx (fuzz)', async () => {
    const value = fc.oneof(fc.string({ maxLength: 40 }), fc.integer().map(String), fc.constantFrom('', 'u1', 'i1,i2', '0', '-1', '1e9', "' OR 1=1 --", '%00', '<script>', 'ü', 'a'.repeat(500)));
    const key = fc.constantFrom('user', 'session', 'k', 'recent', 'exclude', 'segment', 'surface', 'x', '__proto__');
    await fc.assert(
      fc.asyncProperty(fc.dictionary(key, value, { maxKeys: 5 }), async (params) => {
        const response = await fetch(`${edge.url}/v1/recommendations?${new URLSearchParams(params)}`);
        const json = (await response.json()) as { reasons?: string[]; path?: string };
        expect([200, 400]).toContain(response.status);
        if (response.status === 400) expect(json.reasons?.length).toBeGreaterThan(0);
        else expect(json.path).toBeTruthy();
      }),
      { numRuns: 120 },
    );
  });

  it('answers random event bodies with 202 or a 4xx with a reason, and forwards only valid events (fuzz)', async () => {
    origin.mode = 'ok';
    origin.events = [];
    const event = fc.record({
      eventId: fc.oneof(fc.string({ maxLength: 70 }), fc.uuid()),
      type: fc.constantFrom('view', 'click', 'impression', 'purchase', 'hover', ''),
      itemId: fc.oneof(fc.constantFrom('i1', 'i2'), fc.string({ maxLength: 10 })),
      sessionId: fc.oneof(fc.constant('s1'), fc.string({ maxLength: 5 })),
      ts: fc.oneof(fc.integer({ min: 1, max: 2 ** 41 }), fc.double()),
    }, { requiredKeys: [] });
    const body = fc.oneof(
      fc.record({ events: fc.array(event, { maxLength: 5 }) }).map((b) => JSON.stringify(b)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const response = await fetch(`${edge.url}/v1/events`, { method: 'POST', body: text });
        expect(response.status === 202 || (response.status >= 400 && response.status < 500)).toBe(true);
        if (response.status !== 202) expect(((await response.json()) as { reasons?: string[] }).reasons?.length).toBeGreaterThan(0);
        else await response.text();
      }),
      { numRuns: 150 },
    );
    // Whatever reached the origin (forwarded by the queue consumer, possibly merged) is a valid batch.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (const batch of origin.events) expect(EventBatchSchema.safeParse(batch).success).toBe(true);
  });
});

describe('the Workers Free plan build (edge/src/index.free.ts: plain-TypeScript reranker) in workerd', () => {
  let free: RunningEdge;
  let freeKv: KvWriter;

  beforeAll(async () => {
    const persistTo = await tempDir('edge-free-kv');
    freeKv = await openKv(persistTo);
    await writeFixture(freeKv);
    free = await startEdge(persistTo, { ORIGIN_URL: 'http://127.0.0.1:9', ORIGIN_TIMEOUT_MS: '100' }, { entry: 'edge/src/index.free.ts' });
  }, 180_000);

  afterAll(async () => {
    await free?.stop();
    await freeKv?.close();
  });

  it('reranks like onnxruntime-node: same order, scores equal to 4 decimals', async () => {
    const recent = ['i200', 'i17'];
    const response = await fetch(`${free.url}/v1/recommendations?user=u1&k=10&recent=${recent.join(',')}`, { headers: { 'x-user-token': await userToken('u1') } });
    const json = (await response.json()) as Answer;
    expect(json).toMatchObject({ path: 'kv-slate', degraded: [] });
    const expected = await expectedRerank(recent);
    expect(json.items.map((i) => i.id)).toEqual(expected.map((e) => e.id));
    json.items.forEach((item, k) => expect(item.score).toBeCloseTo(Math.round(expected[k]!.score * 1e4) / 1e4, 3));
    expect(((await (await fetch(`${free.url}/v1/stats`)).json()) as { reranker: string }).reranker).toBe('typescript');
  });
});
