/**
 * How the nightly turns a batch of slate requests into KV entries: the SlateComputer interface and its
 * in-process implementation (the pipeline on this thread; the single-thread path, kept as the baseline the
 * benchmark compares against). The worker-thread implementation (one pipeline per core) is in worker-pool.ts
 * and uses the same encodeSlates below, so both paths write byte-identical values for the same batches.
 */
import type { Item } from '../../shared/catalog/types.ts';
import type { FeatureSpace } from '../../shared/features/feature-space.ts';
import { slateKey, type SlateSubject } from '../../shared/kv/keys.ts';
import type { KvEntry } from '../../shared/kv/writer.ts';
import type { Pipeline, PipelineRequest, PipelineResult } from '../../core/pipeline/types.ts';
import { slateOf, type VersionInfo } from './slates.ts';

export interface ComputedBatch {
  /** One entry per subject, same order. */
  entries: KvEntry[];
  /** Milliseconds spent per stage on this batch ('pipeline', 'pipeline.<stage>', 'encode'). */
  stageMs: Record<string, number>;
}

export interface SlateComputer {
  /** How many batches it computes at once (1 on this thread, one per worker in the pool). */
  readonly parallelism: number;
  compute(subjects: readonly SlateSubject[], requests: readonly PipelineRequest[]): Promise<ComputedBatch>;
  close(): Promise<void>;
}

export interface EncodeContext {
  space: FeatureSpace;
  /** The version's session vectors, carried by the slates for the edge reranker (absent: none carried). */
  sessionVectors: Int8Array | undefined;
  version: VersionInfo;
  slateSize: number;
  catalog: ReadonlyMap<string, Item>;
}

/** Pipeline answers → KV entries (slate JSON carrying the items' cards). */
export function encodeSlates(ctx: EncodeContext, subjects: readonly SlateSubject[], results: readonly PipelineResult[]): KvEntry[] {
  if (results.length !== subjects.length) throw new Error(`pipeline answered ${results.length} of ${subjects.length} requests`);
  return results.map((result, r) => ({
    key: slateKey(ctx.version.slateVersion, subjects[r]!),
    value: JSON.stringify(slateOf(ctx.space, ctx.version, result.items.slice(0, ctx.slateSize), ctx.catalog, ctx.sessionVectors)),
  }));
}

/** Runs one batch through a pipeline and encodes it, timing each part. */
export async function computeBatch(pipeline: Pipeline, ctx: EncodeContext, subjects: readonly SlateSubject[], requests: readonly PipelineRequest[]): Promise<ComputedBatch> {
  const t0 = performance.now();
  const results = await pipeline.recommendBatch(requests);
  const t1 = performance.now();
  const entries = encodeSlates(ctx, subjects, results);
  const stageMs: Record<string, number> = { pipeline: t1 - t0, encode: performance.now() - t1 };
  // recommendBatch reports its group's stage times on each result of the group (a batch is split into groups
  // of the pipeline's maxBatch): count each group once, i.e. each run of equal consecutive stage records.
  let previous = '';
  for (const result of results) {
    const text = JSON.stringify(result.stageMs);
    if (text === previous) continue;
    previous = text;
    for (const [stage, v] of Object.entries(result.stageMs)) stageMs[`pipeline.${stage}`] = (stageMs[`pipeline.${stage}`] ?? 0) + v;
  }
  return { entries, stageMs };
}

export function inProcessComputer(pipeline: Pipeline, ctx: EncodeContext): SlateComputer {
  return {
    parallelism: 1,
    compute: (subjects, requests) => computeBatch(pipeline, ctx, subjects, requests),
    close: () => Promise.resolve(),
  };
}
