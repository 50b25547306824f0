/**
 * Stage: retrieval, the candidate source for personal, session and segment paths. One user-tower run for
 * every request of the batch, then one ANN batch search (top `candidates` by inner product), joined by the
 * item-to-item source when the model ships neighbours (top `neighbourCandidates` items by the history's
 * neighbour score, stages/neighbours.ts). Every candidate carries both scores for the ranker. A failure fails
 * the whole batch's retrieval with a reason; the caller falls back to popular candidates.
 */
import { encodeUserTower, type RankCandidate } from '../../../shared/features/encode.ts';
import type { LoadedModel } from '../../ports/model.ts';
import type { PipelineSettings } from '../settings.ts';
import type { StageClock } from '../stage-clock.ts';
import { neighbourScores, topNeighbours } from './neighbours.ts';
import type { CandidatePath } from './choose-path.ts';

export interface RetrievalInput {
  readonly path: CandidatePath;
  readonly settings: PipelineSettings;
}

export type Retrieval = { readonly candidates: RankCandidate[] } | { readonly failed: 'user-tower-failed' | 'ann-failed' };

export async function retrieve(model: LoadedModel, inputs: readonly RetrievalInput[], clock: StageClock): Promise<Retrieval[]> {
  let embeddings: Float32Array;
  try {
    const encoded = await clock.time('features', () => inputs.map((x) => encodeUserTower(model.space, { segment: x.path.segment, history: x.path.towerHistory })));
    embeddings = await clock.time('user_tower', () => model.embedUsers(encoded));
  } catch {
    return inputs.map(() => ({ failed: 'user-tower-failed' }));
  }
  try {
    const k = Math.max(...inputs.map((x) => x.settings.candidates));
    const hits = await clock.time('ann', () => model.index.searchBatch(embeddings, Math.min(k, model.index.size)));
    return inputs.map((x, i) => {
      const h = hits[i];
      if (!h) throw new Error('ANN returned fewer results than queries');
      const n = Math.min(h.rows.length, x.settings.candidates);
      // Embedding row r is feature-space item index r + 1.
      const candidates: RankCandidate[] = Array.from({ length: n }, (_, j) => ({ index: h.rows[j]! + 1, retrievalScore: h.scores[j]! }));
      return { candidates: model.neighbours ? withNeighbours(model, x, embeddings.subarray(i * model.dim, (i + 1) * model.dim), candidates) : candidates };
    });
  } catch {
    return inputs.map(() => ({ failed: 'ann-failed' }));
  }
}

/** Adds the item-to-item candidates and gives every candidate its neighbour scores. */
function withNeighbours(model: LoadedModel, x: RetrievalInput, user: Float32Array, candidates: RankCandidate[]): RankCandidate[] {
  const scores = neighbourScores(model.space, model.neighbours!, x.path.towerHistory);
  const inList = new Set(candidates.map((c) => c.index));
  const history = new Set(x.path.towerHistory.map((id) => model.space.itemIndex(id)));
  for (const index of topNeighbours(scores.all, x.settings.neighbourCandidates, history)) {
    if (inList.has(index)) continue;
    inList.add(index);
    // Item embeddings are L2-normalised by the item tower, so the unit rows give the ANN's inner product.
    candidates.push({ index, retrievalScore: dot(user, model.unitEmbeddings.subarray((index - 1) * model.dim, index * model.dim)) });
  }
  const trained = model.neighbours!.items.length / model.neighbours!.perItem;
  const known = candidates.filter((c) => c.index <= trained);
  for (const c of known) {
    c.neighbourScore = scores.all.get(c.index) ?? 0;
    c.neighbourRecent = scores.recent.get(c.index) ?? 0;
  }
  // Items added since training (cold start) have no neighbours yet: unknown, not "unrelated". Optimistically they
  // get the best scores among the request's known candidates of the same category and brand (else category, else
  // all) — the group the cold-start module borrows their embedding and popularity from — so a new item reaches
  // the slates of the visitors its group suits; clicks (and exploration) correct it after the next training.
  const cold = candidates.filter((c) => c.index > trained);
  if (cold.length > 0) {
    const space = model.space;
    const best = (rows: readonly RankCandidate[], f: (c: RankCandidate) => number): number => rows.reduce((t, c) => Math.max(t, f(c)), 0);
    for (const c of cold) {
      const sameBrand = known.filter((k) => space.category(k.index) === space.category(c.index) && space.brand(k.index) === space.brand(c.index));
      const sameCategory = sameBrand.length > 0 ? sameBrand : known.filter((k) => space.category(k.index) === space.category(c.index));
      const group = sameCategory.length > 0 ? sameCategory : known;
      c.neighbourScore = best(group, (k) => k.neighbourScore ?? 0);
      c.neighbourRecent = best(group, (k) => k.neighbourRecent ?? 0);
    }
  }
  return candidates;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += a[d]! * (b[d] ?? 0);
  return s;
}
