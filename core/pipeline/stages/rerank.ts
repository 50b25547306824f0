/**
 * Stage: the last one. Ranked, rule-checked candidates → the slate: MMR over the head of the ranking with
 * category caps, exploration slots by Thompson sampling, and one human reason per item.
 */
import type { RecommendedItem } from '../../../shared/contracts/recommend.ts';
import type { FeatureSpace } from '../../../shared/features/feature-space.ts';
import { insertExploration } from '../../../shared/rerank/exploration.ts';
import { attributeSimilarity, categoryCapFor, mmrSelect } from '../../../shared/rerank/mmr.ts';
import { reasonFor } from '../../../shared/rerank/reasons.ts';
import type { ClickStats } from '../../../shared/rerank/thompson.ts';
import type { Rng } from '../../../shared/util/rng.ts';
import type { ItemCatalog } from '../../ports/catalog.ts';
import type { LoadedModel } from '../../ports/model.ts';
import { DEFAULT_CATEGORY_CAP_SHARE, DEFAULT_MMR_LAMBDA, type PipelineSettings } from '../settings.ts';
import type { PipelineRequest, PipelineResult } from '../types.ts';
import type { CandidatePath } from './choose-path.ts';
import type { KeptCandidate } from './filter.ts';
import { explorationSlotsFor, type ItemStatsResult } from './item-stats.ts';

const DAY_MS = 86_400_000;

export interface RankedCandidate {
  id: string;
  index: number;
  score: number;
}

export interface RerankContext {
  space: FeatureSpace;
  catalog: ItemCatalog;
  /** Cosine similarity of two items by feature-space index; attribute similarity when absent. */
  similarity?: ((a: number, b: number) => number) | undefined;
  k: number;
  mmrLambda: number;
  categoryCapShare: number;
  explorationSlots: number;
  stats: ReadonlyMap<string, ClickStats>;
  rng: Rng;
  source: PipelineResult['source'];
  /** The visitor's items (newest last) that can explain a recommendation. */
  anchors: readonly string[];
  now: number;
}

/** The item similarity of MMR and reasons: the model's embeddings, else category and brand. */
function similarityOf({ space, similarity }: Pick<RerankContext, 'space' | 'similarity'>): (a: number, b: number) => number {
  return similarity ?? ((a, b) => attributeSimilarity({ category: space.category(a), brand: space.brand(a) }, { category: space.category(b), brand: space.brand(b) }));
}

/** What MMR needs to pick the slate from the head of a ranking. */
export type DiversifyOptions = Pick<RerankContext, 'space' | 'similarity' | 'k' | 'mmrLambda' | 'categoryCapShare'>;

/**
 * The slate's items before exploration: MMR with the category cap over the first `poolSize` of `ranked` (best
 * first). The trainer's serving choice (models/evaluate/choose-serving.ts) runs this same function.
 */
export function diversify(ranked: readonly RankedCandidate[], options: DiversifyOptions, poolSize: number): RankedCandidate[] {
  const head = ranked.slice(0, poolSize);
  const sim = similarityOf(options);
  const { space } = options;
  const pool = head.map((c) => ({ id: c.id, score: c.score, category: space.category(c.index) }));
  return mmrSelect(pool, {
    k: options.k,
    lambda: options.mmrLambda,
    maxPerCategory: categoryCapFor(options.k, options.categoryCapShare),
    similarity: (a, b) => sim(head[a]!.index, head[b]!.index),
  }).map((p) => head[p]!);
}

export function rerank(ranked: readonly RankedCandidate[], ctx: RerankContext, poolSize: number): RecommendedItem[] {
  const { space } = ctx;
  const sim = similarityOf(ctx);
  const chosen = diversify(ranked, ctx, poolSize);
  // Every id of the slate comes from the head or the exploration pool (ranked[0, 2 · pool)): no need to index all.
  const byId = new Map(ranked.slice(0, poolSize * 2).map((c) => [c.id, c]));
  let ids = chosen.map((c) => c.id);
  let explored = new Set<string>();
  if (ctx.explorationSlots > 0) {
    const result = insertExploration({ slate: ids, pool: ranked.slice(0, poolSize * 2).map((c) => c.id), stats: ctx.stats, slots: ctx.explorationSlots, k: ctx.k, rng: ctx.rng });
    ids = result.ids;
    explored = result.explored;
  }
  const anchorIndices = ctx.anchors.slice(-20).map((id) => ({ id, index: space.itemIndex(id) })).filter((a) => a.index > 0);
  return ids.map((id) => {
    const candidate = byId.get(id)!;
    const item = ctx.catalog.get(id);
    let anchor: { id: string; similarity: number } | undefined;
    const category = space.category(candidate.index);
    for (const a of anchorIndices) {
      // Only an item of the same category explains a recommendation in words a shopper accepts.
      if (space.category(a.index) !== category) continue;
      const s = sim(a.index, candidate.index);
      if (!anchor || s > anchor.similarity) anchor = { id: a.id, similarity: s };
    }
    const categoryName = item?.category ?? space.data.categories[space.category(candidate.index) - 1] ?? 'our shop';
    const createdAt = item?.createdAt ?? space.createdAt(candidate.index);
    const reason = reasonFor({
      anchorTitle: anchor ? (ctx.catalog.get(anchor.id)?.title ?? anchor.id) : undefined,
      anchorSimilarity: anchor?.similarity,
      ageDays: Math.max(0, (ctx.now - createdAt) / DAY_MS),
      categoryName,
      source: ctx.source,
      explored: explored.has(id),
    });
    const out: RecommendedItem = { id, score: Math.round(candidate.score * 1e6) / 1e6, reason, category: categoryName };
    if (item) Object.assign(out, { title: item.title, price: item.price, image: item.image });
    return out;
  });
}

/** One request's scored candidates, as the rank stage leaves them. */
export interface RerankInput {
  readonly request: PipelineRequest;
  readonly settings: PipelineSettings;
  readonly path: CandidatePath;
  /** Rule-checked candidates and one score each (same order). */
  readonly candidates: readonly KeptCandidate[];
  readonly scores: Float32Array;
  readonly degraded: readonly string[];
}

/** What every slate of a batch shares. */
export interface RerankBatch {
  space: FeatureSpace;
  catalog: ItemCatalog;
  /** Item-embedding similarity for MMR and reasons; attribute similarity without a model. */
  model: LoadedModel | null;
  stats: ItemStatsResult;
  rng: Rng;
}

export function rerankSlate(input: RerankInput, batch: RerankBatch): { items: RecommendedItem[]; degraded: string[] } {
  const { request, settings, path } = input;
  const { model } = batch;
  const ranked: RankedCandidate[] = input.candidates.map((c, i) => ({ id: c.id, index: c.index, score: input.scores[i]! })).sort((a, b) => b.score - a.score || a.index - b.index);
  const slots = explorationSlotsFor(request, settings);
  const items = rerank(
    ranked,
    {
      space: batch.space,
      catalog: batch.catalog,
      similarity: model ? (a, b) => model.itemSimilarity(a, b) : undefined,
      k: request.k,
      mmrLambda: settings.mmrLambda ?? model?.manifest.serving?.mmrLambda ?? DEFAULT_MMR_LAMBDA,
      categoryCapShare: settings.categoryCapShare ?? model?.manifest.serving?.categoryCapShare ?? DEFAULT_CATEGORY_CAP_SHARE,
      explorationSlots: batch.stats.ok ? slots : 0,
      stats: batch.stats.map,
      rng: batch.rng,
      source: path.source,
      anchors: path.towerHistory,
      now: request.now,
    },
    settings.rerankPool,
  );
  return { items, degraded: slots > 0 && !batch.stats.ok ? [...input.degraded, 'item-stats-unavailable'] : [...input.degraded] };
}
