/**
 * Worker-thread entry: builds an index from embeddings shared with the main thread and saves it to `path`.
 * Building a 1M-item HNSW graph takes minutes of synchronous native work; doing it here keeps the serving
 * thread answering requests during a hot reload (the main thread then loads the saved graph in ~1 s).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AnnKind } from '../../core/ports/ann.ts';
import type { AnnBuildOptions } from './options.ts';
import { buildAnnIndex } from './build.ts';

interface BuildJob {
  kind: AnnKind;
  vectors: Float32Array;
  dim: number;
  path: string;
  options: AnnBuildOptions;
}

const job = workerData as BuildJob;
const index = buildAnnIndex(job.kind, job.vectors, job.dim, job.options);
await index.save(job.path);
parentPort?.postMessage({ ok: true });
