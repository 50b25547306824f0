/** usearch HNSW adapter (inner product; vectors stored as f32, or quantised to f16). Keys are embedding rows. */
import { Index, MetricKind, ScalarKind } from 'usearch';
import { type AnnHits, type AnnIndex } from '../../core/ports/ann.ts';
import { rowsOf } from './options.ts';
import { DEFAULT_ANN_OPTIONS } from './options.ts';
import { type AnnBuildOptions } from './options.ts';

function toHits(keys: BigUint64Array, distances: Float32Array): AnnHits {
  const rows = new Int32Array(keys.length);
  const scores = new Float32Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    rows[i] = Number(keys[i]);
    scores[i] = 1 - distances[i]!; // usearch's ip distance is 1 − dot
  }
  return { rows, scores };
}

function newIndex(dim: number, options: Required<AnnBuildOptions>, k: number): Index {
  return new Index({
    dimensions: dim,
    metric: MetricKind.IP,
    quantization: options.quantization === 'f16' ? ScalarKind.F16 : ScalarKind.F32,
    connectivity: options.connectivity,
    expansion_add: options.expansionAdd,
    // Fixed at construction in usearch: size it for the largest k the pipeline asks for.
    expansion_search: Math.max(options.expansionSearch, k),
    multi: false,
  });
}

function wrap(index: Index, dim: number, threads: number): AnnIndex {
  return {
    kind: 'usearch',
    dim,
    get size() {
      return index.size();
    },
    search: (query, k) => {
      const m = index.search(query.slice(0, dim), k, 1);
      return toHits(m.keys, m.distances);
    },
    searchBatch: (queries, k) => {
      const rows = rowsOf(queries, dim);
      if (rows.length === 0) return [];
      if (rows.length === 1) {
        const m = index.search(rows[0]!, k, 1);
        return [toHits(m.keys, m.distances)];
      }
      const batch = index.search(rows, k, threads);
      return rows.map((_, i) => {
        const m = batch.get(i);
        return toHits(m.keys, m.distances);
      });
    },
    save: async (path) => index.save(path),
    dispose: () => undefined,
  };
}

export function buildUsearchIndex(vectors: Float32Array, dim: number, options: AnnBuildOptions = {}): AnnIndex {
  const o = { ...DEFAULT_ANN_OPTIONS, ...options };
  const size = Math.floor(vectors.length / dim);
  const index = newIndex(dim, o, 0);
  const keys = new BigUint64Array(size);
  for (let r = 0; r < size; r++) keys[r] = BigInt(r);
  index.add(keys, vectors.length === size * dim ? vectors : vectors.slice(0, size * dim), o.threads);
  return wrap(index, dim, o.threads);
}

export function loadUsearchIndex(path: string, dim: number, options: AnnBuildOptions = {}): AnnIndex {
  const o = { ...DEFAULT_ANN_OPTIONS, ...options };
  const index = newIndex(dim, o, 0);
  index.load(path);
  return wrap(index, dim, o.threads);
}
