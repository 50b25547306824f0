/**
 * The feature specification: the single definition of every model input, used by the trainer's data
 * preparation, the origin, the nightly job and the edge. Index 0 is always "padding / unknown".
 * Changing anything here changes the models' inputs: bump FEATURE_SPEC_VERSION and retrain.
 */
export const FEATURE_SPEC_VERSION = 2;

/** Items of the visitor's history given to the user tower (oldest → newest, right-aligned). */
export const HISTORY_LENGTH = 20;
/** Items of the current session given to the edge reranker. */
export const SESSION_LENGTH = 5;
/**
 * Numbers in an item's session vector: its served embedding projected on the top principal components and
 * rounded to int8 (shared/features/session-vectors.ts), carried in slates and item cards for the edge reranker.
 */
export const SESSION_VECTOR_DIM = 16;

/** Upper bounds (exclusive) of the price buckets; bucket = number of boundaries <= price. Exact in every language. */
export const PRICE_BOUNDARIES = [5, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000] as const;
export const PRICE_BUCKETS = PRICE_BOUNDARIES.length + 1;

/** Sparse (embedding-table) inputs of the DLRM ranker, in tensor column order. */
export const DLRM_SPARSE_FEATURES = ['segment', 'item', 'category', 'brand', 'price_bucket', 'last_category'] as const;
/** Dense inputs of the DLRM ranker, in tensor column order. */
export const DLRM_DENSE_FEATURES = [
  'log_item_popularity',
  'category_affinity',
  'brand_affinity',
  'log_history_length',
  'log_item_age_days',
  'retrieval_score',
  /** Best retrieval score among the request's candidates minus this one's (0 for the best). */
  'retrieval_gap',
  /** Item-to-item score: sum of the item's neighbour weights from the history's items (item_neighbours.bin). */
  'neighbour_score',
  /** neighbour_score / the best neighbour_score among the request's candidates (0 when none is positive). */
  'neighbour_share',
  /** Item-to-item score from the newest NEIGHBOUR_RECENT history items only (what the visitor just did). */
  'neighbour_recent',
] as const;

/** Default number of newest distinct history items whose neighbours form the item-to-item candidates (the manifest's itemNeighboursWindow overrides). */
export const NEIGHBOUR_HISTORY = 1000;
/** Newest history items behind the neighbour_recent feature. */
export const NEIGHBOUR_RECENT = 3;

/** Interaction types that count as positive signals, with their weights for affinities. */
export const POSITIVE_EVENT_WEIGHTS: Readonly<Record<string, number>> = {
  view: 1,
  click: 1,
  add_to_cart: 2,
  purchase: 3,
};

export function priceBucket(price: number): number {
  let bucket = 0;
  for (const boundary of PRICE_BOUNDARIES) if (price >= boundary) bucket++;
  return bucket;
}
