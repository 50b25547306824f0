/**
 * ONNX Runtime session creation with configurable execution providers. Config names the providers in
 * preference order (['cpu'] by default; ['webgpu', 'cpu'] or ['cuda', 'cpu'] on a GPU host, measured in
 * docs/benchmarks.md); when a provider cannot be used here (the CUDA add-on is not installed, no Vulkan adapter
 * for WebGPU, no GPU), the session falls back to CPU and the fallback is reported as a warning so it is
 * visible, never silent.
 */
import * as ort from 'onnxruntime-node';

export interface ExecutionConfig {
  executionProviders: readonly string[];
  /** Threads per session for one run (intra-op); 1 keeps concurrent requests from fighting on 2 cores. */
  intraOpNumThreads: number;
}

export const DEFAULT_EXECUTION: ExecutionConfig = { executionProviders: ['cpu'], intraOpNumThreads: 1 };

/** Parses e.g. "cuda,cpu" from an env var. */
export function parseExecutionProviders(text: string | undefined): string[] {
  const names = (text ?? 'cpu').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  return names.length === 0 ? ['cpu'] : names;
}

export interface CreatedSession {
  session: ort.InferenceSession;
  /** Providers actually asked of ONNX Runtime for this session. */
  providers: string[];
  warnings: string[];
}

export async function createSession(model: Uint8Array, config: ExecutionConfig): Promise<CreatedSession> {
  const requested = [...config.executionProviders];
  const warnings: string[] = [];
  const options = (providers: string[]): ort.InferenceSession.SessionOptions => ({
    executionProviders: providers,
    intraOpNumThreads: config.intraOpNumThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const nonCpu = requested.filter((p) => p !== 'cpu');
  if (nonCpu.length > 0) {
    try {
      const providers = requested.includes('cpu') ? requested : [...requested, 'cpu'];
      return { session: await ort.InferenceSession.create(model, options(providers)), providers, warnings };
    } catch (error) {
      warnings.push(`execution providers [${nonCpu.join(', ')}] unavailable (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); falling back to cpu`);
    }
  }
  return { session: await ort.InferenceSession.create(model, options(['cpu'])), providers: ['cpu'], warnings };
}

export function int64Tensor(values: Int32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', toInt64(values), dims);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * int32 → int64 without a BigInt per element (the DLRM's sparse input is candidates × 6 values per request): on a
 * little-endian host each int64 is written as its two 32-bit words, low = the value, high = its sign extension.
 * About 20× faster than BigInt64Array.from(values, BigInt) for 12,000 values; identical results.
 */
export function toInt64(values: Int32Array): BigInt64Array {
  if (!LITTLE_ENDIAN) return BigInt64Array.from(values, (v) => BigInt(v));
  const out = new BigInt64Array(values.length);
  const words = new Int32Array(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    words[2 * i] = v;
    words[2 * i + 1] = v >> 31;
  }
  return out;
}

export function float32Tensor(values: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', values, dims);
}

/** Reads a float32 output, checking it exists (a renamed output is a contract break, not a silent zero). */
export function floatOutput(result: ort.InferenceSession.ReturnType, name: string): Float32Array {
  const tensor = result[name];
  if (!tensor || !(tensor.data instanceof Float32Array)) throw new Error(`model output '${name}' missing or not float32`);
  return tensor.data;
}
