/**
 * Speed beside quality for `npm run bench:origin`: for the exact int8 scan (ANN_KIND=int8-scan, where built) and for
 * each vector storage of the HNSW graph (ANN_QUANTIZATION: f32, f16) × usearch search expansion ef
 * (ANN_EXPANSION_SEARCH; raised to N when smaller), and each candidate count N (ANN top-N, all scored by the DLRM),
 * sequential p50/p99 of the served pipeline and the recall of its
 * FINAL slate against the slate the same pipeline gives with exact retrieval (brute-force inner product) and the
 * default 1000 candidates. Exploration off on both sides, so every difference comes from retrieval. One JSON line
 * per setting: a speed change is never reported without the quality it costs.
 */
import type { AnnQuantization } from '../../adapters/ann/options.ts';
import { openServedPipeline } from '../../adapters/serving.ts';
import { DEFAULT_PIPELINE_SETTINGS } from '../../core/pipeline/settings.ts';
import type { PipelineRequest } from '../../core/pipeline/types.ts';
import type { ItemCatalog } from '../../core/ports/catalog.ts';
import { percentile } from './percentile.ts';

export interface SweepInput {
  scenario: string;
  artifactsRoot: string;
  fixedVersion: string | undefined;
  catalog: ItemCatalog;
  requests: readonly PipelineRequest[];
  candidates: readonly number[];
  /** usearch search expansions (ef) to try; each loads the cached graph once more. */
  expansions: readonly number[];
  /** Vector storage of the graph to try (f32, f16); each new value builds (then caches) its own graph. */
  quantizations: readonly AnnQuantization[];
  /** Also measure the exact int8 scan (one line per candidate count; ef and storage do not apply). */
  scan: boolean;
  extra: Record<string, unknown>;
}

export async function slateRecallSweep(input: SweepInput): Promise<void> {
  const requests = input.requests.map((r) => ({ ...r, explorationSlots: 0 }));
  const exact = await openServedPipeline({ artifactsRoot: input.artifactsRoot, fixedVersion: input.fixedVersion, pollMs: 0, catalog: input.catalog, annKind: 'exact', annCacheDir: null, log: () => undefined });
  const reference: string[][] = [];
  try {
    for (const r of requests) reference.push((await exact.pipeline.recommend({ ...r, settings: { candidates: DEFAULT_PIPELINE_SETTINGS.candidates } })).items.map((i) => i.id));
  } finally {
    await exact.close();
  }
  if (input.scan) {
    const served = await openServedPipeline({ artifactsRoot: input.artifactsRoot, fixedVersion: input.fixedVersion, pollMs: 0, catalog: input.catalog, annKind: 'int8-scan', annCacheDir: null, log: () => undefined });
    try {
      for (const candidates of input.candidates) await measure(served, 'int8-scan', null, candidates);
    } finally {
      await served.close();
    }
  }
  for (const quantization of input.quantizations) {
    for (const ef of input.expansions) {
      const served = await openServedPipeline({ artifactsRoot: input.artifactsRoot, fixedVersion: input.fixedVersion, pollMs: 0, catalog: input.catalog, annKind: 'usearch', ann: { expansionSearch: ef, quantization, threads: 0 }, log: () => undefined });
      try {
        for (const candidates of input.candidates) await measure(served, quantization, ef, candidates);
      } finally {
        await served.close();
      }
    }
  }

  async function measure(served: Awaited<ReturnType<typeof openServedPipeline>>, quantization: AnnQuantization | 'int8-scan', ef: number | null, candidates: number): Promise<void> {
    const settings = { candidates, rerankPool: Math.min(DEFAULT_PIPELINE_SETTINGS.rerankPool, candidates) };
    for (const r of requests.slice(0, 20)) await served.pipeline.recommend({ ...r, settings }); // warm-up
    const times: number[] = [];
    const annTimes: number[] = [];
    let recall = 0;
    let counted = 0;
    for (const [i, r] of requests.entries()) {
      const t0 = performance.now();
      const result = await served.pipeline.recommend({ ...r, settings });
      times.push(performance.now() - t0);
      annTimes.push(result.stageMs.ann ?? 0);
      const truth = reference[i]!;
      if (truth.length === 0) continue;
      const got = new Set(result.items.map((item) => item.id));
      recall += truth.filter((id) => got.has(id)).length / truth.length;
      counted++;
    }
    times.sort((a, b) => a - b);
    annTimes.sort((a, b) => a - b);
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    console.log(JSON.stringify({
      bench: 'origin-pipeline', scenario: input.scenario, mode: 'sequential-ann-sweep', requests: requests.length, index: quantization === 'int8-scan' ? 'int8-scan' : 'usearch', quantization, ef: ef === null ? null : Math.max(ef, candidates), candidates, rerankPool: settings.rerankPool,
      ms: { total: { p50: round(percentile(times, 50)), p99: round(percentile(times, 99)) }, ann: { p50: round(percentile(annTimes, 50)), p99: round(percentile(annTimes, 99)) } },
      final_slate_recall_vs_exact: round(recall / Math.max(1, counted)),
      reference: `exact retrieval, ${DEFAULT_PIPELINE_SETTINGS.candidates} candidates, exploration off`,
      ...input.extra,
    }));
  }
}
