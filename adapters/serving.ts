/**
 * Composition: opens a served pipeline from a model artifacts folder — the model registry (core) with the
 * ONNX loader and the ANN index (adapters) behind the core pipeline. The origin (createOriginPipeline), the
 * nightly (createPipelineFromArtifacts: one version folder, no hot reload, no exploration) and the
 * benchmarks all open their pipeline here.
 */
import { basename, dirname, join } from 'node:path';
import type { Item } from '../shared/catalog/types.ts';
import { DEFAULT_EXECUTION, parseExecutionProviders, type ExecutionConfig } from './onnx/execution.ts';
import { ModelRegistry } from '../core/registry/model-registry.ts';
import { onnxModelLoader } from './onnx/loaded-model.ts';
import type { AnnKind } from '../core/ports/ann.ts';
import type { AnnBuildOptions } from './ann/options.ts';
import { type ItemCatalog } from '../core/ports/catalog.ts';
import { InMemoryItemCatalog } from './memory/item-catalog.ts';
import { popularIndices } from '../core/pipeline/paths.ts';
import { createModelPipeline, type ItemStatsSource } from '../core/pipeline/pipeline.ts';
import type { PipelineSettings } from '../core/pipeline/settings.ts';
import type { Pipeline } from '../core/pipeline/types.ts';
import type { Rng } from '../shared/util/rng.ts';

export interface OriginPipelineOptions {
  artifactsRoot: string;
  catalog: ItemCatalog;
  itemStats?: ItemStatsSource | undefined;
  settings?: Partial<PipelineSettings> | undefined;
  /** current.json poll interval (ms); 0 = no hot reload. */
  pollMs?: number | undefined;
  fixedVersion?: string | undefined;
  execution?: ExecutionConfig | undefined;
  annKind?: AnnKind | undefined;
  /** Graph/search options (connectivity, expansion, build threads). */
  ann?: AnnBuildOptions | undefined;
  /** Where ANN graphs are cached; default <artifactsRoot>/.ann-cache (self-gitignored). */
  annCacheDir?: string | null | undefined;
  rng?: Rng | undefined;
  batchWindowMs?: number | undefined;
  maxBatch?: number | undefined;
  log?: ((line: Record<string, unknown>) => void) | undefined;
}

export interface OriginPipeline {
  pipeline: Pipeline & { readonly batchSizes: readonly number[] };
  registry: ModelRegistry;
  close(): Promise<void>;
}

/** Execution config from env: ONNX_EXECUTION_PROVIDERS=cuda,cpu ONNX_INTRA_OP_THREADS=1 (same names as the origin's config; ORT_* accepted too). */
export function executionFromEnv(env: NodeJS.ProcessEnv = process.env): ExecutionConfig {
  return {
    executionProviders: parseExecutionProviders(env.ONNX_EXECUTION_PROVIDERS ?? env.ORT_EXECUTION_PROVIDERS),
    intraOpNumThreads: Number(env.ONNX_INTRA_OP_THREADS ?? env.ORT_INTRA_OP_THREADS ?? DEFAULT_EXECUTION.intraOpNumThreads) || 1,
  };
}

export async function createOriginPipeline(options: OriginPipelineOptions): Promise<OriginPipeline> {
  const registry = new ModelRegistry({
    artifactsRoot: options.artifactsRoot,
    pollMs: options.pollMs ?? 5000,
    fixedVersion: options.fixedVersion,
    loader: onnxModelLoader({
      execution: options.execution ?? executionFromEnv(),
      annKind: options.annKind ?? 'usearch',
      ann: options.ann,
      annCacheDir: options.annCacheDir === null ? undefined : (options.annCacheDir ?? join(options.artifactsRoot, '.ann-cache')),
    }),
    // Sorting a 1M-item catalogue by popularity takes ~1 s: do it before the swap, not in a request.
    prepare: (model) => void popularIndices(model.space),
    log: options.log ?? ((line) => process.stderr.write(`${JSON.stringify({ component: 'model-registry', ...line })}\n`)),
  });
  await registry.start();
  const pipeline = createModelPipeline({
    registry,
    catalog: options.catalog,
    itemStats: options.itemStats,
    settings: options.settings,
    rng: options.rng,
    batchWindowMs: options.batchWindowMs,
    maxBatch: options.maxBatch,
  });
  return { pipeline, registry, close: () => registry.close() };
}

/**
 * The nightly's entry point: the pipeline for one version folder, no hot reload, no exploration. Without a
 * catalogue every feature-space item counts as available (the nightly passes its catalogue when it can).
 */
export async function createPipelineFromArtifacts(versionDir: string, options: { items?: readonly Item[]; catalog?: ItemCatalog } = {}): Promise<Pipeline> {
  const catalog = options.catalog ?? (options.items ? new InMemoryItemCatalog(options.items) : null);
  const made = await createOriginPipeline({
    artifactsRoot: dirname(versionDir),
    fixedVersion: basename(versionDir),
    pollMs: 0,
    catalog: catalog ?? { get: () => undefined, isAvailable: () => true, size: 0 },
    settings: { explorationSlots: 0 },
  });
  return made.pipeline;
}
