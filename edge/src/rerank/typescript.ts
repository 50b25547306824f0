/**
 * The session reranker's forward pass in plain TypeScript (no WASM): the ONNX graph is decoded from the same
 * model file the default build runs on onnxruntime-web, and executed by a small operator set (./onnx/).
 * It lets the worker fit the Workers Free plan's 3 MiB bundle limit; parity with onnxruntime-web within
 * 1e-5 is tested on the committed model (test/edge/reranker-parity.test.ts).
 */
import { sessionRerankFeeds, type SessionRerankInput, type TensorFactory } from '../../../shared/features/encode.ts';
import { TsOnnxSession } from './onnx/session.ts';
import { tensor, type Tensor } from './onnx/tensor.ts';
import type { RerankerRuntime, SessionScorer } from './runtime.ts';

const tsTensors: TensorFactory<Tensor> = {
  int64: (values, dims) => tensor('int64', dims, values),
  float32: (values, dims) => tensor('float32', dims, values),
};

export const typescriptRuntime: RerankerRuntime = {
  name: 'typescript',
  async create(model: Uint8Array): Promise<SessionScorer> {
    const session = TsOnnxSession.create(model);
    return {
      async score(input: SessionRerankInput): Promise<Float32Array> {
        const out = session.run(sessionRerankFeeds(input, tsTensors, session.inputNames)).scores;
        if (!out || out.dtype !== 'float32') throw new Error('the reranker has no float32 output named scores');
        return Float32Array.from(out.data);
      },
    };
  },
};
