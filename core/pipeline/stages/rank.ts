/**
 * Stage: ranking. One DLRM run over the candidates of every request of the batch (rows concatenated), each
 * request's scores corrected for item popularity by the version's β (manifest serving.popularityCorrection,
 * popularity-correction.ts) and blended with its retrieval similarity by `dlrmWeight` (1 = DLRM only). When the ranker
 * fails, every request keeps its candidates in retrieval order and the result says `failed`.
 */
import { encodeDlrm, type DlrmInput, type RankCandidate } from '../../../shared/features/encode.ts';
import { DLRM_DENSE_FEATURES, DLRM_SPARSE_FEATURES } from '../../../shared/features/spec.ts';
import type { LoadedModel } from '../../ports/model.ts';
import { blendScores } from '../blend.ts';
import { correctForPopularity } from '../popularity-correction.ts';
import type { PipelineSettings } from '../settings.ts';
import type { StageClock } from '../stage-clock.ts';
import type { CandidatePath } from './choose-path.ts';

const DENSE = DLRM_DENSE_FEATURES.length;
const LOG_POPULARITY = DLRM_DENSE_FEATURES.indexOf('log_item_popularity');

export interface RankInput {
  readonly path: CandidatePath;
  readonly settings: PipelineSettings;
  /** Epoch ms of the request (item-age features). */
  readonly now: number;
  readonly candidates: readonly RankCandidate[];
}

export interface Ranking {
  /** One score per candidate, per input. */
  scores: Float32Array[];
  failed: boolean;
}

export async function rank(model: LoadedModel, inputs: readonly RankInput[], clock: StageClock): Promise<Ranking> {
  if (inputs.length === 0) return { scores: [], failed: false };
  try {
    const encoded = await clock.time('features', () => inputs.map((x) => encodeDlrm(model.space, { segment: x.path.segment, history: x.path.towerHistory }, x.candidates, x.now)));
    const dlrm = await clock.time('dlrm', () => model.scoreCandidates(concatDlrm(encoded)));
    const beta = model.manifest.serving?.popularityCorrection ?? 0;
    let offset = 0;
    const scores = inputs.map((x, i) => {
      const dense = encoded[i]!.dense;
      const own = correctForPopularity(dlrm.subarray(offset, offset + x.candidates.length), (row) => dense[row * DENSE + LOG_POPULARITY]!, beta);
      offset += x.candidates.length;
      return blendScores(own, Float32Array.from(x.candidates, (c) => c.retrievalScore), x.settings.dlrmWeight);
    });
    return { scores, failed: false };
  } catch {
    // Ranker down: keep the personal candidates, ordered by retrieval similarity.
    return { scores: inputs.map((x) => Float32Array.from(x.candidates, (c) => c.retrievalScore)), failed: true };
  }
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
