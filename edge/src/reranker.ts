/**
 * The session reranker inside the worker: onnxruntime-web (WASM build, one thread, no proxy worker).
 * Workers refuse to compile Wasm from bytes at run time, so wrangler precompiles onnxruntime-web's .wasm
 * (CompiledWasm rule) and, while a session is being created, emscripten's `WebAssembly.instantiate(bytes)`
 * is answered with that precompiled module. Sessions are cached per model version for the isolate's life.
 */
import * as ort from 'onnxruntime-web/wasm';
import ortWasmModule from './generated/ort-wasm-simd-threaded.wasm';
import { encodeSessionRerank, sessionRerankFeeds, slatePositionPrior, type ItemFeatures, type TensorFactory } from '../../shared/features/encode.ts';

ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
// A placeholder: onnxruntime-web then skips fetching the .wasm; the real module comes from the wrapper below.
ort.env.wasm.wasmBinary = new ArrayBuffer(8);

const sessions = new Map<string, Promise<ort.InferenceSession>>();

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

/** The session for a model version, created once (concurrent callers share the same promise). */
export function rerankerSession(version: string, loadModel: () => Promise<Uint8Array>): Promise<ort.InferenceSession> {
  let session = sessions.get(version);
  if (!session) {
    session = loadModel().then(createSession);
    session.catch(() => sessions.delete(version)); // a failed load is retried on the next request
    sessions.set(version, session);
  }
  return session;
}

export type RerankCandidate = ItemFeatures & { id: string };

/**
 * Scores a slate's candidates against the session's recent items; the slate order enters as the position
 * prior (1 − rank / C), exactly as in training. Returns one score per candidate, in input order.
 */
export async function scoreCandidates(session: ort.InferenceSession, candidates: readonly RerankCandidate[], recent: readonly ItemFeatures[]): Promise<Float32Array> {
  const input = encodeSessionRerank(candidates.map((cand, rank) => ({ ...cand, score: slatePositionPrior(rank, candidates.length) })), recent);
  const out = await session.run(sessionRerankFeeds(input, ortTensors));
  return out.scores!.data as Float32Array;
}

const ortTensors: TensorFactory<ort.Tensor> = {
  int64: (values, dims) => new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims),
  float32: (values, dims) => new ort.Tensor('float32', values, dims),
};
