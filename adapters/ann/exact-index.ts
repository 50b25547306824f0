/** Exact inner-product search: the recall ground truth and the fallback for tiny catalogues. */
import type { AnnHits, AnnIndex } from '../../core/ports/ann.ts';
import { rowsOf } from './options.ts';
import { writeFile } from 'node:fs/promises';

/** Keeps the k best (row, score) pairs with a bounded insertion list; fine for k ≤ a few thousand. */
export function topK(scores: Float32Array, k: number): AnnHits {
  const n = Math.min(k, scores.length);
  const order = Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const rows = Int32Array.from(order.slice(0, n));
  return { rows, scores: Float32Array.from(rows, (r) => scores[r]!) };
}

export function createExactIndex(vectors: Float32Array, dim: number): AnnIndex {
  const size = Math.floor(vectors.length / dim);
  const score = (query: Float32Array): Float32Array => {
    const out = new Float32Array(size);
    for (let r = 0; r < size; r++) {
      let dot = 0;
      const base = r * dim;
      for (let d = 0; d < dim; d++) dot += vectors[base + d]! * query[d]!;
      out[r] = dot;
    }
    return out;
  };
  return {
    kind: 'exact',
    dim,
    size,
    search: (query, k) => topK(score(query), k),
    searchBatch: (queries, k) => rowsOf(queries, dim).map((q) => topK(score(q), k)),
    save: async (path) => writeFile(path, new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength)),
    dispose: () => undefined,
  };
}
