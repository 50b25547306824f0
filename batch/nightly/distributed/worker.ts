/**
 * A distributed nightly worker: a BullMQ Worker on the shared Redis that takes the shard jobs of any
 * version, computes their slates (worker threads or this thread), checks erasures before and after every
 * batch and writes to the shared KV. It keeps the users, catalogue and pipeline of the version it worked on
 * last, so the next shard of the same version starts at once. A job for a model version other than the one
 * in its artifacts fails for good (UnrecoverableError): a version is never computed with two models.
 * Killed mid-shard, its job's lock expires and BullMQ hands the job to another worker (a stalled job);
 * rewriting a shard writes the same values, so the result is what one uninterrupted run writes.
 */
import { hostname } from 'node:os';
import { pid } from 'node:process';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KvWriter } from '../../../shared/kv/writer.ts';
import type { NightlyUser, UserSource } from '../../../core/ports/user-source.ts';
import { inProcessComputer, type SlateComputer } from '../compute.ts';
import { loadModelArtifacts, type ModelArtifacts } from '../inputs.ts';
import { openNightlySources, type SourceSettings } from '../sources.ts';
import { segmentRequests, slateShape, slateWriter, userRequests, usersOfShard } from '../steps.ts';
import { StageTimer } from '../timing.ts';
import { workerPoolComputer } from '../worker-pool.ts';
import { fixedVersionServing, openServedPipeline } from '../../../adapters/serving.ts';
import { NIGHTLY_QUEUE, ShardJobSchema, type ShardJob, type ShardResult } from './protocol.ts';

export interface ShardWorkerOptions {
  connection: Redis;
  /** BullMQ key prefix (default 'bull'). */
  prefix?: string | undefined;
  kv: KvWriter;
  artifactsRoot: string;
  source: Omit<SourceSettings, 'usersFrom' | 'maxUsers'>;
  /** Worker threads computing slates (1 = this thread). */
  threads: number;
  /** How long a job's lock lasts without renewal: a killed worker's shard is retried after about this long. */
  lockMs?: number | undefined;
  /** Pause between batches (ms), to leave CPU to other work on a shared machine. */
  throttleMs?: number | undefined;
  onProgress?: ((event: { job: string; usersDone: number; usersTotal: number }) => void) | undefined;
  log?: ((line: Record<string, unknown>) => void) | undefined;
}

interface VersionContext {
  key: string;
  artifacts: ModelArtifacts;
  source: UserSource;
  users: NightlyUser[];
  computer: SlateComputer;
  close(): Promise<void>;
}

export function startShardWorker(options: ShardWorkerOptions): { worker: Worker; close(): Promise<void> } {
  const name = `${hostname()}:${pid}`;
  let context: VersionContext | undefined;

  async function contextFor(job: ShardJob): Promise<VersionContext> {
    const key = JSON.stringify([job.version, job.modelVersion, job.at, job.slateSize, job.usersFrom, job.maxUsers]);
    if (context?.key === key) return context;
    await context?.close();
    context = undefined;
    const artifacts = await loadModelArtifacts(options.artifactsRoot);
    if (artifacts.version !== job.modelVersion) throw new UnrecoverableError(`this worker serves model ${artifacts.version}, the job asks for ${job.modelVersion}`);
    const sources = await openNightlySources({ ...options.source, usersFrom: job.usersFrom, maxUsers: job.maxUsers });
    const candidates = await sources.source.activeUsers();
    const erased = await sources.source.erasedAmong(candidates.map((u) => u.id));
    const users = candidates.filter((u) => !erased.has(u.id));
    const version = { slateVersion: job.version, modelVersion: job.modelVersion, at: job.at };
    let computer: SlateComputer;
    let closePipeline = async (): Promise<void> => undefined;
    if (options.threads > 1) {
      computer = await workerPoolComputer({ threads: options.threads, versionDir: artifacts.dir, items: sources.items, version, slateSize: job.slateSize });
    } else {
      const served = await openServedPipeline(fixedVersionServing(artifacts.dir, sources.items));
      closePipeline = () => served.close();
      computer = inProcessComputer(served.pipeline, { space: artifacts.space, sessionVectors: artifacts.sessionVectors, version, slateSize: job.slateSize, catalog: new Map(sources.items.map((i) => [i.id, i])) });
    }
    context = {
      key,
      artifacts,
      source: sources.source,
      users,
      computer,
      close: async () => {
        await computer.close();
        await closePipeline();
        await sources.source.close();
      },
    };
    return context;
  }

  async function processShard(job: Job): Promise<ShardResult> {
    const started = performance.now();
    const parsed = ShardJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid shard job: ${parsed.error.message}`);
    const data = parsed.data;
    const ctx = await contextFor(data);
    const timer = new StageTimer();
    const writer = slateWriter({ kv: options.kv, computer: ctx.computer, timer, slateVersion: data.version, batchSize: data.batchSize, erasedAmong: (ids) => ctx.source.erasedAmong(ids) });
    const shape = slateShape(data.slateSize, data.at);
    const users = data.kind === 'users' ? usersOfShard(ctx.users, data.shard, data.shards) : [];
    const { subjects, requests } = data.kind === 'users' ? userRequests(users, shape) : segmentRequests(data.segments, shape);
    options.log?.({ event: 'shard-start', worker: name, job: job.id, attempt: job.attemptsMade + 1, subjects: subjects.length });
    let done = 0;
    await writer.write(subjects, requests, async (n) => {
      done += n;
      options.onProgress?.({ job: job.id ?? '', usersDone: done, usersTotal: subjects.length });
      options.log?.({ event: 'shard-batch', worker: name, job: job.id, done, of: subjects.length });
      await job.updateProgress(Math.round((100 * done) / Math.max(1, subjects.length)));
      if (options.throttleMs) await new Promise((resolve) => setTimeout(resolve, options.throttleMs));
    });
    const result: ShardResult = { users: users.length, bytes: writer.bytes, erased: writer.erased, stagesMs: timer.totals(), seconds: (performance.now() - started) / 1000, worker: name };
    options.log?.({ event: 'shard-done', worker: name, job: job.id, users: users.length, seconds: Math.round(result.seconds * 1000) / 1000 });
    return result;
  }

  const lockMs = options.lockMs ?? 30_000;
  const worker = new Worker(NIGHTLY_QUEUE, processShard, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: 1,
    lockDuration: lockMs,
    stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
    maxStalledCount: 3,
  });
  worker.on('error', (error) => options.log?.({ event: 'worker-error', worker: name, error: error.message }));
  return {
    worker,
    close: async () => {
      await worker.close();
      await context?.close();
    },
  };
}
