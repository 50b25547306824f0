import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python, trainTiny } from './support.ts';

type Reference = Record<'user_tower' | 'dlrm' | 'session_reranker', { inputs: Record<string, number[] | number[][]>; output: number[] | number[][] }>;
const FLOAT_INPUTS = new Set(['dense', 'cand_score']);

function tensor(name: string, value: number[] | number[][]): ort.Tensor {
  const rows = value as (number | number[])[];
  const dims = Array.isArray(rows[0]) ? [rows.length, (rows[0] as number[]).length] : [rows.length];
  const flat = rows.flat();
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
      const want = (expected as (number | number[])[]).flat();
      expect(got).toHaveLength(want.length);
      const maxDiff = Math.max(...got.map((g, i) => Math.abs(g - (want[i] ?? NaN))));
      expect(maxDiff).toBeLessThan(1e-5);
      // Outputs must actually depend on the inputs (a constant model would pass the diff check trivially).
      expect(new Set(got.map((g) => g.toFixed(5))).size).toBeGreaterThan(1);
    });
  }

  it('exports a session reranker small enough for the edge (≤ 300 KB) with a dynamic candidate axis', async () => {
    const { statSync } = await import('node:fs');
    expect(statSync(join(modelDir, 'session_reranker.onnx')).size).toBeLessThan(300 * 1024);
    const session = await ort.InferenceSession.create(join(modelDir, 'session_reranker.onnx'));
    const c = 37;
    const ints = (n: number): ort.Tensor => new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
    const out = await session.run({
      cand_category: ints(c), cand_brand: ints(c), cand_price: ints(c), cand_score: new ort.Tensor('float32', new Float32Array(c), [1, c]),
      sess_category: ints(5), sess_brand: ints(5), sess_price: ints(5),
    });
    expect(out.scores!.dims).toEqual([1, c]);
  });
});
