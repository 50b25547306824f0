/**
 * The session reranker on onnxruntime-web (WASM build, one thread, no proxy worker) — the default build.
 * Workers refuse to compile Wasm from bytes at run time, so wrangler precompiles onnxruntime-web's .wasm
 * (CompiledWasm rule) and, while a session is being created, emscripten's `WebAssembly.instantiate(bytes)`
 * is answered with that precompiled module.
 */
import * as ort from 'onnxruntime-web/wasm';
import ortWasmModule from '../generated/ort-wasm-simd-threaded.wasm';
import { sessionRerankFeeds, type SessionRerankInput, type TensorFactory } from '../../../shared/features/encode.ts';
import type { RerankerRuntime, SessionScorer } from './runtime.ts';

ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
// A placeholder: onnxruntime-web then skips fetching the .wasm; the real module comes from the wrapper below.
ort.env.wasm.wasmBinary = new ArrayBuffer(8);

async function createSession(model: Uint8Array): Promise<ort.InferenceSession> {
  const original = WebAssembly.instantiate;
  const precompiled = ortWasmModule as WebAssembly.Module;
  const patched = async (source: unknown, imports?: WebAssembly.Imports): Promise<unknown> => {
    if (source instanceof WebAssembly.Module) return original(source, imports);
    const instance = await original(precompiled, imports);
    return { instance, module: precompiled };
  };
  (WebAssembly as { instantiate: unknown }).instantiate = patched;
  try {
    return await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  } finally {
    (WebAssembly as { instantiate: unknown }).instantiate = original;
  }
}

const ortTensors: TensorFactory<ort.Tensor> = {
  int64: (values, dims) => new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims),
  float32: (values, dims) => new ort.Tensor('float32', values, dims),
};

export const ortRuntime: RerankerRuntime = {
  name: 'onnxruntime-web',
  async create(model: Uint8Array): Promise<SessionScorer> {
    const session = await createSession(model);
    return {
      async score(input: SessionRerankInput): Promise<Float32Array> {
        const out = await session.run(sessionRerankFeeds(input, ortTensors, session.inputNames));
        return out.scores!.data as Float32Array;
      },
    };
  },
};
