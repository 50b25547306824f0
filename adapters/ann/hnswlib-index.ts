/** hnswlib-node adapter (inner product). It takes plain number[] vectors and builds single-threaded. */
import hnswlib from 'hnswlib-node';
import { type AnnHits, type AnnIndex } from '../../core/ports/ann.ts';
import { rowsOf } from './options.ts';
import { DEFAULT_ANN_OPTIONS } from './options.ts';
import { type AnnBuildOptions } from './options.ts';

type Hnsw = InstanceType<typeof hnswlib.HierarchicalNSW>;

function wrap(index: Hnsw, dim: number, expansionSearch: number): AnnIndex {
  let ef = expansionSearch;
  index.setEf(ef);
  const searchOne = (query: Float32Array, k: number): AnnHits => {
    const want = Math.min(k, index.getCurrentCount());
    if (want > ef) {
      ef = want;
      index.setEf(ef);
    }
    const result = index.searchKnn(Array.from(query.subarray(0, dim)), want);
    // hnswlib returns farthest-first for ip? It returns ascending distance (closest first); keep that order.
    return {
      rows: Int32Array.from(result.neighbors),
      scores: Float32Array.from(result.distances, (d) => 1 - d),
    };
  };
  return {
    kind: 'hnswlib',
    dim,
    get size() {
      return index.getCurrentCount();
    },
    search: searchOne,
    searchBatch: (queries, k) => rowsOf(queries, dim).map((q) => searchOne(q, k)),
    save: async (path) => {
      await index.writeIndex(path);
    },
    dispose: () => undefined,
  };
}

export function buildHnswlibIndex(vectors: Float32Array, dim: number, options: AnnBuildOptions = {}): AnnIndex {
  const o = { ...DEFAULT_ANN_OPTIONS, ...options };
  const size = Math.floor(vectors.length / dim);
  const index = new hnswlib.HierarchicalNSW('ip', dim);
  index.initIndex({ maxElements: size, m: o.connectivity, efConstruction: o.expansionAdd, randomSeed: 100 });
  for (let r = 0; r < size; r++) index.addPoint(Array.from(vectors.subarray(r * dim, (r + 1) * dim)), r);
  return wrap(index, dim, o.expansionSearch);
}

export function loadHnswlibIndex(path: string, dim: number, options: AnnBuildOptions = {}): AnnIndex {
  const o = { ...DEFAULT_ANN_OPTIONS, ...options };
  const index = new hnswlib.HierarchicalNSW('ip', dim);
  index.readIndexSync(path);
  return wrap(index, dim, o.expansionSearch);
}
