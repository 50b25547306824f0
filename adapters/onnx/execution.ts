/**
 * ONNX Runtime session creation with configurable execution providers. Config names the providers in
 * preference order (['cpu'] by default, e.g. ['cuda', 'cpu'] on a GPU host); when a provider cannot be used
 * here (the CUDA add-on is not installed, no GPU), the session falls back to CPU and the fallback is reported
 * as a warning so it is visible, never silent.
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
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
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
