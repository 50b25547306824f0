/**
 * The distributed nightly's coordinator: takes the coordinator lock in Redis (a second coordinator, for this
 * or any version, stops with an error and writes nothing), writes the version's run marker, edge model files
 * and item cards, enqueues one BullMQ job for the segment slates and one per user shard (job ids derived from
 * version and shard, so enqueueing twice adds nothing), waits until every job has completed, and only then
 * writes the meta and flips the pointer. A job that fails for good (its retries spent) fails the run: the
 * previous version stays live. Re-running the coordinator with the same --version resumes: completed shards
 * are kept, failed ones are retried, the rest are waited for.
 */
import { randomUUID } from 'node:crypto';
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Item } from '../../../shared/catalog/types.ts';
import type { FeatureSpace } from '../../../shared/features/feature-space.ts';
import type { KvWriter } from '../../../shared/kv/writer.ts';
import { cleanupVersions, DEFAULT_GRACE_MS } from '../cleanup.ts';
import { bytesSummary, publishVersion, writeItemCards, writeRunMarker } from '../steps.ts';
import { StageTimer } from '../timing.ts';
import { COORDINATOR_LOCK_KEY, NIGHTLY_QUEUE, ShardResultSchema, shardJobId, type ShardJob, type ShardResult } from './protocol.ts';

export interface CoordinatorOptions {
  connection: Redis;
  prefix?: string | undefined;
  kv: KvWriter;
  space: FeatureSpace;
  /** The version's session vectors, carried by the item cards (absent: none). */
  sessionVectors: Int8Array | undefined;
  items: readonly Item[];
  segments: readonly string[];
  edgeModelFiles?: readonly { file: string; bytes: Uint8Array }[] | undefined;
  version: string;
  modelVersion: string;
  at: number;
  shards: number;
  batchSize: number;
  slateSize: number;
  usersFrom: ShardJob['usersFrom'];
  maxUsers?: number | undefined;
  /** Retries of a failing shard job (a stalled job — its worker died — is retried up to 3 times on top). */
  attempts?: number | undefined;
  graceMs?: number | undefined;
  pollMs?: number | undefined;
  onProgress?: ((event: { shardsDone: number; shardsTotal: number; percent: number }) => void) | undefined;
  /** The release function of a lock the caller already took (takeCoordinatorLock); default: taken here. */
  lock?: (() => Promise<void>) | undefined;
}

export interface DistributedSummary {
  event: 'nightly-summary';
  mode: 'distributed';
  version: string;
  modelVersion: string;
  users: number;
  slates: number;
  itemCards: number;
  shards: number;
  shardsRetried: number;
  workers: string[];
  seconds: number;
  usersPerHour: number;
  bytesPerSlate: { p50: number; max: number; mean: number };
  /** Milliseconds per stage summed over every worker (and the coordinator's item cards). */
  stagesMs: Record<string, number>;
  usersErasedAtWrite: number;
  flipped: boolean;
  deletedVersions: string[];
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export class CoordinatorBusyError extends Error {
  constructor(holder: string) {
    super(`another nightly coordinator is running (${holder}); not starting a second one, so versions cannot mix`);
    this.name = 'CoordinatorBusyError';
  }
}

/**
 * Takes the coordinator lock (renewed every third of its TTL; a dead coordinator's lock lapses after the TTL);
 * resolves to its release function, rejects with CoordinatorBusyError when another coordinator holds it.
 */
export async function takeCoordinatorLock(redis: Redis, prefix: string | undefined, holder: string, ttlMs = 30_000): Promise<() => Promise<void>> {
  const key = `${prefix ?? 'bull'}:${COORDINATOR_LOCK_KEY}`;
  const token = `${holder}#${randomUUID()}`;
  const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (ok !== 'OK') throw new CoordinatorBusyError((await redis.get(key)) ?? 'unknown');
  const timer = setInterval(() => void redis.eval(RENEW, 1, key, token, String(ttlMs)).catch(() => undefined), ttlMs / 3);
  return async () => {
    clearInterval(timer);
    await redis.eval(RELEASE, 1, key, token);
  };
}

export async function runCoordinator(options: CoordinatorOptions): Promise<DistributedSummary> {
  const started = performance.now();
  const { connection: redis, kv } = options;
  const release = options.lock ?? (await takeCoordinatorLock(redis, options.prefix, `version ${options.version}, pid ${process.pid}`));
  const queue = new Queue(NIGHTLY_QUEUE, { connection: redis, prefix: options.prefix });
  try {
    const timer = new StageTimer();
    await writeRunMarker(kv, options.version, options.at);
    await writeItemCards(kv, timer, { space: options.space, sessionVectors: options.sessionVectors, version: options.version, modelVersion: options.modelVersion, items: options.items, edgeModelFiles: options.edgeModelFiles });

    const common = { version: options.version, modelVersion: options.modelVersion, at: options.at, slateSize: options.slateSize, batchSize: options.batchSize, usersFrom: options.usersFrom, maxUsers: options.maxUsers };
    const jobs: ShardJob[] = [
      { ...common, kind: 'segments', segments: [...options.segments] },
      ...Array.from({ length: options.shards }, (_, shard): ShardJob => ({ ...common, kind: 'users', shard, shards: options.shards })),
    ];
    const ids = jobs.map((job) => shardJobId(options.version, job));
    await queue.addBulk(
      jobs.map((data, i) => ({
        name: data.kind,
        data,
        opts: { jobId: ids[i]!, attempts: options.attempts ?? 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 7 * 86_400 } },
      })),
    );

    // A re-run of a version whose jobs failed earlier gives those jobs another round of attempts.
    for (const id of ids) {
      const job = await Job.fromId(queue, id);
      if (job && (await job.getState()) === 'failed') await job.retry('failed');
    }

    // Wait for every job: completed → its result; failed for good → the run fails before the flip.
    const results = new Map<string, { result: ShardResult; retried: boolean }>();
    while (results.size < ids.length) {
      let percent = 0;
      for (const id of ids) {
        if (results.has(id)) {
          percent += 100;
          continue;
        }
        // State first, then the job: a job read before it completed would carry no return value yet.
        const state = await queue.getJobState(id);
        const job = await Job.fromId(queue, id);
        if (!job || state === 'unknown') throw new Error(`shard job ${id} disappeared from the queue`);
        if (state === 'failed') throw new Error(`shard job ${id} failed after ${job.attemptsMade} attempts: ${job.failedReason}`);
        if (state === 'completed') {
          results.set(id, { result: ShardResultSchema.parse(job.returnvalue), retried: job.attemptsMade > 1 || job.stalledCounter > 0 });
          percent += 100;
        } else if (typeof job.progress === 'number') percent += job.progress;
      }
      options.onProgress?.({ shardsDone: results.size, shardsTotal: ids.length, percent: percent / ids.length });
      if (results.size < ids.length) await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    }

    const all = ids.map((id) => results.get(id)!);
    // Same order of slate sizes as the one-machine job (segments, then shards in order): same meta.
    const bytes = all.flatMap((r) => r.result.bytes);
    const users = all.reduce((n, r) => n + r.result.users, 0);
    const flipped = await publishVersion(kv, {
      version: options.version,
      modelVersion: options.modelVersion,
      createdAt: options.at,
      users,
      segments: options.segments.length,
      slates: bytes.length,
      itemCards: options.items.length,
      slateSize: options.slateSize,
      bytesPerSlate: bytesSummary(bytes),
    });
    const deletedVersions = await cleanupVersions(kv, Date.now(), options.graceMs ?? DEFAULT_GRACE_MS);
    for (const r of all) for (const [stage, ms] of Object.entries(r.result.stagesMs)) timer.add(stage, ms);
    const seconds = (performance.now() - started) / 1000;
    return {
      event: 'nightly-summary',
      mode: 'distributed',
      version: options.version,
      modelVersion: options.modelVersion,
      users,
      slates: bytes.length,
      itemCards: options.items.length,
      shards: options.shards,
      shardsRetried: all.filter((r) => r.retried).length,
      workers: [...new Set(all.map((r) => r.result.worker))].sort(),
      seconds: Math.round(seconds * 1000) / 1000,
      usersPerHour: Math.round((users * 3600) / seconds),
      bytesPerSlate: bytesSummary(bytes),
      stagesMs: timer.totals(),
      usersErasedAtWrite: all.reduce((n, r) => n + r.result.erased, 0),
      flipped,
      deletedVersions,
    };
  } finally {
    await queue.close();
    await release();
  }
}
