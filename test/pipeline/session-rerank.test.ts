/**
 * The origin applies the edge's session reranker (core/pipeline/stages/session.ts) when a request carries session
 * items: same model, same inputs, so one visitor gets consistent answers. Checked against the ONNX reranker run
 * directly on the slate head and blended at the version's strength; without session items, with the setting off,
 * at strength 0 or with the manifest gate 'off' the slate is the ranker's order.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openServedPipeline, type ServedPipeline } from '../../adapters/serving.ts';
import { blendSessionScores, encodeSessionRerank, itemFeaturesOf, sessionRerankFeeds, slatePositionPrior, type TensorFactory } from '../../shared/features/encode.ts';
import { demoDataset, historiesOf, NOW, privateArtifacts } from './support.ts';

const tensors: TensorFactory<ort.Tensor> = {
  int64: (v, d) => new ort.Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), d),
  float32: (v, d) => new ort.Tensor('float32', v, d),
};

describe('session rerank at the origin', () => {
  const data = demoDataset();
  let root = '';
  let version = '';
  let served: ServedPipeline;
  let history: string[] = [];
  let session: string[] = [];
  beforeAll(async () => {
    ({ root, version } = await privateArtifacts());
    // An explicit gate 'on' whatever the evaluation decided, so the stage is exercised.
    const manifestPath = join(root, version, 'manifest.json');
    await writeFile(manifestPath, JSON.stringify({ ...JSON.parse(await readFile(manifestPath, 'utf8')), sessionRerank: 'on' }));
    served = await openServedPipeline({ artifactsRoot: root, pollMs: 0, catalog: data.items, settings: { explorationSlots: 0, mmrLambda: 1, categoryCapShare: 1 }, annCacheDir: null, log: () => undefined });
    const long = [...historiesOf(data).values()].find((h) => h.length > 12)!;
    history = long.slice(0, -3);
    session = long.slice(-3);
  }, 120_000);
  afterAll(async () => {
    await served?.close();
    await rm(root, { recursive: true, force: true });
  });

  const ask = (sessionItems: string[], sessionRerank: boolean, k = 20) =>
    served.pipeline.recommend({ surface: 'home', k, history, sessionItems, excludeIds: [], now: NOW, explorationSlots: 0, settings: { sessionRerank } });

  it('re-orders the slate head with the edge model when the request has session items', async () => {
    const off = await ask(session, false, 50);
    const on = await ask(session, true, 50);
    expect(on.degraded).not.toContain('session-rerank-failed');
    expect(new Set(on.items.map((i) => i.id))).toEqual(new Set(off.items.map((i) => i.id)));
    // The reranker run directly on the ranked head gives the origin's order.
    const lease = served.registry.acquire()!;
    const space = lease.model.space;
    const vectors = lease.model.sessionVectors;
    const strength = lease.model.manifest.sessionRerankStrength ?? 1;
    expect(vectors, 'the committed model ships a session projection').toBeDefined();
    const reranker = await ort.InferenceSession.create(join(root, version, lease.model.manifest.files.sessionReranker));
    lease.release();
    const head = off.items.map((i) => space.itemIndex(i.id));
    const input = encodeSessionRerank(head.map((index, r) => ({ ...itemFeaturesOf(space, index, vectors), score: slatePositionPrior(r, head.length) })), session.map((id) => itemFeaturesOf(space, space.itemIndex(id), vectors)));
    // The model's scores moved the version's validated strength of the way from the ranked order.
    const scores = blendSessionScores((await reranker.run(sessionRerankFeeds(input, tensors))).scores!.data as Float32Array, input.candScore, strength);
    await reranker.release();
    const expected = head.map((index, r) => ({ index, s: scores[r]! })).sort((a, b) => b.s - a.s).map((x) => space.itemId(x.index));
    expect(on.items.map((i) => i.id)).toEqual(expected);
  });

  it('keeps the ranker order without session items, with the setting off, and when the manifest gate is off', async () => {
    const plain = await ask([], true);
    const off = await ask([], false);
    expect(plain.items.map((i) => i.id)).toEqual(off.items.map((i) => i.id));
    const lease = served.registry.acquire()!;
    const gated = { ...lease.model, manifest: { ...lease.model.manifest, sessionRerank: 'off' as const } };
    lease.release();
    const { sessionRerank } = await import('../../core/pipeline/stages/session.ts');
    const { StageClock } = await import('../../core/pipeline/stage-clock.ts');
    const scores = Float32Array.from([0.9, 0.5, 0.1]);
    const result = await sessionRerank(gated, [{ sessionItems: session, candidates: [{ index: 1 }, { index: 2 }, { index: 3 }], scores }], new StageClock());
    expect(result.scores[0]).toBe(scores);
  });

  it('moves the slate by the strength: 0 keeps the ranked order, full strength follows the model alone', async () => {
    const at = (sessionRerankStrength: number) =>
      served.pipeline.recommend({ surface: 'home', k: 50, history, sessionItems: session, excludeIds: [], now: NOW, explorationSlots: 0, settings: { sessionRerank: true, sessionRerankStrength } });
    const off = await ask(session, false, 50);
    expect((await at(0)).items.map((i) => i.id)).toEqual(off.items.map((i) => i.id));
    const full = (await at(1)).items.map((i) => i.id);
    expect(full).not.toEqual(off.items.map((i) => i.id));
    expect(new Set(full)).toEqual(new Set(off.items.map((i) => i.id)));
  });
});
