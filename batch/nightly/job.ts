/**
 * The nightly slate job: for every active user (sharded by fnv1a32(userId) % shards), each segment and the
 * global popular slate, ask the pipeline for the top-N in batches and write the slates, plus every item
 * card, under a new version prefix in KV. Only when everything is written: `slates:meta:<v>`, then the
 * pointer flip. A crash anywhere before the flip leaves the previous version live; `resume` continues the
 * newest unfinished version from its state file without recomputing finished shards.
 */
import type { Item } from '../../shared/catalog/types.ts';
import type { FeatureSpace } from '../../shared/features/feature-space.ts';
import { newSlateVersion } from '../../shared/kv/keys.ts';
import type { KvWriter } from '../../shared/kv/writer.ts';
import pMap from 'p-map';
import { fnv1a32 } from '../../shared/util/hash.ts';
import type { Pipeline } from '../../core/pipeline/types.ts';
import { cleanupVersions, DEFAULT_GRACE_MS } from './cleanup.ts';
import { inProcessComputer, type SlateComputer } from './compute.ts';
import type { NightlyUser } from './inputs.ts';
import type { VersionInfo } from './slates.ts';
import { newestUnfinished, saveState, type RunState } from './state.ts';
import { bytesSummary, publishVersion, segmentRequests, slateShape, slateWriter, userRequests, usersOfShard, writeItemCards, writeRunMarker } from './steps.ts';
import { StageTimer } from './timing.ts';

export interface NightlyOptions {
  kv: KvWriter;
  /** The pipeline of the single-thread path (slates computed on this thread); or give computer + modelVersion. */
  pipeline?: Pipeline | undefined;
  /** Opens what computes the slates of this version (e.g. the worker pool, worker-pool.ts); default in-process. */
  computer?: ((version: VersionInfo) => Promise<SlateComputer>) | undefined;
  /** The model version the computer serves (required with `computer`). */
  modelVersion?: string | undefined;
  space: FeatureSpace;
  /** The version's session vectors (ModelArtifacts.sessionVectors): carried by item cards and in-process slates. */
  sessionVectors: Int8Array | undefined;
  items: readonly Item[];
  users: readonly NightlyUser[];
  segments: readonly string[];
  /** Model files the edge loads from KV (modelFileKey), e.g. the session reranker; written before any slate. */
  /** Write only the first N item cards (benchmarks extrapolate the rest; slates still carry every card). */
  itemCardLimit?: number | undefined;
  edgeModelFiles?: readonly { file: string; bytes: Uint8Array }[];
  stateDir: string;
  shards?: number;
  batchSize?: number;
  slateSize?: number;
  resume?: boolean;
  /** Force the version id and its time (reproducible runs, tests); default: now. */
  version?: string;
  at?: number;
  graceMs?: number;
  /** Wall clock for clean-up decisions. */
  now?: () => number;
  onProgress?: (event: { usersDone: number; usersTotal: number }) => void;
  /**
   * Which of these users are erased now (UserSource.erasedAmong). Asked right before each batch of user
   * slates is written and again right after it: a user erased before the write gets no slate, one erased
   * during it has the slate deleted again (and one erased later is removed by the origin's slate eraser,
   * which covers this version through its run marker). A rejection stops the job before the pointer flips.
   */
  erasedAmong?: ((ids: readonly string[]) => Promise<Set<string>>) | undefined;
}

export interface NightlySummary {
  event: 'nightly-summary';
  version: string;
  modelVersion: string;
  resumed: boolean;
  users: number;
  slates: number;
  itemCards: number;
  shards: number;
  shardsSkipped: number;
  /** Users whose slates this process computed (less than users after a resume). */
  usersComputed: number;
  seconds: number;
  usersPerSecond: number;
  usersPerHour: number;
  bytesPerSlate: { p50: number; max: number; mean: number };
  stagesMs: Record<string, number>;
  /** Users skipped (or whose fresh slate was deleted again) because they were erased while the job ran. */
  usersErasedAtWrite: number;
  /** False when a newer version was already live, so the pointer was left alone. */
  flipped: boolean;
  deletedVersions: string[];
}

function fingerprint(users: readonly NightlyUser[], items: readonly Item[], segments: readonly string[]): string {
  let h = fnv1a32(`${users.length}|${items.length}|${segments.join(',')}`);
  for (const user of users) h = fnv1a32(`${h}:${user.id}:${user.history.length}`);
  for (let i = 0; i < items.length; i += 97) h = fnv1a32(`${h}:${items[i]?.id}`);
  return h.toString(16);
}

export async function runNightly(options: NightlyOptions): Promise<NightlySummary> {
  const started = performance.now();
  const timer = new StageTimer();
  const { kv, pipeline, space, sessionVectors } = options;
  const modelVersion = options.modelVersion ?? pipeline?.modelVersion;
  if (!modelVersion) throw new Error('runNightly needs a pipeline, or a computer and its modelVersion');
  const slateSize = options.slateSize ?? 100;
  const batchSize = options.batchSize ?? 256;
  const inputs = fingerprint(options.users, options.items, options.segments);
  // Slates carry their items' cards (one KV read per widget request at the edge).
  const catalog = new Map(options.items.map((item) => [item.id, item]));

  const previous = options.resume ? await newestUnfinished(options.stateDir) : undefined;
  const resumable = previous && previous.modelVersion === modelVersion && previous.inputs === inputs && previous.slateSize === slateSize;
  const at = options.at ?? Date.now();
  const state: RunState = resumable
    ? previous
    : {
        version: options.version ?? newSlateVersion(new Date(at)),
        modelVersion,
        at,
        shards: options.shards ?? 16,
        slateSize,
        inputs,
        itemsDone: false,
        segmentsDone: false,
        doneShards: [],
        slateBytes: [],
        usersDone: 0,
        completed: false,
      };
  // Slates are deterministic (no exploration) and computed for the version's time, so a resume writes the same.
  const shape = slateShape(slateSize, state.at);
  const version: VersionInfo = { slateVersion: state.version, modelVersion: state.modelVersion, at: state.at };
  const shardsSkipped = state.doneShards.length;
  const usersDoneBefore = state.usersDone;
  await saveState(options.stateDir, state);
  await writeRunMarker(kv, state.version, state.at);

  if (!state.itemsDone) {
    // Model files are keyed by model version (shared by every slate version of that model): written first,
    // so the pointer can never name a model whose reranker the edge cannot load.
    const items = options.itemCardLimit === undefined ? options.items : options.items.slice(0, options.itemCardLimit);
    await writeItemCards(kv, timer, { space, sessionVectors, version: state.version, modelVersion: state.modelVersion, items, edgeModelFiles: options.edgeModelFiles });
    state.itemsDone = true;
    await saveState(options.stateDir, state);
  }

  const computer = options.computer ? await options.computer(version) : inProcessComputer(pipeline!, { space, sessionVectors, version, slateSize, catalog });
  // State saves one at a time (shards finish concurrently; each save writes the state as it is then).
  let saving: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => (saving = saving.then(() => saveState(options.stateDir, state)));
  const writer = slateWriter({ kv, computer, timer, slateVersion: state.version, batchSize, erasedAmong: options.erasedAmong, bytes: state.slateBytes });
  try {
    if (!state.segmentsDone) {
      const { subjects, requests } = segmentRequests(options.segments, shape);
      await writer.write(subjects, requests);
      state.segmentsDone = true;
      await saveState(options.stateDir, state);
    }
    options.onProgress?.({ usersDone: state.usersDone, usersTotal: options.users.length });
    // With several workers, two shards are in flight, so the next shard's batches keep the workers busy while the
    // last batches of the previous one finish (one shard of a small run is a single batch, and with shards one
    // after another the second worker sat idle). A shard still counts as done only once all of it is written.
    const pending = Array.from({ length: state.shards }, (_, shard) => shard).filter((shard) => !state.doneShards.includes(shard));
    await pMap(pending, async (shard) => {
      const { subjects, requests } = userRequests(usersOfShard(options.users, shard, state.shards), shape);
      await writer.write(subjects, requests, (n) => {
        state.usersDone += n;
        options.onProgress?.({ usersDone: state.usersDone, usersTotal: options.users.length });
      });
      state.doneShards.push(shard);
      await save();
    }, { concurrency: computer.parallelism === 1 ? 1 : 2 });
  } finally {
    await computer.close();
  }

  const bytes = bytesSummary(state.slateBytes);
  const seconds = (performance.now() - started) / 1000;
  const flipped = await publishVersion(kv, {
    version: state.version,
    modelVersion: state.modelVersion,
    createdAt: state.at,
    users: options.users.length,
    segments: options.segments.length,
    slates: state.slateBytes.length,
    itemCards: options.items.length,
    slateSize,
    bytesPerSlate: bytes,
  });
  state.completed = true;
  await saveState(options.stateDir, state);

  const deletedVersions = await timer.time('cleanup', () => cleanupVersions(kv, (options.now ?? Date.now)(), options.graceMs ?? DEFAULT_GRACE_MS));
  const users = options.users.length;
  return {
    event: 'nightly-summary',
    version: state.version,
    modelVersion: state.modelVersion,
    resumed: Boolean(resumable),
    users,
    slates: state.slateBytes.length,
    itemCards: options.items.length,
    shards: state.shards,
    shardsSkipped,
    usersComputed: state.usersDone - usersDoneBefore,
    seconds: Math.round(seconds * 1000) / 1000,
    usersPerSecond: Math.round((users / seconds) * 10) / 10,
    usersPerHour: Math.round((users * 3600) / seconds),
    bytesPerSlate: bytes,
    stagesMs: timer.totals(),
    usersErasedAtWrite: writer.erased,
    flipped,
    deletedVersions,
  };
}
