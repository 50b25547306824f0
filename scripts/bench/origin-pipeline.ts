/**
 * `npm run bench:pipeline`: per-stage latency of the origin pipeline, in process, printed as JSON lines.
 *   1. demo models (models/artifacts/current.json, 10k items): sequential requests (no batching) and
 *      concurrent clients (micro-batched), p50/p99 per stage and end to end;
 *   2. a synthetic 1M-item catalogue (scripts/bench/synthetic-artifacts.ts: random-weight models of the real
 *      architectures, clustered random embeddings) through the real index, user tower and DLRM.
 *   Each scenario runs once per retrieval index in --ann (default auto,usearch: the origin's default — the exact
 *   int8 scan up to 2M items — and the HNSW graph it replaced), in the same run, so the two compare directly.
 *   3. per scenario, a sweep of ANN vector storage × ef × candidate count with the final slate's recall against exact retrieval
 *      beside p50/p99 (scripts/bench/slate-recall.ts), so no speed-up hides a quality loss.
 * Flags: --ann auto,usearch,int8-scan  --requests N (per scenario, default 400)  --concurrency C (default 16)  --skip-big  --skip-demo  --big-items N
 *        --candidates 1000,500,300,200  --ef 1024,2048  --quantization f32,f16  --recall-requests N (default 200; exact retrieval at 1M is slow)
 * Times are measurements on this machine, never assertions.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateDataset } from '../../shared/catalog/generator.ts';
import type { Dataset } from '../../shared/catalog/types.ts';
import { InMemoryItemCatalog } from '../../adapters/memory/item-catalog.ts';
import { openServedPipeline } from '../../adapters/serving.ts';
import type { PipelineRequest, PipelineResult } from '../../core/pipeline/types.ts';
import { createRng } from '../../shared/util/rng.ts';
import type { AnnQuantization } from '../../adapters/ann/options.ts';
import { int8ScanKernel, int8ScanUnavailable } from '../../adapters/ann/int8-scan-index.ts';
import { slateRecallSweep } from './slate-recall.ts';
import { percentile } from './percentile.ts';
import { syntheticArtifacts } from './synthetic-artifacts.ts';

const root = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '16' },
    'skip-big': { type: 'boolean', default: false },
    'skip-demo': { type: 'boolean', default: false },
    'big-items': { type: 'string', default: '1000000' },
    'big-users': { type: 'string', default: '2000' },
    /** Candidate counts to sweep with the final-slate recall against exact retrieval (scripts/bench/slate-recall.ts). */
    candidates: { type: 'string', default: '1000,500,300,200' },
    'recall-requests': { type: 'string', default: '200' },
    ef: { type: 'string', default: '1024,2048' },
    quantization: { type: 'string', default: 'f32,f16' },
    /** Retrieval indexes to run each scenario with: auto (the origin's default), usearch (HNSW), int8-scan. */
    ann: { type: 'string', default: 'auto,usearch' },
  },
});
type AnnChoice = 'auto' | 'usearch' | 'int8-scan';
const annChoices = values.ann.split(',').filter(Boolean) as AnnChoice[];
const badAnn = annChoices.filter((k) => !['auto', 'usearch', 'int8-scan'].includes(k));
if (badAnn.length > 0) throw new Error(`--ann: ${badAnn.join(', ')} is not auto, usearch or int8-scan`);
const requestCount = Number(values.requests);
const concurrency = Number(values.concurrency);

function quantizationsOf(text: string): AnnQuantization[] {
  const kinds = text.split(',').filter(Boolean);
  const bad = kinds.filter((k) => !['f32', 'f16'].includes(k));
  if (bad.length > 0) throw new Error(`--quantization: ${bad.join(', ')} is not f32 or f16`);
  return kinds as AnnQuantization[];
}

function summarise(samples: { total: number; stages: Record<string, number> }[]): Record<string, { p50: number; p99: number }> {
  const names = new Set(samples.flatMap((s) => Object.keys(s.stages)));
  const out: Record<string, { p50: number; p99: number }> = {};
  for (const name of ['total', ...names]) {
    const values = samples.map((s) => (name === 'total' ? s.total : (s.stages[name] ?? 0))).sort((a, b) => a - b);
    out[name] = { p50: Math.round(percentile(values, 50) * 1000) / 1000, p99: Math.round(percentile(values, 99) * 1000) / 1000 };
  }
  return out;
}

function requestsOf(dataset: Dataset, n: number, now: number): PipelineRequest[] {
  const histories = new Map<string, string[]>();
  for (const e of dataset.interactions) if (e.type !== 'impression' && e.type !== 'click') histories.set(e.userId, [...(histories.get(e.userId) ?? []), e.itemId]);
  const segmentOf = new Map(dataset.users.map((u) => [u.id, u.segment]));
  const users = [...histories.keys()];
  const rng = createRng(9);
  return Array.from({ length: n }, (_, i) => {
    const userId = users[rng.int(users.length)]!;
    // One in ten requests is anonymous with a short session (the cold-start path).
    if (i % 10 === 9) return { sessionId: `s${i}`, surface: 'home', k: 10, history: [], sessionItems: (histories.get(userId) ?? []).slice(-3), excludeIds: [], now, explorationSlots: 2 };
    return { userId, segment: segmentOf.get(userId), surface: 'home', k: 10, history: (histories.get(userId) ?? []).slice(-200), sessionItems: [], excludeIds: [], now, explorationSlots: 2 };
  });
}

async function scenario(name: string, artifactsRoot: string, fixedVersion: string | undefined, dataset: Dataset, now: number, extraIn: Record<string, unknown>, ann: AnnChoice, sweepToo: boolean): Promise<void> {
  const loadStarted = performance.now();
  const catalog = new InMemoryItemCatalog(dataset.items);
  const origin = await openServedPipeline({
    artifactsRoot,
    fixedVersion,
    pollMs: 0,
    catalog,
    annKind: ann === 'auto' ? undefined : ann,
    ann: { threads: 0 },
    rng: createRng(1),
    log: () => undefined,
  });
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  if (origin.registry.status.lastError) throw new Error(origin.registry.status.lastError);
  const lease = origin.registry.acquire();
  const index = lease?.model.index.kind;
  // Which ONNX execution providers served (ONNX_EXECUTION_PROVIDERS, e.g. cuda,cpu), so a CPU fallback never reads as GPU.
  const onnx = { providers: lease?.model.providers, ...(lease?.model.warnings.length ? { warnings: lease.model.warnings } : {}) };
  lease?.release();
  const extra = { ann, index, ...(index === 'int8-scan' ? { kernel: int8ScanKernel() } : {}), onnx, ...extraIn };
  const requests = requestsOf(dataset, requestCount, now);
  const run = async (r: PipelineRequest): Promise<{ total: number; stages: Record<string, number>; result: PipelineResult }> => {
    const t0 = performance.now();
    const result = await origin.pipeline.recommend(r);
    return { total: performance.now() - t0, stages: result.stageMs, result };
  };
  for (const r of requests.slice(0, 20)) await run(r); // warm-up
  const sequential = [];
  for (const r of requests) sequential.push(await run(r));
  console.log(JSON.stringify({ bench: 'origin-pipeline', scenario: name, mode: 'sequential', requests: requests.length, modelLoadSeconds: Math.round(loadSeconds * 10) / 10, ms: summarise(sequential), degraded: sequential.filter((s) => s.result.degraded.some((d) => d !== 'no-history')).length, ...extra }));
  const before = origin.pipeline.batchSizes.length;
  const concurrent: { total: number; stages: Record<string, number>; result: PipelineResult }[] = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests.length) concurrent.push(await run(requests[next++]!));
  }));
  const seconds = (performance.now() - started) / 1000;
  const sizes = origin.pipeline.batchSizes.slice(before);
  console.log(JSON.stringify({ bench: 'origin-pipeline', scenario: name, mode: `concurrent-${concurrency}`, requests: requests.length, rps: Math.round(requests.length / seconds), meanBatch: Math.round((sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length)) * 10) / 10, ms: summarise(concurrent), note: 'stage times are per micro-batch, shared by its requests', ...extra }));
  const sweep = values.candidates.split(',').filter(Boolean).map(Number);
  if (sweep.length > 0 && sweepToo) {
    await origin.close(); // the sweep opens one pipeline per ef
    await slateRecallSweep({ scenario: name, artifactsRoot, fixedVersion, catalog, requests: requests.slice(0, Number(values['recall-requests'])), candidates: sweep, expansions: values.ef.split(',').filter(Boolean).map(Number), quantizations: quantizationsOf(values.quantization), scan: int8ScanUnavailable() === undefined, extra: extraIn });
    return;
  }
  await origin.close();
}

// The sweep (every index setting against exact retrieval) runs once per scenario, after the last --ann choice.
if (!values['skip-demo']) {
  const shop = generateDataset({});
  for (const [i, ann] of annChoices.entries()) await scenario('demo-10k-items', join(root, 'models', 'artifacts'), undefined, shop, Date.UTC(2026, 10, 1), {}, ann, i === annChoices.length - 1);
}

if (!values['skip-big']) {
  const items = Number(values['big-items']);
  const synthetic = await syntheticArtifacts(root, items, Number(values['big-users']));
  for (const [i, ann] of annChoices.entries()) {
    await scenario(`synthetic-${items}-items`, join(synthetic.dir, '..'), synthetic.dir.split('/').at(-1), synthetic.dataset, Date.UTC(2026, 10, 1), {
      note2: 'random-weight models of the real architectures, clustered random embeddings: timing only',
    }, ann, i === annChoices.length - 1);
  }
}
process.exit(0);
