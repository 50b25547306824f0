/**
 * The plain-TypeScript forward pass of the session reranker (the Workers Free plan build) against
 * onnxruntime-web (the default build's runtime, here its WASM backend in Node) on the committed model:
 * every score within 1e-5 over random sessions and candidate lists of 1 to 100 items, and the same order.
 * If a new model uses an operator the TypeScript runtime lacks, loading fails here with its name.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeSessionRerank, sessionRerankFeeds, slatePositionPrior, type ItemFeatures, type TensorFactory } from '../../shared/features/encode.ts';
import { typescriptRuntime } from '../../edge/src/rerank/typescript.ts';
import type { SessionScorer } from '../../edge/src/rerank/runtime.ts';
import { TsOnnxSession } from '../../edge/src/rerank/onnx/session.ts';
import { MODEL_IO } from '../../shared/contracts/manifest.ts';
import { SESSION_VECTOR_DIM } from '../../shared/features/spec.ts';
import { MODEL_DIR, space } from './support.ts';

const modelBytes = new Uint8Array(readFileSync(join(MODEL_DIR, 'session_reranker.onnx')));
let web: ort.InferenceSession;
let typescript: SessionScorer;

const webTensors: TensorFactory<ort.Tensor> = {
  int64: (values, dims) => new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims),
  float32: (values, dims) => new ort.Tensor('float32', values, dims),
};

beforeAll(async () => {
  ort.env.wasm.numThreads = 1;
  web = await ort.InferenceSession.create(modelBytes, { executionProviders: ['wasm'] });
  typescript = await typescriptRuntime.create(modelBytes);
});

// Random session vectors (the full int8 range), or none (older slates and cards carry none).
const features = (): fc.Arbitrary<ItemFeatures> =>
  fc.tuple(fc.integer({ min: 1, max: space.itemCount }), fc.option(fc.array(fc.integer({ min: -127, max: 127 }), { minLength: SESSION_VECTOR_DIM, maxLength: SESSION_VECTOR_DIM })))
    .map(([index, vector]) => ({ category: space.category(index), brand: space.brand(index), priceBucket: space.priceBucket(index), vector: vector ? Int8Array.from(vector) : undefined }));

describe('session reranker: TypeScript forward pass vs onnxruntime-web', () => {
  it('gives the same scores within 1e-5 on random inputs (1–100 candidates, 0–5 session items)', async () => {
    let worst = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(features(), { minLength: 1, maxLength: 100 }), fc.array(features(), { maxLength: 5 }), async (candidates, session) => {
        const input = encodeSessionRerank(candidates.map((c, rank) => ({ ...c, score: slatePositionPrior(rank, candidates.length) })), session);
        const expected = (await web.run(sessionRerankFeeds(input, webTensors))).scores!.data as Float32Array;
        const actual = await typescript.score(input);
        expect(actual.length).toBe(expected.length);
        for (let i = 0; i < expected.length; i++) {
          const diff = Math.abs((actual[i] ?? NaN) - (expected[i] ?? NaN));
          worst = Math.max(worst, diff);
          expect(diff).toBeLessThanOrEqual(1e-5);
        }
      }),
      { numRuns: 300 },
    );
    console.log(JSON.stringify({ test: 'reranker-parity', maxAbsDiff: worst }));
  });

  it('reads the graph the exporter wrote: the reranker inputs, one scores output, initializers as weights', () => {
    const session = TsOnnxSession.create(modelBytes);
    expect([...session.inputNames].sort()).toEqual([...MODEL_IO.sessionReranker.inputs].sort());
    expect(session.outputNames).toEqual(['scores']);
  });

  it('refuses a model with an operator it does not implement, naming it', () => {
    // The committed model with its first Relu node's op_type (field 4, length 4: 0x22 0x04) renamed to "Relv".
    const bytes = Buffer.from(modelBytes);
    const at = bytes.indexOf(Buffer.from([0x22, 0x04, ...Buffer.from('Relu')]));
    expect(at).toBeGreaterThan(0);
    bytes.write('Relv', at + 2);
    expect(() => TsOnnxSession.create(new Uint8Array(bytes))).toThrow(/Relv/);
  });
});
