/**
 * Stage: retrieval, the candidate source for personal, session and segment paths. One user-tower run for
 * every request of the batch, then one ANN batch search (top `candidates` by inner product). A failure fails
 * the whole batch's retrieval with a reason; the caller falls back to popular candidates.
 */
import { encodeUserTower, type RankCandidate } from '../../../shared/features/encode.ts';
import type { LoadedModel } from '../../ports/model.ts';
import type { PipelineSettings } from '../settings.ts';
import type { StageClock } from '../stage-clock.ts';
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
      return { candidates: Array.from({ length: n }, (_, j) => ({ index: h.rows[j]! + 1, retrievalScore: h.scores[j]! })) };
    });
  } catch {
    return inputs.map(() => ({ failed: 'ann-failed' }));
  }
}
