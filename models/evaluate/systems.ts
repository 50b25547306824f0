/**
 * The five systems compared offline, each turning an evaluation user into a ranked list of item indices:
 * popularity, item-kNN, two-tower, two-tower + DLRM, two-tower + DLRM + session rerank. The model-based
 * ones run the exported ONNX files through onnxruntime-node with shared/features encoders, as served.
 */
import * as ort from 'onnxruntime-node';
import type { FeatureSpace } from '../../shared/features/feature-space.ts';
import { encodeDlrm, encodeUserTower } from '../../shared/features/encode.ts';
import { DLRM_DENSE_FEATURES, DLRM_SPARSE_FEATURES, HISTORY_LENGTH } from '../../shared/features/spec.ts';
import type { EvalUser } from '../prepare/prepare.ts';
import { topK } from './metrics.ts';

export interface Models {
  userTower: ort.InferenceSession;
  dlrm: ort.InferenceSession;
  reranker: ort.InferenceSession;
  itemEmbeddings: Float32Array;
  dim: number;
}

const i64 = (values: ArrayLike<number>, dims: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(Array.from(values), (v) => BigInt(v)), dims);

export function popularity(space: FeatureSpace, user: EvalUser, k: number): number[] {
  const scores = Float64Array.from({ length: space.itemCount }, (_, i) => space.popularity(i + 1));
  return topK(scores, k, user.seen);
}

/** Item-item cosine similarity over co-occurrence in training histories. */
export class ItemKnn {
  private readonly neighbours = new Map<number, Map<number, number>>();
  constructor(space: FeatureSpace, histories: readonly number[][]) {
    const counts = new Map<number, number>();
    for (const items of histories) for (const i of new Set(items)) counts.set(i, (counts.get(i) ?? 0) + 1);
    for (const items of histories) {
      const unique = [...new Set(items)].slice(-50);
      for (const a of unique) {
        const row = this.neighbours.get(a) ?? new Map<number, number>();
        for (const b of unique) if (a !== b) row.set(b, (row.get(b) ?? 0) + 1);
        this.neighbours.set(a, row);
      }
    }
    for (const [a, row] of this.neighbours) for (const [b, c] of row) row.set(b, c / Math.sqrt((counts.get(a) ?? 1) * (counts.get(b) ?? 1)));
    this.itemCount = space.itemCount;
  }
  private readonly itemCount: number;
  recommend(space: FeatureSpace, user: EvalUser, k: number): number[] {
    const scores = new Float64Array(this.itemCount);
    for (const id of user.history.slice(-HISTORY_LENGTH)) {
      const row = this.neighbours.get(space.itemIndex(id));
      if (row) for (const [b, s] of row) scores[b - 1] = (scores[b - 1] ?? 0) + s;
    }
    // Ties (no co-occurrence at all) fall back to popularity order.
    for (let i = 0; i < scores.length; i++) scores[i] = (scores[i] ?? 0) + 1e-9 * Math.log1p(space.popularity(i + 1));
    return topK(scores, k, user.seen);
  }
}

export async function embedUsers(space: FeatureSpace, models: Models, users: readonly EvalUser[]): Promise<Float32Array> {
  const segments = users.map((u) => encodeUserTower(space, { segment: u.segment, history: u.history }));
  const history = new Int32Array(users.length * HISTORY_LENGTH);
  segments.forEach((s, r) => history.set(s.history, r * HISTORY_LENGTH));
  const out = await models.userTower.run({ segment: i64(segments.map((s) => s.segment), [users.length]), history: i64(history, [users.length, HISTORY_LENGTH]) });
  return out.user_embedding!.data as Float32Array;
}

export function twoTowerScores(models: Models, userEmbedding: Float32Array): Float32Array {
  const { dim, itemEmbeddings } = models;
  const n = itemEmbeddings.length / dim;
  const scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += (userEmbedding[d] ?? 0) * (itemEmbeddings[i * dim + d] ?? 0);
    scores[i] = dot;
  }
  return scores;
}

export async function rankWithDlrm(space: FeatureSpace, models: Models, user: EvalUser, candidates: number[], scores: Float32Array, now: number): Promise<number[]> {
  const rows = candidates.map((index) => ({ index, retrievalScore: scores[index - 1] ?? 0 }));
  const input = encodeDlrm(space, { segment: user.segment, history: user.history }, rows, now);
  const out = await models.dlrm.run({
    sparse: i64(input.sparse, [rows.length, DLRM_SPARSE_FEATURES.length]),
    dense: new ort.Tensor('float32', input.dense, [rows.length, DLRM_DENSE_FEATURES.length]),
  });
  const p = out.score!.data as Float32Array;
  return candidates.map((c, r) => ({ c, s: p[r] ?? 0 })).sort((a, b) => b.s - a.s).map((x) => x.c);
}

