/**
 * Turns what the system knows about a visitor and a set of items into model inputs. The trainer's data
 * preparation calls exactly these functions, so serving and training cannot disagree (see the parity test).
 * Pure: no I/O, runs in Node, workerd and the browser.
 */
import type { FeatureSpace } from './feature-space.ts';
import { sessionVectorOf } from './session-vectors.ts';
import { DLRM_DENSE_FEATURES, DLRM_SPARSE_FEATURES, HISTORY_LENGTH, SESSION_LENGTH, SESSION_VECTOR_DIM } from './spec.ts';

const DAY_MS = 86_400_000;

/** What is known about the visitor when a recommendation is asked for. */
export interface UserContext {
  segment?: string | undefined;
  /** Item ids the visitor interacted with positively, oldest → newest (any length; the tail is used). */
  history: readonly string[];
}

export interface UserTowerInput {
  segment: number;
  /** HISTORY_LENGTH item indices, right-aligned, 0-padded on the left. */
  history: Int32Array;
}

/** Right-aligns the newest `length` known indices into a 0-padded array. */
export function rightAlign(indices: readonly number[], length: number): Int32Array {
  const known = indices.filter((index) => index > 0).slice(-length);
  const out = new Int32Array(length);
  out.set(known, length - known.length);
  return out;
}

export function encodeUserTower(space: FeatureSpace, user: UserContext): UserTowerInput {
  return {
    segment: space.segmentIndex(user.segment),
    history: rightAlign(user.history.map((id) => space.itemIndex(id)), HISTORY_LENGTH),
  };
}

export interface RankCandidate {
  /** 1-based item index in the feature space. */
  index: number;
  /** Similarity from retrieval (two-tower dot product), 0 when unknown. */
  retrievalScore: number;
  /** Item-to-item score of the visitor's history (0 when the item is no neighbour of it or no neighbours are loaded). */
  neighbourScore?: number | undefined;
  /** The same from the newest NEIGHBOUR_RECENT history items. */
  neighbourRecent?: number | undefined;
}

export interface DlrmInput {
  rows: number;
  /** rows × DLRM_SPARSE_FEATURES.length, row-major. */
  sparse: Int32Array;
  /** rows × DLRM_DENSE_FEATURES.length, row-major. */
  dense: Float32Array;
}

/** Summary of a history that the DLRM dense features need; computed once per request. */
export interface HistoryProfile {
  length: number;
  categoryShare: Map<number, number>;
  brandShare: Map<number, number>;
  lastCategory: number;
}

export function profileHistory(space: FeatureSpace, history: readonly string[]): HistoryProfile {
  const indices = rightAlign(history.map((id) => space.itemIndex(id)), HISTORY_LENGTH).filter((index) => index > 0);
  const categoryShare = new Map<number, number>();
  const brandShare = new Map<number, number>();
  for (const index of indices) {
    const c = space.category(index);
    const b = space.brand(index);
    categoryShare.set(c, (categoryShare.get(c) ?? 0) + 1 / indices.length);
    brandShare.set(b, (brandShare.get(b) ?? 0) + 1 / indices.length);
  }
  const last = indices[indices.length - 1];
  return { length: indices.length, categoryShare, brandShare, lastCategory: last === undefined ? 0 : space.category(last) };
}

export function encodeDlrm(
  space: FeatureSpace,
  user: UserContext,
  candidates: readonly RankCandidate[],
  now: number,
  profile: HistoryProfile = profileHistory(space, user.history),
): DlrmInput {
  const sparseWidth = DLRM_SPARSE_FEATURES.length;
  const denseWidth = DLRM_DENSE_FEATURES.length;
  const sparse = new Int32Array(candidates.length * sparseWidth);
  const dense = new Float32Array(candidates.length * denseWidth);
  const segment = space.segmentIndex(user.segment);
  let bestRetrieval = -Infinity;
  let bestNeighbour = 0;
  for (const c of candidates) {
    bestRetrieval = Math.max(bestRetrieval, c.retrievalScore);
    bestNeighbour = Math.max(bestNeighbour, c.neighbourScore ?? 0);
  }
  // Written in place, column by column (no per-row arrays: the nightly encodes ~1,000 candidates per user).
  const logHistoryLength = Math.log1p(profile.length) / 3;
  for (let row = 0; row < candidates.length; row++) {
    const candidate = candidates[row]!;
    const i = candidate.index;
    const category = space.category(i);
    const brand = space.brand(i);
    const s = row * sparseWidth;
    sparse[s] = segment;
    sparse[s + 1] = i;
    sparse[s + 2] = category;
    sparse[s + 3] = brand;
    sparse[s + 4] = space.priceBucket(i);
    sparse[s + 5] = profile.lastCategory;
    const ageDays = Math.max(0, (now - space.createdAt(i)) / DAY_MS);
    const neighbourScore = candidate.neighbourScore ?? 0;
    const d = row * denseWidth;
    dense[d] = Math.log1p(space.popularity(i)) / 8;
    dense[d + 1] = profile.categoryShare.get(category) ?? 0;
    dense[d + 2] = profile.brandShare.get(brand) ?? 0;
    dense[d + 3] = logHistoryLength;
    dense[d + 4] = Math.log1p(ageDays) / 6;
    dense[d + 5] = candidate.retrievalScore;
    dense[d + 6] = bestRetrieval - candidate.retrievalScore;
    dense[d + 7] = neighbourScore;
    dense[d + 8] = bestNeighbour > 0 ? neighbourScore / bestNeighbour : 0;
    dense[d + 9] = candidate.neighbourRecent ?? 0;
  }
  return { rows: candidates.length, sparse, dense };
}

/** Static features of an item that travel with slates to the edge (no feature space there). */
export interface ItemFeatures {
  category: number;
  brand: number;
  priceBucket: number;
  /** Its session vector (shared/features/session-vectors.ts); absent: zeros (older models and slates). */
  vector?: Int8Array | undefined;
}

/** `vectors`: the loaded model's session vectors (LoadedModel.sessionVectors), when it ships them. */
export function itemFeaturesOf(space: FeatureSpace, index: number, vectors?: Int8Array): ItemFeatures {
  return { category: space.category(index), brand: space.brand(index), priceBucket: space.priceBucket(index), vector: sessionVectorOf(vectors, index) };
}

export interface SessionRerankInput {
  candidates: number;
  /** Per candidate: category, brand, price bucket (C each), the slate's score and the session vector (C × V, value q / 127). */
  candCategory: Int32Array;
  candBrand: Int32Array;
  candPrice: Int32Array;
  candScore: Float32Array;
  candVec: Float32Array;
  /** SESSION_LENGTH session items, right-aligned, 0-padded; the mask is 1 where an item is. */
  sessCategory: Int32Array;
  sessBrand: Int32Array;
  sessPrice: Int32Array;
  sessVec: Float32Array;
  sessMask: Float32Array;
}

function writeVector(into: Float32Array, row: number, vector: Int8Array | undefined): void {
  if (!vector) return;
  for (let k = 0; k < SESSION_VECTOR_DIM; k++) into[row * SESSION_VECTOR_DIM + k] = (vector[k] ?? 0) / 127;
}

/** Inputs of the edge's session reranker: a slate's candidates and the session's latest viewed items. */
export function encodeSessionRerank(
  candidates: readonly (ItemFeatures & { score: number })[],
  session: readonly ItemFeatures[],
): SessionRerankInput {
  const recent = session.slice(-SESSION_LENGTH);
  const pad = SESSION_LENGTH - recent.length;
  const sessCategory = new Int32Array(SESSION_LENGTH);
  const sessBrand = new Int32Array(SESSION_LENGTH);
  const sessPrice = new Int32Array(SESSION_LENGTH);
  const sessVec = new Float32Array(SESSION_LENGTH * SESSION_VECTOR_DIM);
  const sessMask = new Float32Array(SESSION_LENGTH);
  recent.forEach((item, k) => {
    sessCategory[pad + k] = item.category;
    sessBrand[pad + k] = item.brand;
    sessPrice[pad + k] = item.priceBucket;
    writeVector(sessVec, pad + k, item.vector);
    sessMask[pad + k] = 1;
  });
  const candVec = new Float32Array(candidates.length * SESSION_VECTOR_DIM);
  candidates.forEach((c, r) => writeVector(candVec, r, c.vector));
  return {
    candidates: candidates.length,
    candCategory: Int32Array.from(candidates, (c) => c.category),
    candBrand: Int32Array.from(candidates, (c) => c.brand),
    candPrice: Int32Array.from(candidates, (c) => c.priceBucket),
    candScore: Float32Array.from(candidates, (c) => c.score),
    candVec,
    sessCategory,
    sessBrand,
    sessPrice,
    sessVec,
    sessMask,
  };
}

/**
 * The reranker's input for an ordered slate (best first): each item's slate-position prior (1 − rank / C) as its
 * score, exactly as in training. The edge, the origin's session stage and the trainer's session protocol all encode
 * a slate this way, so the three see the same numbers.
 */
export function encodeSlateForSession(slate: readonly ItemFeatures[], session: readonly ItemFeatures[]): SessionRerankInput {
  return encodeSessionRerank(slate.map((item, rank) => ({ ...item, score: slatePositionPrior(rank, slate.length) })), session);
}

/** The reranker's output is head + PRIOR_WEIGHT · prior (models/torch/reranker.py): the slate order when the head is 0. */
export const SESSION_PRIOR_WEIGHT = 4;

/**
 * Scores to order a slate by, `strength` of the way from the slate order (0) to the reranker's own (1):
 * PRIOR_WEIGHT · prior + strength · head. The strength is chosen per version on validation users (the trainer's
 * session protocol: next-item gain against long-horizon loss) and applied alike by the origin and the edge.
 */
export function blendSessionScores(scores: Float32Array, priors: Float32Array, strength: number): Float32Array {
  if (strength === 1) return scores;
  return Float32Array.from(scores, (s, i) => SESSION_PRIOR_WEIGHT * priors[i]! + strength * (s - SESSION_PRIOR_WEIGHT * priors[i]!));
}

/** The slate-order prior the reranker was trained with: 1 − rank / C for the candidate at `rank` of `count`. */
export function slatePositionPrior(rank: number, count: number): number {
  return 1 - rank / count;
}

/** Builds tensors for one runtime (onnxruntime-node or -web): both share the ONNX contract, not the Tensor class. */
export interface TensorFactory<T> {
  int64(values: Int32Array, dims: number[]): T;
  float32(values: Float32Array, dims: number[]): T;
}

/**
 * The session reranker's named inputs (docs/architecture.md, MODEL_IO.sessionReranker) for a batch of one.
 * `inputNames`: the model's own; a version trained before session vectors existed declares none of the
 * vector inputs, and gets none (an unknown feed name is an error in onnxruntime).
 */
export function sessionRerankFeeds<T>(input: SessionRerankInput, tensor: TensorFactory<T>, inputNames?: readonly string[]): Record<string, T> {
  const c = input.candidates;
  const feeds: Record<string, T> = {
    cand_category: tensor.int64(input.candCategory, [1, c]),
    cand_brand: tensor.int64(input.candBrand, [1, c]),
    cand_price: tensor.int64(input.candPrice, [1, c]),
    cand_score: tensor.float32(input.candScore, [1, c]),
    sess_category: tensor.int64(input.sessCategory, [1, SESSION_LENGTH]),
    sess_brand: tensor.int64(input.sessBrand, [1, SESSION_LENGTH]),
    sess_price: tensor.int64(input.sessPrice, [1, SESSION_LENGTH]),
  };
  if (inputNames && !inputNames.includes('cand_vec')) return feeds;
  feeds.cand_vec = tensor.float32(input.candVec, [1, c, SESSION_VECTOR_DIM]);
  feeds.sess_vec = tensor.float32(input.sessVec, [1, SESSION_LENGTH, SESSION_VECTOR_DIM]);
  feeds.sess_mask = tensor.float32(input.sessMask, [1, SESSION_LENGTH]);
  return feeds;
}
