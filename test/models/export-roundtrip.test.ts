import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { readFileSync, rmSync } from 'node:fs';
import { readEmbeddings, readManifest, readSessionProjection } from '../../core/registry/artifacts.ts';
import { decodeSessionVector, encodeSessionVector, projectSessionVectors, sessionVectorOf } from '../../shared/features/session-vectors.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_VECTOR_DIM } from '../../shared/features/spec.ts';
import { python, trainTiny } from './support.ts';

type Nested = number | Nested[];
type Reference = Record<'user_tower' | 'dlrm' | 'session_reranker', { inputs: Record<string, Nested[]>; output: Nested[] }>;
const FLOAT_INPUTS = new Set(['dense', 'cand_score', 'cand_vec', 'sess_vec', 'sess_mask']);

function flatten(value: Nested[]): number[] {
  return value.flatMap((v) => (Array.isArray(v) ? flatten(v) : [v]));
}

function tensor(name: string, value: Nested[]): ort.Tensor {
  const dims: number[] = [];
  for (let level: Nested = value; Array.isArray(level); level = level[0] ?? 0) dims.push(level.length);
  const flat = flatten(value);
  return FLOAT_INPUTS.has(name) ? new ort.Tensor('float32', Float32Array.from(flat), dims) : new ort.Tensor('int64', BigInt64Array.from(flat, (v) => BigInt(v)), dims);
}

describe('ONNX export round-trip', () => {
  let modelDir = '';
  let base = '';
  let reference: Reference;
  beforeAll(() => {
    const trained = trainTiny();
    modelDir = trained.modelDir;
    base = trained.base;
    reference = JSON.parse(python('roundtrip.py', [trained.workDir])) as Reference;
  }, 180_000);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  for (const [name, file, output] of [
    ['user_tower', 'user_tower.onnx', 'user_embedding'],
    ['dlrm', 'dlrm.onnx', 'score'],
    ['session_reranker', 'session_reranker.onnx', 'scores'],
  ] as const) {
    it(`${name}: onnxruntime-node reproduces PyTorch within 1e-5`, async () => {
      const session = await ort.InferenceSession.create(join(modelDir, file));
      const { inputs, output: expected } = reference[name];
      const feeds = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tensor(k, v)]));
      const got = Array.from((await session.run(feeds))[output]!.data as Float32Array);
      const want = flatten(expected);
      expect(got).toHaveLength(want.length);
      // Within 1e-5, relative to the value where it exceeds 1 (float32 keeps about 7 significant digits: the
      // reranker's scores reach tens with the full-range random session vectors used here).
      const maxDiff = Math.max(...got.map((g, i) => Math.abs(g - (want[i] ?? NaN)) / Math.max(1, Math.abs(want[i] ?? 1))));
      expect(maxDiff).toBeLessThan(1e-5);
      // Outputs must actually depend on the inputs (a constant model would pass the diff check trivially).
      expect(new Set(got.map((g) => g.toFixed(5))).size).toBeGreaterThan(1);
    });
  }

  it('session vectors: the TypeScript projection reproduces the trainer\'s int8 vectors, and they travel as base64', async () => {
    const manifest = await readManifest(modelDir);
    const projection = await readSessionProjection(modelDir, manifest);
    expect(projection).toBeDefined();
    const ours = projectSessionVectors(await readEmbeddings(modelDir, manifest), manifest.embeddingDim, projection!);
    const theirs = new Int8Array(readFileSync(join(base, 'work', 'session_vectors.i8')));
    expect(ours.length).toBe(theirs.length);
    expect(ours.length).toBe((manifest.itemCount + 1) * SESSION_VECTOR_DIM);
    // Summation order differs (BLAS vs a loop): a value exactly at a rounding boundary may land one step apart.
    let off = 0;
    for (let i = 0; i < ours.length; i++) {
      expect(Math.abs(ours[i]! - theirs[i]!)).toBeLessThanOrEqual(1);
      if (ours[i] !== theirs[i]) off++;
    }
    expect(off / ours.length).toBeLessThan(0.001);
    expect(new Set(ours).size, 'vectors use the int8 range').toBeGreaterThan(50);
    expect(ours.subarray(0, SESSION_VECTOR_DIM).every((v) => v === 0), 'row 0 (unknown) is zero').toBe(true);
    for (const index of [1, 2, manifest.itemCount]) {
      const vector = sessionVectorOf(ours, index)!;
      const text = encodeSessionVector(vector);
      expect(text).toHaveLength(24);
      expect([...decodeSessionVector(text)!]).toEqual([...vector]);
    }
    expect(decodeSessionVector('not base64!')).toBeUndefined();
    expect(decodeSessionVector(btoa('short'))).toBeUndefined();
  });

  it('exports a session reranker small enough for the edge (≤ 300 KB) with a dynamic candidate axis', async () => {
    const { statSync } = await import('node:fs');
    expect(statSync(join(modelDir, 'session_reranker.onnx')).size).toBeLessThan(300 * 1024);
    const session = await ort.InferenceSession.create(join(modelDir, 'session_reranker.onnx'));
    const c = 37;
    const ints = (n: number): ort.Tensor => new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
    const out = await session.run({
      cand_category: ints(c), cand_brand: ints(c), cand_price: ints(c), cand_score: new ort.Tensor('float32', new Float32Array(c), [1, c]),
      cand_vec: new ort.Tensor('float32', new Float32Array(c * SESSION_VECTOR_DIM), [1, c, SESSION_VECTOR_DIM]),
      sess_category: ints(5), sess_brand: ints(5), sess_price: ints(5),
      sess_vec: new ort.Tensor('float32', new Float32Array(5 * SESSION_VECTOR_DIM), [1, 5, SESSION_VECTOR_DIM]),
      sess_mask: new ort.Tensor('float32', new Float32Array(5).fill(1), [1, 5]),
    });
    expect(out.scores!.dims).toEqual([1, c]);
  });
});
