/**
 * The ONNX model loader: one version folder → a LoadedModel (core/ports/model.ts) with the user tower and
 * DLRM sessions in onnxruntime-node, the item embeddings and their ANN index. This module owns the sessions
 * (load, warm-up, run, dispose); callers see `embedUsers(batch)`, `scoreCandidates(batch)`, `index` and
 * `itemSimilarity` only. onnxModelLoader(options) is what the model registry is given.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { MODEL_IO, type ModelManifest } from '../../shared/contracts/manifest.ts';
import { FeatureSpace } from '../../shared/features/feature-space.ts';
import type { Item } from '../../shared/catalog/types.ts';
import { fnv1a32 } from '../../shared/util/hash.ts';
import { extendWithNewItems } from '../../core/registry/cold-start.ts';
import { sessionRerankFeeds, type SessionRerankInput } from '../../shared/features/encode.ts';
import { projectSessionVectors } from '../../shared/features/session-vectors.ts';
import { DLRM_DENSE_FEATURES, DLRM_SPARSE_FEATURES, FEATURE_SPEC_VERSION, HISTORY_LENGTH, NEIGHBOUR_HISTORY } from '../../shared/features/spec.ts';
import type { AnnIndex, AnnKind } from '../../core/ports/ann.ts';
import type { ItemNeighbours, LoadedModel, ModelLoader } from '../../core/ports/model.ts';
import { readEmbeddings, readFeatureSpace, readManifest, readSessionProjection } from '../../core/registry/artifacts.ts';
import type { AnnBuildOptions } from '../ann/options.ts';
import { buildOrLoadAnnIndex, SCAN_MAX_ITEMS, servingAnn } from '../ann/build.ts';
import { createSession, DEFAULT_EXECUTION, float32Tensor, floatOutput, int64Tensor, type ExecutionConfig } from './execution.ts';

export interface ModelLoadOptions {
  execution?: ExecutionConfig;
  /** Default: servingAnnKind(items) — the exact int8 scan up to 2M items where it is built, else HNSW. */
  annKind?: AnnKind | undefined;
  ann?: AnnBuildOptions;
  /** Folder for cached ANN graphs (self-gitignored); undefined = always build. */
  annCacheDir?: string | undefined;
  /**
   * The catalogue now: items it holds that the version was not trained on get a content-fallback embedding
   * (core/registry/cold-start.ts) and join the ANN index, so they are retrievable before the next retrain.
   */
  catalogItems?: (() => readonly Item[] | Promise<readonly Item[]>) | undefined;
}

/** item_neighbours.bin: int32 n x m indices, then float32 n x m weights (little-endian). */
async function readNeighbours(dir: string, manifest: ModelManifest): Promise<ItemNeighbours | undefined> {
  const file = manifest.files.itemNeighbours;
  const perItem = manifest.itemNeighboursPerItem;
  if (!file || !perItem) return undefined;
  const bytes = await readFile(join(dir, file));
  const cells = manifest.itemCount * perItem;
  if (bytes.byteLength !== cells * 8) throw new Error(`item neighbours: ${bytes.byteLength} bytes, expected ${cells * 8}`);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return { perItem, window: manifest.itemNeighboursWindow ?? NEIGHBOUR_HISTORY, items: new Int32Array(buffer, 0, cells), weights: new Float32Array(buffer, cells * 4, cells) };
}

/** |‖row‖² − 1| up to which a row counts as unit length (‖row‖ within 5e-6 of 1: float32 round-off of a normalised row). */
const UNIT_TOLERANCE = 1e-5;

/**
 * The rows scaled to unit length. The item tower already L2-normalises its outputs (and the content fallback its
 * cold-start rows), so when every row is unit length (or zero) the same array is returned instead of a copy: at 1M items × 64
 * that is 256 MB less per origin process.
 */
function normalisedRows(vectors: Float32Array, dim: number): Float32Array {
  if (allUnitLength(vectors, dim)) return vectors;
  const out = new Float32Array(vectors.length);
  for (let base = 0; base < vectors.length; base += dim) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += vectors[base + d]! ** 2;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dim; d++) out[base + d] = vectors[base + d]! * inv;
  }
  return out;
}

function allUnitLength(vectors: Float32Array, dim: number): boolean {
  for (let base = 0; base < vectors.length; base += dim) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += vectors[base + d]! ** 2;
    // An all-zero row (a cold-start item with no content match) stays zero when normalised too.
    if (norm !== 0 && !(Math.abs(norm - 1) <= UNIT_TOLERANCE)) return false;
  }
  return true;
}

/**
 * The cached graph depends on the embeddings (with any content-embedded items added) and the graph options, not
 * on how many threads built it nor on the search expansion (a search-time setting: one cached graph serves every ef).
 */
function annCacheKey(manifest: ModelManifest, ann: AnnBuildOptions | undefined, added: readonly string[] = []): string {
  const { threads: _threads, expansionSearch: _ef, quantization, ...rest } = ann ?? {};
  // f32 is the default: leaving it out keeps the names of graphs cached before quantisation was an option.
  const graph = quantization === undefined || quantization === 'f32' ? rest : { ...rest, quantization };
  const extra = added.length === 0 ? '' : `+${added.length}-${fnv1a32(added.join(',')).toString(36)}`;
  return `${manifest.version}-${manifest.itemCount}x${manifest.embeddingDim}${extra}-${JSON.stringify(graph).replace(/\W/g, '')}`;
}

/** The loader the model registry is given: ONNX sessions with these execution and ANN options. */
export function onnxModelLoader(options: ModelLoadOptions = {}): ModelLoader {
  return { load: (dir) => loadModel(dir, options) };
}

/** Loads a version folder and warms it up (first runs allocate arenas; do that before serving). */
export async function loadModel(dir: string, options: ModelLoadOptions = {}): Promise<LoadedModel> {
  const manifest = await readManifest(dir);
  if (manifest.featureSpecVersion !== FEATURE_SPEC_VERSION) {
    throw new Error(`model ${manifest.version} uses feature spec ${manifest.featureSpecVersion}, this code speaks ${FEATURE_SPEC_VERSION}`);
  }
  const trainedSpace = await readFeatureSpace(dir, manifest);
  const execution = options.execution ?? DEFAULT_EXECUTION;
  const [tower, dlrm, trainedEmbeddings, neighbours, reranker, projection] = await Promise.all([
    readFile(join(dir, manifest.files.userTower)).then((b) => createSession(b, execution)),
    readFile(join(dir, manifest.files.dlrm)).then((b) => createSession(b, execution)),
    readEmbeddings(dir, manifest),
    readNeighbours(dir, manifest),
    // The session reranker is optional at the origin: a version without a readable one serves without it.
    readFile(join(dir, manifest.files.sessionReranker)).then((b) => createSession(b, execution)).catch(() => null),
    readSessionProjection(dir, manifest),
  ]);
  const dim = manifest.embeddingDim;
  // Without a readable catalogue (database down) the version is served with its trained items only.
  const loadWarnings: string[] = [];
  const catalog = options.catalogItems
    ? await Promise.resolve()
        .then(options.catalogItems)
        .catch((error: unknown) => {
          loadWarnings.push(`cold start skipped: catalogue unreadable (${error instanceof Error ? error.message : String(error)})`);
          return [];
        })
    : [];
  const extended = extendWithNewItems(trainedSpace.data, trainedEmbeddings, dim, catalog, new Map(catalog.map((item) => [item.id, item.title])));
  const space = extended.added === 0 ? trainedSpace : new FeatureSpace(extended.space);
  const embeddings = extended.embeddings;
  // The default (servingAnn): the int8 scan, or the graph with the reason, said when the catalogue was small enough for the scan.
  const { kind: annKind, notServed } = options.annKind === undefined ? servingAnn(embeddings.length / dim) : { kind: options.annKind, notServed: undefined };
  if (notServed && embeddings.length / dim <= SCAN_MAX_ITEMS) loadWarnings.push(`ANN: searching the HNSW graph: ${notServed}`);
  const { index } = await buildOrLoadAnnIndex(
    annKind,
    embeddings,
    dim,
    options.annCacheDir,
    annCacheKey(manifest, options.ann, space.data.items.slice(manifest.itemCount)),
    options.ann,
  );
  const unit = normalisedRows(embeddings, dim);
  const sessionVectors = projection ? projectSessionVectors(embeddings, dim, projection) : undefined;
  const warnings = [...tower.warnings, ...dlrm.warnings, ...loadWarnings];
  const model = createLoadedModel({ dir, manifest, space, dim, unit, sessionVectors, index, neighbours, reranker: reranker?.session ?? null, tower: tower.session, dlrm: dlrm.session, warnings, providers: tower.providers, coldStartItems: extended.added });
  await warmUp(model);
  return model;
}

interface Parts {
  dir: string;
  manifest: ModelManifest;
  space: FeatureSpace;
  dim: number;
  unit: Float32Array;
  sessionVectors: Int8Array | undefined;
  index: AnnIndex;
  neighbours: ItemNeighbours | undefined;
  reranker: ort.InferenceSession | null;
  tower: ort.InferenceSession;
  dlrm: ort.InferenceSession;
  warnings: string[];
  providers: string[];
  /** Items past the trained ones (content fallback): the ONNX models see their ids as 0 = unknown. */
  coldStartItems: number;
}

/** Ids above the trained item count (cold-start items) → 0, so the ONNX embedding tables stay in range. */
function clampItemIds(values: Int32Array, trained: number, stride = 1, offset = 0): Int32Array {
  let out = values;
  for (let i = offset; i < values.length; i += stride) {
    if (values[i]! > trained) {
      if (out === values) out = values.slice();
      out[i] = 0;
    }
  }
  return out;
}

function createLoadedModel(p: Parts): LoadedModel {
  const [segmentName, historyName] = MODEL_IO.userTower.inputs;
  const [sparseName, denseName] = MODEL_IO.dlrm.inputs;
  return {
    version: p.manifest.version,
    dir: p.dir,
    manifest: p.manifest,
    space: p.space,
    dim: p.dim,
    unitEmbeddings: p.unit,
    sessionVectors: p.sessionVectors,
    index: p.index,
    neighbours: p.neighbours,
    warnings: p.warnings,
    providers: p.providers,
    coldStartItems: p.coldStartItems,
    async embedUsers(batch) {
      const n = batch.length;
      const segment = Int32Array.from(batch, (u) => u.segment);
      const history = new Int32Array(n * HISTORY_LENGTH);
      batch.forEach((u, i) => history.set(p.coldStartItems > 0 ? clampItemIds(u.history, p.manifest.itemCount) : u.history, i * HISTORY_LENGTH));
      const result = await p.tower.run({ [segmentName]: int64Tensor(segment, [n]), [historyName]: int64Tensor(history, [n, HISTORY_LENGTH]) });
      const out = floatOutput(result, MODEL_IO.userTower.outputs[0]);
      if (out.length !== n * p.dim) throw new Error(`user tower returned ${out.length} values, expected ${n * p.dim}`);
      return out;
    },
    async scoreCandidates(batch) {
      if (batch.rows === 0) return new Float32Array(0);
      const result = await p.dlrm.run({
        [sparseName]: int64Tensor(p.coldStartItems > 0 ? clampItemIds(batch.sparse, p.manifest.itemCount, DLRM_SPARSE_FEATURES.length, DLRM_SPARSE_FEATURES.indexOf('item')) : batch.sparse, [batch.rows, DLRM_SPARSE_FEATURES.length]),
        [denseName]: float32Tensor(batch.dense, [batch.rows, DLRM_DENSE_FEATURES.length]),
      });
      const out = floatOutput(result, MODEL_IO.dlrm.outputs[0]);
      if (out.length !== batch.rows) throw new Error(`DLRM returned ${out.length} scores, expected ${batch.rows}`);
      return out;
    },
    ...(p.reranker ? { scoreSession: (input: SessionRerankInput) => scoreSession(p.reranker!, input) } : {}),
    itemSimilarity(a, b) {
      if (a <= 0 || b <= 0 || a > p.space.itemCount || b > p.space.itemCount) return 0;
      const ba = (a - 1) * p.dim;
      const bb = (b - 1) * p.dim;
      let dot = 0;
      for (let d = 0; d < p.dim; d++) dot += p.unit[ba + d]! * p.unit[bb + d]!;
      return dot;
    },
    async dispose() {
      await Promise.allSettled([p.tower.release(), p.dlrm.release(), ...(p.reranker ? [p.reranker.release()] : [])]);
      p.index.dispose();
    },
  };
}

async function scoreSession(session: ort.InferenceSession, input: SessionRerankInput): Promise<Float32Array> {
  const result = await session.run(sessionRerankFeeds(input, { int64: (v, d) => int64Tensor(v, d), float32: (v, d) => float32Tensor(v, d) }, session.inputNames));
  const out = floatOutput(result, MODEL_IO.sessionReranker.outputs[0]);
  if (out.length !== input.candidates) throw new Error(`session reranker returned ${out.length} scores, expected ${input.candidates}`);
  return out;
}

async function warmUp(model: LoadedModel): Promise<void> {
  const history = new Int32Array(HISTORY_LENGTH);
  if (model.space.itemCount > 0) history[HISTORY_LENGTH - 1] = 1;
  const embedding = await model.embedUsers([{ segment: 0, history }, { segment: 1, history }]);
  model.index.search(embedding.slice(0, model.dim), 10);
  const rows = 8;
  await model.scoreCandidates({ rows, sparse: new Int32Array(rows * DLRM_SPARSE_FEATURES.length).fill(1), dense: new Float32Array(rows * DLRM_DENSE_FEATURES.length) });
}
