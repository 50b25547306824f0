/**
 * What the distributed nightly's coordinator and workers agree on: the BullMQ queue name, the job payloads
 * (zod-checked by the worker), the shard result, job ids (one per version and shard, so a job enqueued twice
 * is one job) and the coordinator lock (one coordinator at a time, whatever version it computes).
 */
import { z } from 'zod';

export const NIGHTLY_QUEUE = 'nightly-shards';

const Common = z.object({
  version: z.string().regex(/^[\w.-]+$/),
  modelVersion: z.string(),
  at: z.number().int(),
  slateSize: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  /** How the worker finds the users (the same rule as the coordinator's, batch/nightly/sources.ts). */
  usersFrom: z.enum(['auto', 'store', 'generator']),
  maxUsers: z.number().int().positive().optional(),
});

export const ShardJobSchema = z.discriminatedUnion('kind', [
  Common.extend({ kind: z.literal('segments'), segments: z.array(z.string()) }),
  Common.extend({ kind: z.literal('users'), shard: z.number().int().min(0), shards: z.number().int().positive() }),
]);
export type ShardJob = z.infer<typeof ShardJobSchema>;

export const ShardResultSchema = z.object({
  users: z.number().int(),
  /** Bytes of every slate written (the version's meta summarises them). */
  bytes: z.array(z.number().int()),
  erased: z.number().int(),
  stagesMs: z.record(z.string(), z.number()),
  seconds: z.number(),
  worker: z.string(),
});
export type ShardResult = z.infer<typeof ShardResultSchema>;

export function shardJobId(version: string, job: { kind: 'segments' } | { kind: 'users'; shard: number }): string {
  // BullMQ ids may not contain ':'.
  return job.kind === 'segments' ? `${version}-segments` : `${version}-shard-${job.shard}`;
}

/** Held (SET NX PX, renewed) by the running coordinator; its value names the version it computes. */
export const COORDINATOR_LOCK_KEY = 'nightly:coordinator';
