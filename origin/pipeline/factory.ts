/**
 * Builds the production pipeline from config-like options; the nightly job imports
 * createPipelineFromArtifacts(versionDir) (scripts/nightly/pipeline.ts) and the origin service calls
 * createOriginPipeline with its catalogue, feature store and experiment settings.
 */
import { basename, dirname, join } from 'node:path';
import type { Item } from '../../shared/catalog/types.ts';
import { DEFAULT_EXECUTION, parseExecutionProviders, type ExecutionConfig } from '../models/execution.ts';
import { ModelRegistry } from '../models/registry.ts';
import type { AnnBuildOptions, AnnKind } from '../retrieval/ann-index.ts';
import { InMemoryItemCatalog, type ItemCatalog } from './catalog.ts';
import { popularIndices } from './paths.ts';
import { createModelPipeline, type ItemStatsSource } from './pipeline.ts';
import type { PipelineSettings } from './settings.ts';
import type { Pipeline } from './types.ts';
import type { Rng } from '../../shared/util/rng.ts';

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
    execution: options.execution ?? executionFromEnv(),
    annKind: options.annKind ?? 'usearch',
    ann: options.ann,
    annCacheDir: options.annCacheDir === null ? undefined : (options.annCacheDir ?? join(options.artifactsRoot, '.ann-cache')),
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
