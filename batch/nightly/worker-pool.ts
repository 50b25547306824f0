/**
 * The multi-core SlateComputer: a Piscina pool of worker threads (slate-worker.ts), one per core by default,
 * each with its own pipeline. The first worker opens the model alone (it builds the ANN graph into the cache
 * if missing); the others then load the cached graph. Batches go to whichever worker is free.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { ComputedBatch, SlateComputer } from './compute.ts';
import type { SlateWorkerData, SlateWorkerTask } from './slate-worker.ts';

export interface WorkerPoolOptions extends SlateWorkerData {
  /** Worker threads; default: the number of cores. */
  threads?: number | undefined;
}

export async function workerPoolComputer(options: WorkerPoolOptions): Promise<SlateComputer> {
  const threads = Math.max(1, options.threads ?? availableParallelism());
  const { threads: _threads, ...data } = options;
  const pool = new Piscina<SlateWorkerTask, ComputedBatch | { ready: true }>({
    filename: new URL('./slate-worker.ts', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    workerData: data satisfies SlateWorkerData,
    // ONNX and usearch run native code on the worker's thread; one task per worker at a time.
    concurrentTasksPerWorker: 1,
  });
  try {
    await pool.run({ kind: 'init' });
    await Promise.all(Array.from({ length: threads }, () => pool.run({ kind: 'init' })));
  } catch (error) {
    await pool.destroy();
    throw error;
  }
  return {
    parallelism: threads,
    compute: async (subjects, requests) => {
      const out = await pool.run({ kind: 'slates', subjects: [...subjects], requests: [...requests] });
      if (!('entries' in out)) throw new Error('slate worker answered without entries');
      return out;
    },
    close: () => pool.destroy(),
  };
}
