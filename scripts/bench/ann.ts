/**
 * `npm run bench:ann`: the project's retrieval indexes (adapters/ann) beside FAISS measured in the same run on the
 * same vectors and queries: the exact int8 scan (the origin's default up to 2M items) beside FAISS's exact scan of
 * 8-bit scalar-quantised codes with float32 re-scoring of 2k (IndexRefineFlat over QT_8bit), and the usearch HNSW
 * graph beside IndexHNSWFlat with the same graph parameters; IndexFlatIP (exact) is the ground truth. One thread
 * everywhere, one query per call, top-100. Debian's FAISS is built without AVX2 (faiss.get_compile_options():
 * GENERIC): its scans are slower than an AVX2 build would be, and the lines say so.
 * Vectors: clustered, L2-normalised, seeded (the shape of item embeddings). Flags: --n (default 1,000,000)
 * --dim 64 --queries 1000 --k 100 --ef 128. Prints JSON lines with ratios against FAISS HNSW.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildAnnIndex } from '../../adapters/ann/build.ts';
import { int8ScanKernel } from '../../adapters/ann/int8-scan-index.ts';
import { createRng } from '../../shared/util/rng.ts';
import { percentile } from './percentile.ts';

const root = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: { n: { type: 'string', default: '1000000' }, dim: { type: 'string', default: '64' }, queries: { type: 'string', default: '1000' }, k: { type: 'string', default: '100' }, ef: { type: 'string', default: '128' } },
});
const [n, dim, nq, k, ef] = [values.n, values.dim, values.queries, values.k, values.ef].map(Number) as [number, number, number, number, number];
const M = 16;
const EF_CONSTRUCTION = 128;
const folder = join(root, 'var', 'bench', `ann-${n}x${dim}`);
const command = `npm run bench:ann -- --n ${n}`;
const emit = (line: Record<string, unknown>): void => console.log(JSON.stringify({ bench: 'ann', n, dim, k, threads: 1, command, ...line }));

function clustered(count: number, seed: number, centres: Float32Array, spread: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(count * dim);
  const clusters = centres.length / dim;
  for (let i = 0; i < count; i++) {
    const c = rng.int(clusters);
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const v = (centres[c * dim + d] ?? 0) + spread * rng.normal();
      out[i * dim + d] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let d = 0; d < dim; d++) out[i * dim + d]! /= norm;
  }
  return out;
}

mkdirSync(folder, { recursive: true });
// 1000 random unit centres (noise around the origin, normalised), then points around them.
// Spread 0.5/sqrt(dim) per coordinate: points sit around their centre at a distance of about 0.5, like item
// embeddings of a category around its mean (pure noise would make every index look bad).
const centres = clustered(1000, 1, new Float32Array(1000 * dim), 1);
const base = clustered(n, 2, centres, 0.5 / Math.sqrt(dim));
const queries = clustered(nq, 3, centres, 0.5 / Math.sqrt(dim));
writeFileSync(join(folder, 'vectors.f32'), new Uint8Array(base.buffer));
writeFileSync(join(folder, 'queries.f32'), new Uint8Array(queries.buffer));

// FAISS first: it also writes the exact ground truth.
const faiss = spawnSync('/usr/bin/python3', [join(root, 'scripts', 'bench', 'faiss_peer.py'), folder, String(n), String(dim), String(nq), String(k), String(M), String(EF_CONSTRUCTION), String(ef)], { encoding: 'utf8', maxBuffer: 1 << 24 });
if (faiss.status !== 0) throw new Error(`faiss peer failed (apt-get install python3-faiss): ${faiss.stderr}`);
const peers = faiss.stdout.trim().split('\n').map((line) => JSON.parse(line) as { library: string; qps: number; p50_ms: number; p99_ms: number; recall: number; build_s: number; faiss_build: string });
for (const peer of peers) emit(peer);
const hnswPeer = peers.find((p) => p.library.startsWith('faiss IndexHNSWFlat'));
const scanPeer = peers.find((p) => p.library.startsWith('faiss IndexRefineFlat'));
const truthBytes = readFileSync(join(folder, 'truth.i32'));
const truth = new Int32Array(truthBytes.buffer, truthBytes.byteOffset, truthBytes.byteLength / 4);

for (const kind of ['int8-scan', 'usearch', 'hnswlib'] as const) {
  if (kind === 'hnswlib' && n > 200_000) continue; // hnswlib-node takes number[] per vector: 1M builds take minutes more; measured in env findings
  const peer = kind === 'int8-scan' ? scanPeer : hnswPeer;
  const t = performance.now();
  const index = buildAnnIndex(kind, base, dim, { connectivity: M, expansionAdd: EF_CONSTRUCTION, expansionSearch: ef, threads: 1 });
  const build = (performance.now() - t) / 1000;
  const times: number[] = [];
  let hits = 0;
  for (let q = 0; q < nq; q++) {
    const query = queries.slice(q * dim, (q + 1) * dim);
    const start = performance.now();
    const found = index.search(query, k);
    times.push(performance.now() - start);
    const expected = new Set(truth.subarray(q * k, (q + 1) * k));
    for (const row of found.rows) if (expected.has(row)) hits++;
  }
  index.dispose();
  times.sort((a, b) => a - b);
  const mean = times.reduce((s, v) => s + v, 0) / times.length;
  const qps = 1000 / mean;
  emit({
    library: kind === 'int8-scan' ? `project index (int8-scan, adapters/ann, ${int8ScanKernel()} loop), float32 re-scoring of 2k` : `project index (${kind}, adapters/ann) M=${M} efC=${EF_CONSTRUCTION} ef=${ef}`,
    build_s: +build.toFixed(2), qps: +qps.toFixed(1), p50_ms: +percentile(times, 50).toFixed(3), p99_ms: +percentile(times, 99).toFixed(3), recall: +(hits / (nq * k)).toFixed(4),
    ...(peer ? { peer: peer.library, qps_ratio_vs_peer: +(qps / peer.qps).toFixed(2), recall_delta_vs_peer: +(hits / (nq * k) - peer.recall).toFixed(4) } : {}),
    ...(peer ? { peer_build: peer.faiss_build } : {}),
  });
}
