/**
 * The learned systems of the evaluation, run through the serving code itself: the version is opened with
 * adapters/serving.ts (ONNX sessions, ANN index, item neighbours, as the origin and the nightly open it) and
 * each stage's list comes from the core pipeline's own stage functions — retrieval (two-tower ANN, item-to-item),
 * ranking — while "served" is pipeline.recommendBatch (rules, ranking, MMR/caps re-rank; exploration off).
 */
import type { Item } from '../../shared/catalog/types.ts';
import { fixedVersionServing, openServedPipeline } from '../../adapters/serving.ts';
import { planRequest } from '../../core/pipeline/stages/choose-path.ts';
import { rank } from '../../core/pipeline/stages/rank.ts';
import { retrieve } from '../../core/pipeline/stages/retrieve.ts';
import { DEFAULT_PIPELINE_SETTINGS } from '../../core/pipeline/settings.ts';
import { StageClock } from '../../core/pipeline/stage-clock.ts';
import type { PipelineRequest } from '../../core/pipeline/types.ts';

export const STAGES = ['two-tower', 'item-to-item', 'retrieval+ranker', 'served'] as const;
export type Stage = (typeof STAGES)[number];

export interface ServedUser {
  segment: string | undefined;
  history: readonly string[];
  sessionItems?: readonly string[];
}

const order = (items: { index: number; score: number }[], exclude: ReadonlySet<number>, k: number): number[] =>
  items.filter((c) => !exclude.has(c.index)).sort((a, b) => b.score - a.score).slice(0, k).map((c) => c.index);

/** Top-k item indices per user for every stage; `now` is the request time (item-age features). */
export async function servedLists(modelDir: string, items: readonly Item[], users: readonly ServedUser[], k: number, now: number,
  progress: (done: number) => void = () => undefined): Promise<Record<Stage, number[][]>> {
  const served = await openServedPipeline({ ...fixedVersionServing(modelDir, items), annCacheDir: null, log: () => undefined });
  const out: Record<Stage, number[][]> = { 'two-tower': [], 'item-to-item': [], 'retrieval+ranker': [], served: [] };
  try {
    const lease = served.registry.acquire();
    if (!lease) throw new Error(`model ${modelDir} did not load`);
    const model = lease.model;
    const space = model.space;
    const unavailable = items.filter((item) => item.stock <= 0).map((item) => space.itemIndex(item.id));
    try {
      const batch = 64;
      for (let start = 0; start < users.length; start += batch) {
        const chunk = users.slice(start, start + batch);
        const requests: PipelineRequest[] = chunk.map((u) => ({ segment: u.segment, surface: 'evaluation', k, history: u.history, sessionItems: u.sessionItems ?? [], excludeIds: [], now, explorationSlots: 0 }));
        const planned = requests.map((request) => planRequest(request, { base: { ...DEFAULT_PIPELINE_SETTINGS, explorationSlots: 0 }, space, modelVersion: model.version, askedVersion: undefined }));
        const clock = new StageClock();
        const retrieved = await retrieve(model, planned, clock);
        const candidates = retrieved.map((r) => ('failed' in r ? [] : r.candidates));
        const ranked = await rank(model, planned.map((p, i) => ({ path: p.path, settings: p.settings, now, candidates: candidates[i]! })), clock);
        const slates = await served.pipeline.recommendBatch(requests);
        chunk.forEach((u, i) => {
          // The stage lists obey the rules' availability as the served list does: no out-of-stock items.
          const exclude = new Set([...u.history, ...(u.sessionItems ?? [])].map((id) => space.itemIndex(id)).concat(unavailable));
          const c = candidates[i]!;
          out['two-tower'].push(order(c.slice(0, planned[i]!.settings.candidates).map((x) => ({ index: x.index, score: x.retrievalScore })), exclude, k));
          out['item-to-item'].push(order(c.filter((x) => (x.neighbourScore ?? 0) > 0).map((x) => ({ index: x.index, score: x.neighbourScore ?? 0 })), exclude, k));
          out['retrieval+ranker'].push(order(c.map((x, j) => ({ index: x.index, score: ranked.scores[i]?.[j] ?? 0 })), exclude, k));
          out.served.push(slates[i]!.items.map((item) => space.itemIndex(item.id)).slice(0, k));
        });
        progress(Math.min(start + batch, users.length));
      }
    } finally {
      lease.release();
    }
  } finally {
    await served.close();
  }
  return out;
}
