/**
 * The model pipeline: features → user tower → ANN (1000 candidates) → business rules → DLRM → re-rank.
 * Work is done per batch of requests: concurrent recommend() calls are micro-batched (≤ windowMs or
 * maxBatch requests) so they share one user-tower run, one ANN batch search and one DLRM run; the nightly's
 * recommendBatch enters the same code directly. Any failing stage degrades (flagged), never throws.
 */
import type { ItemStats } from '../ports/feature-store.ts';
import { encodeDlrm, encodeUserTower, type DlrmInput, type RankCandidate } from '../../shared/features/encode.ts';
import { DLRM_DENSE_FEATURES, DLRM_SPARSE_FEATURES } from '../../shared/features/spec.ts';
import { applyRules } from '../../shared/rerank/rules.ts';
import { createRng, type Rng } from '../../shared/util/rng.ts';
import type { LoadedModel } from '../ports/model.ts';
import type { ModelRegistry } from '../registry/model-registry.ts';
import { blendScores } from './blend.ts';
import { MicroBatcher } from './micro-batcher.ts';
import type { ItemCatalog } from '../ports/catalog.ts';
import { choosePath, popularIndices, type CandidatePath } from './paths.ts';
import { rerank, type RankedCandidate } from './rerank-stage.ts';
import { DEFAULT_PIPELINE_SETTINGS, resolveSettings, type PipelineSettings } from './settings.ts';
import type { Pipeline, PipelineRequest, PipelineResult } from './types.ts';

export type ItemStatsSource = (itemIds: readonly string[]) => Promise<Map<string, ItemStats>>;

export interface ModelPipelineOptions {
  registry: ModelRegistry;
  catalog: ItemCatalog;
  /** Click stats for exploration (the FeatureStore's itemStats); none = uniform priors. */
  itemStats?: ItemStatsSource | undefined;
  settings?: Partial<PipelineSettings> | undefined;
  /** Seeded RNG for reproducible exploration (tests); default seeded from the clock. */
  rng?: Rng | undefined;
  batchWindowMs?: number | undefined;
  maxBatch?: number | undefined;
}

interface Work {
  request: PipelineRequest;
  settings: PipelineSettings;
  path: CandidatePath;
  degraded: string[];
  excluded: Set<string>;
  candidates: RankCandidate[];
  ids: string[];
  scores: Float32Array;
}

const timed = async <T>(stageMs: Record<string, number>, stage: string, fn: () => Promise<T> | T): Promise<T> => {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    stageMs[stage] = (stageMs[stage] ?? 0) + (performance.now() - t0);
  }
};

export function createModelPipeline(options: ModelPipelineOptions): Pipeline & { readonly batchSizes: readonly number[] } {
  const base = resolveSettings(DEFAULT_PIPELINE_SETTINGS, options.settings);
  const rng = options.rng ?? createRng((Date.now() ^ (process.pid << 8)) >>> 0);
  const registry = options.registry;

  async function runGroup(requests: readonly PipelineRequest[], version: string | undefined): Promise<PipelineResult[]> {
    const stageMs: Record<string, number> = {};
    const lease = registry.acquire(version);
    try {
      const model = lease?.model ?? null;
      const fallback = registry.fallbackSpace();
      const space = model?.space ?? fallback?.space ?? null;
      const modelVersion = model?.version ?? registry.version;
      const works: Work[] = requests.map((request) => {
        const settings = resolveSettings(base, request.settings);
        const chosen = space ? choosePath(space, request) : null;
        // Without a model only the popularity path exists; the visitor's items still explain nothing then.
        const path: CandidatePath = chosen && model ? chosen : { source: 'popular', towerHistory: chosen?.towerHistory ?? [], segment: undefined };
        const degraded: string[] = [];
        if (version !== undefined && model && model.version !== version) degraded.push('variant-model-unavailable');
        if (!model) degraded.push('model-unavailable');
        if (model && (path.source === 'segment' || path.source === 'popular')) degraded.push('no-history');
        const excluded = new Set([...request.excludeIds, ...request.history, ...request.sessionItems]);
        return { request, settings, path, degraded, excluded, candidates: [], ids: [], scores: new Float32Array(0) };
      });
      if (!space) return works.map((w) => ({ items: [], modelVersion, degraded: [...w.degraded, 'no-feature-space'], stageMs, source: 'popular' }));
      const personal = model ? works.filter((w) => w.path.source !== 'popular') : [];
      if (model && personal.length > 0) await retrieve(model, personal, stageMs);
      await timed(stageMs, 'rules', () => {
        for (const w of works) if (w.path.source === 'popular' || w.candidates.length === 0) popularCandidates(space, w);
        for (const w of works) {
          const kept = applyRules(w.candidates.map((c) => ({ ...c, id: space.itemId(c.index) ?? '' })), { excluded: w.excluded, isAvailable: (id) => options.catalog.isAvailable(id) }).kept;
          w.candidates = kept;
          w.ids = kept.map((c) => c.id);
        }
      });
      if (model) await rank(model, works.filter((w) => w.path.source !== 'popular' && w.candidates.length > 0), stageMs);
      for (const w of works) if (w.scores.length !== w.candidates.length) w.scores = popularityScores(space, w.candidates);
      const stats = await timed(stageMs, 'item_stats', () => statsFor(works));
      const slates = await timed(stageMs, 'rerank', () =>
        works.map((w) => {
          const ranked: RankedCandidate[] = w.candidates.map((c, i) => ({ id: w.ids[i]!, index: c.index, score: w.scores[i]! })).sort((a, b) => b.score - a.score || a.index - b.index);
          const slots = explorationSlotsFor(w);
          const items = rerank(ranked, {
            space,
            catalog: options.catalog,
            similarity: model ? (a, b) => model.itemSimilarity(a, b) : undefined,
            k: w.request.k,
            mmrLambda: w.settings.mmrLambda,
            categoryCapShare: w.settings.categoryCapShare,
            explorationSlots: stats.ok ? slots : 0,
            stats: stats.map,
            rng,
            source: w.path.source,
            anchors: w.path.towerHistory,
            now: w.request.now,
          }, w.settings.rerankPool);
          const degraded = slots > 0 && !stats.ok ? [...w.degraded, 'item-stats-unavailable'] : w.degraded;
          return { items, modelVersion, degraded, source: w.path.source };
        }),
      );
      return slates.map((s) => ({ ...s, stageMs: { ...stageMs } }));
    } finally {
      lease?.release();
    }

    async function statsFor(works: readonly Work[]): Promise<{ ok: boolean; map: Map<string, ItemStats> }> {
      const wanting = works.filter((w) => explorationSlotsFor(w) > 0);
      if (wanting.length === 0 || !options.itemStats) return { ok: true, map: new Map() };
      const ids = [...new Set(wanting.flatMap((w) => w.ids.slice(0, w.settings.rerankPool * 2)))];
      try {
        return { ok: true, map: await options.itemStats(ids) };
      } catch {
        return { ok: false, map: new Map() };
      }
    }
  }

  async function retrieve(model: LoadedModel, works: Work[], stageMs: Record<string, number>): Promise<void> {
    let embeddings: Float32Array;
    try {
      const inputs = await timed(stageMs, 'features', () => works.map((w) => encodeUserTower(model.space, { segment: w.path.segment, history: w.path.towerHistory })));
      embeddings = await timed(stageMs, 'user_tower', () => model.embedUsers(inputs));
    } catch {
      for (const w of works) fallBack(w, 'user-tower-failed');
      return;
    }
    try {
      const k = Math.max(...works.map((w) => w.settings.candidates));
      const hits = await timed(stageMs, 'ann', () => model.index.searchBatch(embeddings, Math.min(k, model.index.size)));
      works.forEach((w, i) => {
        const h = hits[i];
        if (!h) throw new Error('ANN returned fewer results than queries');
        const n = Math.min(h.rows.length, w.settings.candidates);
        w.candidates = Array.from({ length: n }, (_, j) => ({ index: h.rows[j]! + 1, retrievalScore: h.scores[j]! }));
      });
    } catch {
      for (const w of works) fallBack(w, 'ann-failed');
    }
  }

  async function rank(model: LoadedModel, works: Work[], stageMs: Record<string, number>): Promise<void> {
    if (works.length === 0) return;
    try {
      const inputs = await timed(stageMs, 'features', () => works.map((w) => encodeDlrm(model.space, { segment: w.path.segment, history: w.path.towerHistory }, w.candidates, w.request.now)));
      const scores = await timed(stageMs, 'dlrm', () => model.scoreCandidates(concatDlrm(inputs)));
      let offset = 0;
      for (const w of works) {
        const dlrm = scores.subarray(offset, offset + w.candidates.length);
        offset += w.candidates.length;
        w.scores = blendScores(dlrm, Float32Array.from(w.candidates, (c) => c.retrievalScore), w.settings.dlrmWeight);
      }
    } catch {
      // Ranker down: keep the personal candidates, ordered by retrieval similarity.
      for (const w of works) {
        w.degraded.push('ranker-failed');
        w.scores = Float32Array.from(w.candidates, (c) => c.retrievalScore);
      }
    }
  }

  function fallBack(w: Work, reason: string): void {
    w.degraded.push(reason);
    w.path = { ...w.path, source: 'popular' };
    w.candidates = [];
  }

  const batcher = new MicroBatcher<PipelineRequest, PipelineResult>((requests) => runBatch(requests), {
    windowMs: options.batchWindowMs ?? 2,
    maxItems: options.maxBatch ?? 64,
  });

  async function runBatch(requests: readonly PipelineRequest[]): Promise<PipelineResult[]> {
    const groups = new Map<string, number[]>();
    requests.forEach((r, i) => {
      const key = r.settings?.modelVersion ?? '';
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const results: PipelineResult[] = new Array(requests.length);
    for (const [key, positions] of groups) {
      const out = await runGroup(positions.map((p) => requests[p]!), key === '' ? undefined : key);
      positions.forEach((p, j) => (results[p] = out[j]!));
    }
    return results;
  }

  return {
    recommend: (request) => batcher.submit(request),
    recommendBatch: async (requests) => {
      const out: PipelineResult[] = [];
      const chunk = options.maxBatch ?? 64;
      for (let i = 0; i < requests.length; i += chunk) out.push(...(await runBatch(requests.slice(i, i + chunk))));
      return out;
    },
    get modelVersion() {
      return registry.version;
    },
    get batchSizes() {
      return batcher.batchSizes;
    },
  };
}

/** Request's slots (nightly: 0) capped by the setting and by k/5, so exploration never crowds a short slate. */
function explorationSlotsFor(w: Work): number {
  const asked = Math.min(w.request.explorationSlots ?? w.settings.explorationSlots, w.settings.explorationSlots);
  return Math.min(asked, Math.max(1, Math.floor(w.request.k / 5)));
}

function popularCandidates(space: NonNullable<LoadedModel['space']>, w: Work): void {
  const order = popularIndices(space);
  const n = Math.min(order.length, w.settings.candidates + w.excluded.size);
  w.candidates = Array.from({ length: n }, (_, j) => ({ index: order[j]!, retrievalScore: 0 }));
}

function popularityScores(space: NonNullable<LoadedModel['space']>, candidates: readonly RankCandidate[]): Float32Array {
  const max = Math.max(1, ...candidates.map((c) => space.popularity(c.index)));
  return Float32Array.from(candidates, (c) => space.popularity(c.index) / max);
}

function concatDlrm(inputs: readonly DlrmInput[]): DlrmInput {
  const rows = inputs.reduce((n, x) => n + x.rows, 0);
  const sparse = new Int32Array(rows * DLRM_SPARSE_FEATURES.length);
  const dense = new Float32Array(rows * DLRM_DENSE_FEATURES.length);
  let r = 0;
  for (const x of inputs) {
    sparse.set(x.sparse, r * DLRM_SPARSE_FEATURES.length);
    dense.set(x.dense, r * DLRM_DENSE_FEATURES.length);
    r += x.rows;
  }
  return { rows, sparse, dense };
}
