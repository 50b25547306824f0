/**
 * Popularity baseline implementing the Pipeline port from the feature space alone: most popular items,
 * restricted to the segment's favourite categories when a segment is given, minus excludes. Used by the
 * nightly only when the origin's model pipeline cannot be built (no ONNX artifacts); it is labelled as such
 * in the model version ('popularity:<model>') so nothing downstream mistakes it for the model's output.
 */
import type { RecommendedItem } from '../../shared/contracts/recommend.ts';
import type { FeatureSpace } from '../../shared/features/feature-space.ts';
import type { Pipeline, PipelineRequest, PipelineResult } from '../../origin/pipeline/types.ts';

export function createPopularityPipeline(space: FeatureSpace, modelVersion: string): Pipeline {
  const byPopularity = Array.from({ length: space.itemCount }, (_, i) => i + 1).sort((a, b) => space.popularity(b) - space.popularity(a) || a - b);
  const maxPopularity = Math.max(1, space.popularity(byPopularity[0] ?? 0));
  const version = `popularity:${modelVersion}`;
  const recommendOne = (request: PipelineRequest): PipelineResult => {
    const t0 = performance.now();
    const exclude = new Set([...request.excludeIds, ...request.history]);
    const items: RecommendedItem[] = [];
    for (const index of byPopularity) {
      if (items.length >= request.k) break;
      const id = space.itemId(index);
      if (id === undefined || exclude.has(id)) continue;
      const category = space.data.categories[space.category(index) - 1] ?? '';
      items.push({ id, score: space.popularity(index) / maxPopularity, reason: request.segment ? `Popular with shoppers like you in ${category}` : `Popular in ${category}` });
    }
    return { items, modelVersion: version, degraded: ['popularity-baseline'], stageMs: { rerank: performance.now() - t0 }, source: 'popular' };
  };
  return {
    modelVersion: version,
    recommend: async (request) => recommendOne(request),
    recommendBatch: async (requests) => requests.map(recommendOne),
  };
}
