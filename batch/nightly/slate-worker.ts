/**
 * Piscina worker (one per core): opens the pipeline of the version folder once (ONNX sessions; the retrieval
 * index, exact GEMM by default or an ANN graph from the shared cache; one thread each) and turns batches of
 * slate requests into KV entries with the same code as the in-process path (compute.ts), so both paths write
 * identical values.
 */
import { workerData } from 'node:worker_threads';
import type { Item } from '../../shared/catalog/types.ts';
import type { SlateSubject } from '../../shared/kv/keys.ts';
import type { AnnKind } from '../../core/ports/ann.ts';
import type { PipelineRequest } from '../../core/pipeline/types.ts';
import { readFeatureSpace, readManifest } from '../../core/registry/artifacts.ts';
import { fixedVersionServing, openServedPipeline, type ServedPipeline } from '../../adapters/serving.ts';
import { computeBatch, type ComputedBatch, type EncodeContext } from './compute.ts';
import type { VersionInfo } from './slates.ts';

export interface SlateWorkerData {
  versionDir: string;
  items: readonly Item[];
  version: VersionInfo;
  slateSize: number;
  annCacheDir?: string | undefined;
  /** Retrieval (default nightlyAnnKind: exact in batches up to 2M items); every worker and the single-thread path alike. */
  annKind?: AnnKind | undefined;
}

export type SlateWorkerTask = { kind: 'init' } | { kind: 'slates'; subjects: SlateSubject[]; requests: PipelineRequest[] };

const config = workerData as SlateWorkerData;
let ready: Promise<{ served: ServedPipeline; ctx: EncodeContext }> | undefined;

async function open(): Promise<{ served: ServedPipeline; ctx: EncodeContext }> {
  const options = fixedVersionServing(config.versionDir, config.items, config.annKind);
  const served = await openServedPipeline({ ...options, annCacheDir: config.annCacheDir, ann: { threads: 1 }, log: () => undefined });
  const space = await readFeatureSpace(config.versionDir, await readManifest(config.versionDir));
  // The loaded model already projected every item's session vector (trained items keep their indices, so the
  // trained space reads the same rows); projecting them again here would cost a second pass over the catalogue.
  const lease = served.registry.acquire();
  const sessionVectors = lease?.model.sessionVectors;
  lease?.release();
  return { served, ctx: { space, sessionVectors, version: config.version, slateSize: config.slateSize, catalog: new Map(config.items.map((item) => [item.id, item])) } };
}

export default async function run(task: SlateWorkerTask): Promise<ComputedBatch | { ready: true }> {
  ready ??= open();
  const { served, ctx } = await ready;
  if (task.kind === 'init') return { ready: true };
  return computeBatch(served.pipeline, ctx, task.subjects, task.requests);
}
