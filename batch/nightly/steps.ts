/**
 * The steps of writing one slate version, shared by the one-machine job (job.ts) and the distributed
 * coordinator and workers (distributed/): the run marker, item cards and edge model files, batches of slates
 * (computed, checked against the erasure list, written, checked again), the meta and the pointer flip.
 */
import type { Item } from '../../shared/catalog/types.ts';
import { SlatePointerSchema } from '../../shared/contracts/slate.ts';
import type { FeatureSpace } from '../../shared/features/feature-space.ts';
import { itemCardKey, modelFileKey, SLATE_POINTER_KEY, slateKey, versionMetaKey, versionRunKey, type SlateSubject } from '../../shared/kv/keys.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import { bucketOf } from '../../shared/util/hash.ts';
import pMap from 'p-map';
import type { PipelineRequest } from '../../core/pipeline/types.ts';
import type { NightlyUser } from '../../core/ports/user-source.ts';
import { buildPipelineRequest, type RequestShape } from '../../core/request/build-request.ts';
import { chunk } from '../../adapters/kv/pool.ts';
import type { SlateComputer } from './compute.ts';
import { itemCardOf, percentile } from './slates.ts';
import type { StageTimer } from './timing.ts';

export type ErasedAmong = (ids: readonly string[]) => Promise<Set<string>>;

/** Slates are deterministic (no exploration) and computed for the version's time: reruns write the same. */
export function slateShape(slateSize: number, at: number): RequestShape {
  return { surface: 'home', k: slateSize, now: at, explorationSlots: 0 };
}

export async function writeRunMarker(kv: KvWriter, version: string, at: number): Promise<void> {
  await kv.putMany([{ key: versionRunKey(version), value: JSON.stringify({ version, at }) }]);
}

/** Edge model files (keyed by model version, written first) and every item card of the version. */
export async function writeItemCards(kv: KvWriter, timer: StageTimer, args: { space: FeatureSpace; sessionVectors: Int8Array | undefined; version: string; modelVersion: string; items: readonly Item[]; edgeModelFiles?: readonly { file: string; bytes: Uint8Array }[] | undefined }): Promise<void> {
  const files = args.edgeModelFiles ?? [];
  if (files.length > 0) {
    await timer.time('kv_write', () => kv.putMany(files.map((f) => ({ key: modelFileKey(args.modelVersion, f.file), value: Buffer.from(f.bytes).toString('base64'), base64: true }))));
  }
  for (const items of chunk(args.items, 2000)) {
    const entries = timer.timeSync('encode', () => items.map((item) => ({ key: itemCardKey(args.version, item.id), value: JSON.stringify(itemCardOf(args.space, item, args.sessionVectors)) })));
    await timer.time('kv_write', () => kv.putMany(entries));
  }
}

export function segmentRequests(segments: readonly string[], shape: RequestShape): { subjects: SlateSubject[]; requests: PipelineRequest[] } {
  const subjects: SlateSubject[] = [...segments.map((name): SlateSubject => ({ kind: 'segment', name })), { kind: 'popular' }];
  return { subjects, requests: subjects.map((s) => buildPipelineRequest({ segment: s.kind === 'segment' ? s.name : undefined }, shape)) };
}

export function userRequests(users: readonly NightlyUser[], shape: RequestShape): { subjects: SlateSubject[]; requests: PipelineRequest[] } {
  return {
    subjects: users.map((u): SlateSubject => ({ kind: 'user', id: u.id })),
    requests: users.map((u) => buildPipelineRequest({ userId: u.id, segment: u.segment, history: u.history, purchased: u.purchased }, shape)),
  };
}

/** Users of one shard (fnv1a32(id) % shards), in input order. */
export function usersOfShard(users: readonly NightlyUser[], shard: number, shards: number): NightlyUser[] {
  return users.filter((u) => bucketOf(u.id, shards) === shard);
}

export interface SlateWriter {
  /** Computes and writes the slates of these subjects in batches, `parallelism + 1` batches in flight. */
  write(subjects: readonly SlateSubject[], requests: readonly PipelineRequest[], onBatch?: (n: number) => void | Promise<void>): Promise<void>;
  /** Bytes of every slate written. */
  readonly bytes: number[];
  /** Users skipped, or whose fresh slate was deleted again, because they were erased meanwhile. */
  readonly erased: number;
}

export function slateWriter(args: { kv: KvWriter; computer: SlateComputer; timer: StageTimer; slateVersion: string; batchSize: number; erasedAmong?: ErasedAmong | undefined; bytes?: number[] }): SlateWriter {
  const { kv, computer, timer } = args;
  const bytes = args.bytes ?? [];
  let erased = 0;
  const erasedOf = async (subjects: readonly SlateSubject[]): Promise<Set<string>> => {
    const ids = subjects.flatMap((s) => (s.kind === 'user' ? [s.id] : []));
    if (!args.erasedAmong || ids.length === 0) return new Set();
    return timer.time('erasure_check', () => args.erasedAmong!(ids));
  };
  const isErased = (set: Set<string>) => (s: SlateSubject | undefined) => s?.kind === 'user' && set.has(s.id);
  /** One batch: compute, check erasures, write, check again (the slate of a user erased meanwhile is deleted). */
  const writeBatch = async (subjects: readonly SlateSubject[], requests: readonly PipelineRequest[], sizes: number[]): Promise<void> => {
    const computed = await timer.time('compute', () => computer.compute(subjects, requests));
    for (const [stage, ms] of Object.entries(computed.stageMs)) timer.add(stage, ms);
    if (computed.entries.length !== subjects.length) throw new Error(`computed ${computed.entries.length} of ${subjects.length} slates`);
    const before = await erasedOf(subjects);
    const keep = computed.entries.filter((_, r) => !isErased(before)(subjects[r]));
    for (const entry of keep) sizes.push(Buffer.byteLength(entry.value));
    await timer.time('kv_write', () => kv.putMany(keep));
    const after = await erasedOf(subjects.filter((s) => !isErased(before)(s)));
    if (after.size > 0) await timer.time('kv_write', () => kv.deleteMany([...after].map((id) => slateKey(args.slateVersion, { kind: 'user', id }))));
    erased += before.size + after.size;
  };
  const inFlight = computer.parallelism === 1 ? 1 : computer.parallelism + 1;
  return {
    bytes,
    get erased() {
      return erased;
    },
    write: async (subjects, requests, onBatch) => {
      const batches = chunk(subjects.map((subject, i) => ({ subject, request: requests[i]! })), args.batchSize);
      // Sizes join `bytes` only when the whole call is written: the job saves `bytes` with the shards that are done,
      // and a shard still in flight (two are, with several workers) is recomputed after a crash.
      const sizes: number[] = [];
      await pMap(batches, async (batch) => {
        await writeBatch(batch.map((b) => b.subject), batch.map((b) => b.request), sizes);
        await onBatch?.(batch.length);
      }, { concurrency: inFlight });
      for (const size of sizes) bytes.push(size);
    },
  };
}

export function bytesSummary(bytes: readonly number[]): { p50: number; max: number; mean: number } {
  return { p50: percentile(bytes, 0.5), max: bytes.reduce((a, b) => Math.max(a, b), 0), mean: Math.round(bytes.reduce((a, b) => a + b, 0) / Math.max(1, bytes.length)) };
}

export interface VersionMeta {
  version: string;
  modelVersion: string;
  createdAt: number;
  users: number;
  segments: number;
  slates: number;
  itemCards: number;
  slateSize: number;
  bytesPerSlate: { p50: number; max: number; mean: number };
}

/**
 * Marks the version complete (meta) and makes it live (pointer flip, a single key), in that order; never
 * moves the pointer backwards (a late resume of an old version after a newer one went live). True if flipped.
 */
export async function publishVersion(kv: KvWriter, meta: VersionMeta): Promise<boolean> {
  const pointer = SlatePointerSchema.parse({ version: meta.version, modelVersion: meta.modelVersion, createdAt: meta.createdAt });
  await kv.putMany([{ key: versionMetaKey(meta.version), value: JSON.stringify(meta) }]);
  const live = await kv.get(SLATE_POINTER_KEY);
  const liveVersion = live === null ? undefined : SlatePointerSchema.parse(JSON.parse(live)).version;
  const flipped = liveVersion === undefined || liveVersion <= meta.version;
  if (flipped) await kv.putMany([{ key: SLATE_POINTER_KEY, value: JSON.stringify(pointer) }]);
  return flipped;
}
