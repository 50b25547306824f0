/**
 * One entry point for building or loading an index of any kind, with an optional on-disk cache: building
 * HNSW over 1M items takes minutes, loading the saved graph takes about a second. The cache folder writes
 * its own `.gitignore` (`*`) so cached graphs next to the artifacts are never committed.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AnnIndex, AnnKind } from '../../core/ports/ann.ts';
import type { AnnBuildOptions } from './options.ts';
import { createExactIndex } from './exact-index.ts';
import { createGemmIndex } from './gemm-index.ts';
import { buildHnswlibIndex, loadHnswlibIndex } from './hnswlib-index.ts';
import { createInt8ScanIndex, int8ScanKernel, int8ScanUnavailable, openInt8ScanIndex } from './int8-scan-index.ts';
import { buildUsearchIndex, loadUsearchIndex } from './usearch-index.ts';

/** The index a graph is built for when one is wanted (the nightly past NIGHTLY_EXACT_MAX_ITEMS, benchmarks). */
export const DEFAULT_ANN_KIND: AnnKind = 'usearch';

/**
 * Up to this many items the origin retrieves by the exact int8 scan (int8-scan-index.ts): at 1M × 64 one query
 * takes ~3 ms with AVX2 or AVX-512 VNNI and finds the true top-k, against ~5–6 ms for the HNSW search at the
 * serving ef with recall@100 0.71 on the synthetic catalogue (docs/benchmarks.md). The scan grows with the
 * catalogue and HNSW with about its logarithm, so past this size the origin searches the HNSW graph.
 */
export const SCAN_MAX_ITEMS = 2_000_000;

/**
 * Why ANN_KIND=auto would not serve a catalogue of this size with the int8 scan, or undefined when it would. The
 * plain-C loop (CPUs without AVX2) is several times slower than the vector ones and than the HNSW graph.
 */
export function scanNotServed(items: number): string | undefined {
  if (items > SCAN_MAX_ITEMS) return `${items} items is past the scan's ${SCAN_MAX_ITEMS}`;
  const missing = int8ScanUnavailable();
  if (missing) return missing;
  if (int8ScanKernel() === 'generic') return 'the int8 scan has no vector loop for this CPU (neither AVX2 nor AVX-512 VNNI)';
  return undefined;
}

/** What the origin searches when ANN_KIND is auto, and why not the scan when it is not (for the load warning). */
export function servingAnn(items: number): { kind: AnnKind; notServed: string | undefined } {
  const notServed = scanNotServed(items);
  return { kind: notServed === undefined ? 'int8-scan' : 'usearch', notServed };
}

/** servingAnn's choice alone: the exact int8 scan where it is built, fast and the catalogue fits. */
export function servingAnnKind(items: number): AnnKind {
  return servingAnn(items).kind;
}
/** From this many vectors on, an uncached graph is built in a worker thread (the event loop keeps serving). */
export const WORKER_BUILD_MIN_VECTORS = 200_000;

export function buildAnnIndex(kind: AnnKind, vectors: Float32Array, dim: number, options: AnnBuildOptions = {}): AnnIndex {
  if (kind === 'gemm') throw new Error('gemm indexes open an ONNX session: use buildOrLoadAnnIndex');
  if (kind === 'usearch') return buildUsearchIndex(vectors, dim, options);
  if (kind === 'hnswlib') return buildHnswlibIndex(vectors, dim, options);
  if (kind === 'int8-scan') return createInt8ScanIndex(vectors, dim);
  return createExactIndex(vectors, dim);
}

export function loadAnnIndex(kind: AnnKind, path: string, dim: number, options: AnnBuildOptions = {}): AnnIndex {
  if (kind === 'usearch') return loadUsearchIndex(path, dim, options);
  if (kind === 'hnswlib') return loadHnswlibIndex(path, dim, options);
  throw new Error(`${kind} indexes are not loaded from disk; build them from the embeddings`);
}

export interface CachedBuild {
  index: AnnIndex;
  fromCache: boolean;
  buildMs: number;
}

/**
 * Loads `<cacheDir>/<key>.<kind>` when present, else builds and saves it (atomically: write then rename).
 * `key` must change whenever the embeddings or options change (model version + sizes + options).
 */
export async function buildOrLoadAnnIndex(
  kind: AnnKind,
  vectors: Float32Array,
  dim: number,
  cacheDir: string | undefined,
  key: string,
  options: AnnBuildOptions = {},
): Promise<CachedBuild> {
  const started = performance.now();
  // Nothing to build for exact search or the scan (quantising 1M × 64 takes ~1 s, in slices between which the
  // event loop serves); the GEMM index only opens its ONNX session.
  if (kind === 'gemm') return { index: await createGemmIndex(vectors, dim, { threads: options.threads }), fromCache: false, buildMs: performance.now() - started };
  if (kind === 'int8-scan') return { index: await openInt8ScanIndex(vectors, dim), fromCache: false, buildMs: performance.now() - started };
  if (kind === 'exact' || cacheDir === undefined) {
    return { index: buildAnnIndex(kind, vectors, dim, options), fromCache: false, buildMs: performance.now() - started };
  }
  const path = join(cacheDir, `${key}.${kind}`);
  if (existsSync(path)) {
    try {
      const index = loadAnnIndex(kind, path, dim, options);
      if (index.size === Math.floor(vectors.length / dim)) return { index, fromCache: true, buildMs: performance.now() - started };
    } catch {
      // unreadable cache: rebuild below
    }
  }
  await mkdir(cacheDir, { recursive: true });
  if (!existsSync(join(cacheDir, '.gitignore'))) await writeFile(join(cacheDir, '.gitignore'), '*\n');
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  if (vectors.length / dim >= WORKER_BUILD_MIN_VECTORS) {
    await buildInWorker(kind, vectors, dim, tmp, options);
    await rename(tmp, path);
    return { index: loadAnnIndex(kind, path, dim, options), fromCache: false, buildMs: performance.now() - started };
  }
  const index = buildAnnIndex(kind, vectors, dim, options);
  await index.save(tmp);
  await rename(tmp, path);
  return { index, fromCache: false, buildMs: performance.now() - started };
}

function buildInWorker(kind: AnnKind, vectors: Float32Array, dim: number, path: string, options: AnnBuildOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./build-worker.ts', import.meta.url), { workerData: { kind, vectors, dim, path, options } });
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ANN build worker exited with ${code}`))));
  });
}
