/**
 * The committed demo version (models/artifacts/current.json) is what `npm start` serves without PyTorch:
 * its manifest must parse, its files must match the manifest, and the session reranker must run in
 * onnxruntime-web (the edge's runtime, WASM backend) exactly as in onnxruntime-node, using only plain ops.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { ModelManifestSchema, ModelPointerSchema, MODEL_IO } from '../../shared/contracts/manifest.ts';
import { encodeSessionRerank, itemFeaturesOf, sessionRerankFeeds } from '../../shared/features/encode.ts';
import { readSessionVectors } from '../../core/registry/artifacts.ts';
import { FeatureSpace, FeatureSpaceSchema } from '../../shared/features/feature-space.ts';
import { createRng } from '../../shared/util/rng.ts';
import { PYTHON, root } from './support.ts';

const artifacts = join(root, 'models', 'artifacts');
const { version } = ModelPointerSchema.parse(JSON.parse(readFileSync(join(artifacts, 'current.json'), 'utf8')));
const dir = join(artifacts, version);
const manifest = ModelManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
/** Operators the edge may rely on (all in onnxruntime-web's WASM build). */
const EDGE_OPS = new Set(['Add', 'Cast', 'Clip', 'Concat', 'Constant', 'Div', 'Gather', 'Gemm', 'Greater', 'Identity', 'MatMul', 'Mul',
  'ReduceMean', 'ReduceSum', 'Relu', 'Reshape', 'Shape', 'Softmax', 'Squeeze', 'Sub', 'Unsqueeze', 'Transpose', 'Sigmoid', 'Flatten']);

describe('published demo artifacts', () => {
  it('match their manifest (sizes, names, item count) and stay small', () => {
    const bytesPerValue = { float32: 4, float16: 2, int8: 1 }[manifest.itemEmbeddingsDtype];
    expect(statSync(join(dir, manifest.files.itemEmbeddings)).size).toBe(manifest.itemCount * manifest.embeddingDim * bytesPerValue);
    const space = new FeatureSpace(FeatureSpaceSchema.parse(JSON.parse(readFileSync(join(dir, manifest.files.featureSpace), 'utf8'))));
    expect(space.itemCount).toBe(manifest.itemCount);
    const total = Object.values(manifest.files).reduce((sum, f) => sum + (f ? statSync(join(dir, f)).size : 0), 0);
    // 12 MB: the item-to-item neighbours (≤ 500k (index, weight) pairs, 4 MB) joined the ~6 MB of models.
    expect(total).toBeLessThan(12 * 1024 * 1024);
    if (manifest.files.itemNeighbours) expect(statSync(join(dir, manifest.files.itemNeighbours)).size).toBe(manifest.itemCount * (manifest.itemNeighboursPerItem ?? 0) * 8);
    expect(statSync(join(dir, manifest.files.sessionReranker)).size).toBeLessThan(300 * 1024);
  });

  it('session reranker: only edge-safe operators, opset 14–17', () => {
    const probe = spawnSync(PYTHON, ['-c', 'import onnx,sys,json; m=onnx.load(sys.argv[1]); print(json.dumps({"opset": m.opset_import[0].version, "ops": sorted({n.op_type for n in m.graph.node})}))',
      join(dir, manifest.files.sessionReranker)], { encoding: 'utf8' });
    expect(probe.status, probe.stderr).toBe(0);
    const { opset, ops } = JSON.parse(probe.stdout) as { opset: number; ops: string[] };
    expect(opset).toBeGreaterThanOrEqual(14);
    expect(opset).toBeLessThanOrEqual(17);
    expect(ops.filter((op) => !EDGE_OPS.has(op))).toEqual([]);
  });

  it('session reranker gives the same scores in onnxruntime-web (WASM) as in onnxruntime-node', async () => {
    const space = new FeatureSpace(FeatureSpaceSchema.parse(JSON.parse(readFileSync(join(dir, manifest.files.featureSpace), 'utf8'))));
    const rng = createRng(17);
    const pick = (): number => 1 + rng.int(space.itemCount);
    const vectors = await readSessionVectors(dir, manifest);
    expect(vectors, 'the published version ships session vectors').toBeDefined();
    const slate = Array.from({ length: 30 }, (_, rank) => ({ ...itemFeaturesOf(space, pick(), vectors), score: 1 - rank / 30 }));
    const input = encodeSessionRerank(slate, Array.from({ length: 3 }, () => itemFeaturesOf(space, pick(), vectors)));
    expect(input.candVec.some((v) => v !== 0)).toBe(true);
    const path = join(dir, manifest.files.sessionReranker);
    ortWeb.env.wasm.numThreads = 1;
    const web = await ortWeb.InferenceSession.create(path, { executionProviders: ['wasm'] });
    const node = await ortNode.InferenceSession.create(path);
    expect([...web.inputNames].sort()).toEqual([...MODEL_IO.sessionReranker.inputs].sort());
    const webOut = await web.run(sessionRerankFeeds<ortWeb.Tensor>(input, {
      int64: (v, d) => new ortWeb.Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), d),
      float32: (v, d) => new ortWeb.Tensor('float32', v, d),
    }));
    const nodeOut = await node.run(sessionRerankFeeds<ortNode.Tensor>(input, {
      int64: (v, d) => new ortNode.Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), d),
      float32: (v, d) => new ortNode.Tensor('float32', v, d),
    }));
    const a = webOut.scores!.data as Float32Array;
    const b = nodeOut.scores!.data as Float32Array;
    expect(a).toHaveLength(30);
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - (b[i] ?? NaN))))).toBeLessThan(1e-4);
    expect(new Set(Array.from(a, (v) => v.toFixed(4))).size).toBeGreaterThan(1);
  });
});
