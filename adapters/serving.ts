/**
 * Composition: opens a served pipeline from a model artifacts folder — the model registry (core) loading
 * versions with the ONNX loader and their ANN index (adapters), behind the core pipeline
 * (core/pipeline/compose.ts). The origin, the nightly, the export, the benchmarks and the tests all open their
 * pipeline with openServedPipeline; the options say what differs (hot reload or one fixed version, the
 * catalogue, exploration, execution providers, ANN library).
 */
import { basename, dirname, join } from 'node:path';
import type { Item } from '../shared/catalog/types.ts';
import type { Rng } from '../shared/util/rng.ts';
import type { AnnKind } from '../core/ports/ann.ts';
import type { ItemCatalog } from '../core/ports/catalog.ts';
import { composePipeline, type ComposedPipeline } from '../core/pipeline/compose.ts';
import type { PipelineSettings } from '../core/pipeline/settings.ts';
import type { ItemStatsSource } from '../core/pipeline/stages/item-stats.ts';
import { popularIndices } from '../core/pipeline/stages/popular.ts';
import { ModelRegistry } from '../core/registry/model-registry.ts';
import type { AnnBuildOptions } from './ann/options.ts';
import { InMemoryItemCatalog } from './memory/item-catalog.ts';
import { DEFAULT_EXECUTION, parseExecutionProviders, type ExecutionConfig } from './onnx/execution.ts';
import { onnxModelLoader } from './onnx/loaded-model.ts';

export interface ServingOptions {
  /** Folder holding current.json and one folder per model version. */
  artifactsRoot: string;
  /** Serve exactly this version folder and ignore current.json (the nightly pins the version it started with). */
  fixedVersion?: string | undefined;
  /** current.json poll interval (ms); 0 = no hot reload. Default 5000. */
  pollMs?: number | undefined;
  /** Stock and display data for rules and reasons: a catalogue, or the items to build one from. */
  catalog: ItemCatalog | readonly Item[];
  /**
   * The catalogue's items for the cold-start fallback: those the model version was not trained on are embedded
   * from their content and join the ANN index (core/registry/cold-start.ts). Default: `catalog` when it is an
   * Item[]; the origin passes its latest catalogue read. Omit (and pass an ItemCatalog) to serve trained items only.
   */
  coldStartItems?: (() => readonly Item[] | Promise<readonly Item[]>) | undefined;
  /** Click stats for exploration (the feature store's itemStats); none = uniform priors. */
  itemStats?: ItemStatsSource | undefined;
  /** Overrides of the pipeline defaults (e.g. explorationSlots: 0 for deterministic slates). */
  settings?: Partial<PipelineSettings> | undefined;
  /** ONNX execution providers and threads; default from env (executionFromEnv). */
  execution?: ExecutionConfig | undefined;
  annKind?: AnnKind | undefined;
  /** Graph/search options (connectivity, expansion, build threads). */
  ann?: AnnBuildOptions | undefined;
  /** Where ANN graphs are cached; default <artifactsRoot>/.ann-cache (self-gitignored); null = always build. */
  annCacheDir?: string | null | undefined;
  /** Seeded RNG for reproducible exploration (tests). */
  rng?: Rng | undefined;
  batchWindowMs?: number | undefined;
  maxBatch?: number | undefined;
  /** Told the size of each micro-batch of concurrent requests (the origin's metrics). */
  onBatch?: ((size: number) => void) | undefined;
  log?: ((line: Record<string, unknown>) => void) | undefined;
}

export interface ServedPipeline {
  pipeline: ComposedPipeline;
  registry: ModelRegistry;
  /**
   * Call when the catalogue changed: when it holds items the served version lacks, the version is loaded again
   * with their cold-start embeddings and swapped in (resolves true then).
   */
  catalogChanged(): Promise<boolean>;
  close(): Promise<void>;
}

/** Execution config from env: ONNX_EXECUTION_PROVIDERS=cuda,cpu ONNX_INTRA_OP_THREADS=1 (same names as the origin's config; ORT_* accepted too). */
export function executionFromEnv(env: NodeJS.ProcessEnv = process.env): ExecutionConfig {
  return {
    executionProviders: parseExecutionProviders(env.ONNX_EXECUTION_PROVIDERS ?? env.ORT_EXECUTION_PROVIDERS),
    intraOpNumThreads: Number(env.ONNX_INTRA_OP_THREADS ?? env.ORT_INTRA_OP_THREADS ?? DEFAULT_EXECUTION.intraOpNumThreads) || 1,
  };
}

/** Loads the model version(s) and returns the pipeline over them; close() releases the models. */
export async function openServedPipeline(options: ServingOptions): Promise<ServedPipeline> {
  const coldStartItems = options.coldStartItems ?? (isCatalog(options.catalog) ? undefined : ((items: readonly Item[]) => () => items)(options.catalog));
  const registry = new ModelRegistry({
    artifactsRoot: options.artifactsRoot,
    pollMs: options.pollMs ?? 5000,
    fixedVersion: options.fixedVersion,
    loader: onnxModelLoader({
      execution: options.execution ?? executionFromEnv(),
      annKind: options.annKind,
      ann: options.ann,
      annCacheDir: options.annCacheDir === null ? undefined : (options.annCacheDir ?? join(options.artifactsRoot, '.ann-cache')),
      catalogItems: coldStartItems,
    }),
    // Sorting a 1M-item catalogue by popularity takes ~1 s: do it before the swap, not in a request.
    prepare: (model) => void popularIndices(model.space),
    log: options.log ?? ((line) => process.stderr.write(`${JSON.stringify({ component: 'model-registry', ...line })}\n`)),
  });
  await registry.start();
  const catalog = isCatalog(options.catalog) ? options.catalog : new InMemoryItemCatalog(options.catalog);
  const pipeline = composePipeline({
    registry,
    catalog,
    itemStats: options.itemStats,
    settings: options.settings,
    rng: options.rng,
    batchWindowMs: options.batchWindowMs,
    maxBatch: options.maxBatch,
    onBatch: options.onBatch,
  });
  const catalogChanged = async (): Promise<boolean> => {
    if (!coldStartItems) return false;
    const lease = registry.acquire();
    if (!lease) return false;
    let missing: boolean;
    try {
      const space = lease.model.space;
      missing = (await coldStartItems()).some((item) => space.itemIndex(item.id) === 0);
    } finally {
      lease.release();
    }
    return missing ? registry.refresh() : false;
  };
  return { pipeline, registry, catalogChanged, close: () => registry.close() };
}

/**
 * Up to this many items the nightly retrieves exactly, in batches (adapters/ann/gemm-index.ts): it asks for 256
 * users at a time, and one matrix product per batch then costs less per user than HNSW (measured at 1M × 64,
 * docs/nightly.md), finds the true top-k and needs no graph. Exact search grows with the catalogue and HNSW with
 * about its logarithm, so past this size the nightly uses the origin's HNSW graph.
 */
export const NIGHTLY_EXACT_MAX_ITEMS = 2_000_000;

export function nightlyAnnKind(items: number): AnnKind {
  return items <= NIGHTLY_EXACT_MAX_ITEMS ? 'gemm' : 'usearch';
}

/**
 * The options of a deterministic batch run (nightly, benchmarks): one version folder, no hot reload, no
 * exploration, so slates are reproducible and a resumed run writes what an uninterrupted one would.
 */
export function fixedVersionServing(versionDir: string, items: readonly Item[], annKind: AnnKind = nightlyAnnKind(items.length)): ServingOptions {
  return { artifactsRoot: dirname(versionDir), fixedVersion: basename(versionDir), pollMs: 0, catalog: items, settings: { explorationSlots: 0 }, annKind };
}

function isCatalog(catalog: ItemCatalog | readonly Item[]): catalog is ItemCatalog {
  return !Array.isArray(catalog);
}
