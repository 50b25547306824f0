/**
 * `npm run bench:onnx-providers -- --providers cpu,cuda,webgpu`: the origin's own ONNX models (user tower, DLRM),
 * loaded through the origin's loader (adapters/onnx/loaded-model.ts) once per execution provider, timed at the
 * shapes the origin runs them: the user tower for 1 and 16 users (a micro-batch), the DLRM for one request's
 * candidates (100 rows: core/pipeline/settings.ts), a micro-batch of 16 requests (1,600) and larger batches, which
 * show where a GPU starts to pay. A non-CPU provider is asked for as the origin asks (`<p>,cpu`), so
 * ONNX Runtime may leave nodes it cannot place on the CPU, and a provider that cannot start falls back to CPU with
 * a warning: the line says which providers were used and any fallback, so a CPU figure is never reported as GPU.
 * Each line has p50/p99 of one call, calls/s and rows/s with one caller and with --concurrency callers, and for a
 * non-CPU provider the largest difference of its outputs from the CPU's on the same inputs (same model, so it
 * must be round-off only). The first line describes the host (GPU name where nvidia-smi answers).
 * Flags: --dir <version folder> (default models/artifacts/current.json's)  --runs N (default 300)
 *        --concurrency C (default 4)  --threads T (CPU intra-op threads, default 1 as the origin)
 *        --dlrm-rows 100,1600,16000 (DLRM batch sizes in rows)
 * Times are measurements on this machine, never assertions.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../../adapters/onnx/loaded-model.ts';
import type { LoadedModel } from '../../core/ports/model.ts';
import { readPointer } from '../../core/registry/artifacts.ts';
import { DLRM_DENSE_FEATURES, DLRM_SPARSE_FEATURES, HISTORY_LENGTH } from '../../shared/features/spec.ts';
import { createRng } from '../../shared/util/rng.ts';
import { percentile } from './percentile.ts';

const root = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: {
    providers: { type: 'string', default: 'cpu' },
    dir: { type: 'string' },
    runs: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '4' },
    threads: { type: 'string', default: '1' },
    /** DLRM batch sizes in rows: 100 is one request's candidates; a micro-batch of n requests is about n × 100. */
    'dlrm-rows': { type: 'string', default: '100,1600,16000' },
  },
});
const providers = values.providers.split(',').map((p) => p.trim()).filter(Boolean);
const runs = Number(values.runs);
const concurrency = Number(values.concurrency);
const threads = Number(values.threads);
if (!Number.isInteger(runs) || runs < 10) throw new Error('--runs: an integer ≥ 10');
const dlrmRows = values['dlrm-rows'].split(',').filter(Boolean).map(Number);
if (dlrmRows.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--dlrm-rows: positive integers, e.g. 1000,8000');
const artifacts = join(root, 'models', 'artifacts');
const dir = values.dir ?? join(artifacts, await readPointer(artifacts));

function gpuName(): string | null {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return null;
  }
}

interface Workload {
  name: string;
  rows: number;
  call: (model: LoadedModel) => Promise<Float32Array>;
}

/** Deterministic inputs in the models' vocabularies (the same for every provider, so outputs compare). */
function workloads(model: LoadedModel): Workload[] {
  const vocab = model.manifest.vocab;
  const rng = createRng(7);
  const users = (n: number) =>
    Array.from({ length: n }, () => {
      const history = new Int32Array(HISTORY_LENGTH);
      const length = 1 + rng.int(HISTORY_LENGTH);
      for (let i = HISTORY_LENGTH - length; i < HISTORY_LENGTH; i++) history[i] = 1 + rng.int(vocab.items);
      return { segment: rng.int(vocab.segments + 1), history };
    });
  const sizes: Record<(typeof DLRM_SPARSE_FEATURES)[number], number> = {
    segment: vocab.segments + 1,
    item: vocab.items + 1,
    category: vocab.categories + 1,
    brand: vocab.brands + 1,
    price_bucket: vocab.priceBuckets,
    last_category: vocab.categories + 1,
  };
  const candidates = (rows: number) => {
    const sparse = new Int32Array(rows * DLRM_SPARSE_FEATURES.length);
    for (let r = 0; r < rows; r++) DLRM_SPARSE_FEATURES.forEach((f, c) => (sparse[r * DLRM_SPARSE_FEATURES.length + c] = rng.int(sizes[f])));
    const dense = Float32Array.from({ length: rows * DLRM_DENSE_FEATURES.length }, () => rng.next());
    return { rows, sparse, dense };
  };
  const tower1 = users(1);
  const tower16 = users(16);
  const dlrm = dlrmRows.map((rows): Workload => {
    const batch = candidates(rows);
    return { name: `dlrm ${rows} rows`, rows, call: (m) => m.scoreCandidates(batch) };
  });
  return [
    { name: 'user-tower x1', rows: 1, call: (m) => m.embedUsers(tower1) },
    { name: 'user-tower x16', rows: 16, call: (m) => m.embedUsers(tower16) },
    ...dlrm,
  ];
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

console.log(JSON.stringify({ bench: 'onnx-providers', host: { cpu: cpus()[0]?.model, cores: cpus().length, gpu: gpuName() }, dir, runs, concurrency, cpuThreads: threads }));
const reference = new Map<string, Float32Array>();
for (const provider of providers) {
  const requested = provider === 'cpu' ? ['cpu'] : [provider, 'cpu'];
  const loadStart = performance.now();
  let model: LoadedModel;
  try {
    model = await loadModel(dir, { execution: { executionProviders: requested, intraOpNumThreads: threads }, annKind: 'exact' });
  } catch (error) {
    console.log(JSON.stringify({ bench: 'onnx-providers', provider, error: error instanceof Error ? error.message.split('\n')[0] : String(error) }));
    continue;
  }
  const loadSeconds = round((performance.now() - loadStart) / 1000, 2);
  const fellBack = provider !== 'cpu' && !model.providers.includes(provider);
  // One line per provider says what ONNX Runtime was given and any fallback (with its reason, once).
  console.log(JSON.stringify({ bench: 'onnx-providers', provider, requested, used: model.providers, fellBackToCpu: fellBack, warnings: [...new Set(model.warnings)], loadSeconds }));
  for (const w of workloads(model)) {
    const first = await w.call(model);
    if (provider === 'cpu') reference.set(w.name, first);
    const ref = reference.get(w.name);
    for (let i = 0; i < 20; i++) await w.call(model); // warm-up
    const times: number[] = [];
    const seqStart = performance.now();
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await w.call(model);
      times.push(performance.now() - t0);
    }
    const seqSeconds = (performance.now() - seqStart) / 1000;
    let done = 0;
    const concStart = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (done < runs) {
        done++;
        await w.call(model);
      }
    }));
    const concSeconds = (performance.now() - concStart) / 1000;
    times.sort((a, b) => a - b);
    console.log(JSON.stringify({
      bench: 'onnx-providers',
      provider,
      used: model.providers,
      workload: w.name,
      p50Ms: round(percentile(times, 50)),
      p99Ms: round(percentile(times, 99)),
      callsPerSecond: Math.round(runs / seqSeconds),
      rowsPerSecond: Math.round((runs * w.rows) / seqSeconds),
      [`callsPerSecondConcurrent${concurrency}`]: Math.round(runs / concSeconds),
      [`rowsPerSecondConcurrent${concurrency}`]: Math.round((runs * w.rows) / concSeconds),
      ...(provider !== 'cpu' && ref ? { maxAbsDiffFromCpu: Number(maxAbsDiff(first, ref).toExponential(2)) } : {}),
    }));
  }
  await model.dispose();
}
process.exit(0);
